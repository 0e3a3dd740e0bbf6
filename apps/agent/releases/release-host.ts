/**
 * The agent's side of releases: it runs a host's part of a release plan (install, rollback,
 * uninstall; one operation at a time), supervises the services installed, tells heartbeats what
 * runs, and — when the agent starts — adopts the services still running and repairs an
 * operation the previous agent did not finish (apps/agent/releases/journal.ts).
 *
 * Files come through `fetchBlob` (the agent fetches them from the console by digest, bounded by
 * the signed size; tests hand a map), and are checked against their digests here.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { encodeReleaseOutcome, type CommandResult, type InstalledService, type ReleaseOperation, type ReleasePayload } from '../../../schemas/agent.ts';
import { failed, type Outcome } from '../executors.ts';
import { defaultArchiveLimits, type ArchiveLimits } from './archive.ts';
import { InstallLayout } from './install-layout.ts';
import { ReleaseJournal, type JournalEntry } from './journal.ts';
import { install, repairInterrupted, rollback, uninstall, type Operation, type OperationContext } from './release-operations.ts';
import { payloadProblem, serviceName } from './release-payload.ts';
import { Interrupted, StepFailed, StepLog, type OnOutput } from './step-log.ts';
import { Supervisor, type BackoffPolicy } from './supervisor.ts';

export interface ReleaseHostOptions {
  /** The agent's root R: installs under R/msec/, the agent's own state under R/agent/. */
  root: string;
  /** The host's address: services listen on it (MSEC_LISTEN) and are health-checked there. */
  ip: string;
  /** A file's bytes by digest, at most `size` of them (the digest is checked by the caller). */
  fetchBlob(sha256: string, size: number): Promise<Buffer>;
  logger?: Logger;
  clock?: () => number;
  archiveLimits?: ArchiveLimits;
  backoff?: BackoffPolicy;
  /** How often an adopted service is looked at (default 500 ms). */
  watchEveryMs?: number;
  /** How long a graceful stop of the agent gives each service (default 10 s). */
  stopTimeoutMs?: number;
}

/** The command a release runs for: the journal names it, so an interrupted one is reported. */
export interface ReleaseCommand {
  commandId: string;
  sequence: number;
  action: string;
}

const operations: Record<ReleaseOperation, Operation> = { install, rollback, uninstall };

export class ReleaseHost {
  private readonly supervisor: Supervisor;
  private readonly journal: ReleaseJournal;
  private readonly stopping = new AbortController();
  private readonly clock: () => number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ReleaseHostOptions) {
    this.clock = options.clock ?? Date.now;
    const agentDir = join(options.root, 'agent');
    this.supervisor = new Supervisor({
      file: join(agentDir, 'services.json'), ip: options.ip, clock: this.clock,
      ...(options.logger ? { logger: options.logger } : {}), ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.watchEveryMs ? { watchEveryMs: options.watchEveryMs } : {}),
    });
    this.journal = new ReleaseJournal(join(agentDir, 'release-journal.json'));
  }

  /**
   * When the agent starts: adopts the services still running, repairs an operation cut short
   * (its command's failed result is returned, for the agent to report), then starts the
   * installed services that do not run.
   */
  async start(): Promise<CommandResult | undefined> {
    this.supervisor.adoptRecorded();
    const entry = this.journal.read();
    let interrupted: CommandResult | undefined;
    if (entry) {
      let what: string;
      try {
        what = await repairInterrupted(this.context(() => undefined), new InstallLayout(this.options.root, serviceName(entry.service)!, entry.planId), entry);
      } catch (err) {
        what = `repairing it failed: ${(err as Error).message}`;
      }
      this.journal.clear();
      this.options.logger?.warn({ commandId: entry.commandId, service: entry.service, step: entry.step }, `release ${entry.operation} of ${entry.service} was interrupted during ${entry.step || 'its start'}: ${what}`);
      interrupted = {
        commandId: entry.commandId, sequence: entry.sequence, action: entry.action, exitCode: -1,
        error: `interrupted: the agent restarted during ${entry.step || 'its start'}; ${what}`,
        output: new Uint8Array(0), outputBytes: 0, durationMs: Math.max(0, this.clock() - entry.startedAtMs), timedOut: false, data: new Uint8Array(0), dataSha256: '',
      };
    }
    for (const spec of this.supervisor.notRunning()) {
      await this.supervisor.start(spec, { release: false }).catch((err: Error) => this.options.logger?.warn({ err, service: spec.service }, `${spec.service} could not be started; trying again with backoff`));
    }
    return interrupted;
  }

  /** Runs one operation (after any under way); `onOutput` gets the progress lines as they come. */
  run(command: ReleaseCommand, p: ReleasePayload, onOutput?: OnOutput): Promise<Outcome> {
    const next = this.queue.then(() => this.runNow(command, p, onOutput));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** What is installed and supervised here, for heartbeats. */
  installed(): InstalledService[] {
    return this.supervisor.list();
  }

  /** The agent stops gracefully: the operation under way ends, then the services are stopped (and start with the next agent). */
  async stop(): Promise<void> {
    await this.queue;
    this.stopping.abort();
    await this.supervisor.stopAll(this.options.stopTimeoutMs ?? 10_000);
  }

  /** Stops at once and leaves the services running, as a killed agent would: the next agent adopts them and repairs what was under way. */
  detach(): void {
    this.stopping.abort();
    this.supervisor.detach();
  }

  private async runNow(command: ReleaseCommand, p: ReleasePayload, onOutput: OnOutput | undefined): Promise<Outcome> {
    if (this.stopping.signal.aborted) return failed('the agent is stopping: the release was not started');
    const problem = payloadProblem(p);
    if (problem) return { ...failed(problem), data: Buffer.from(encodeReleaseOutcome([])) };
    const layout = new InstallLayout(this.options.root, serviceName(p.service)!, p.planId);
    const entry: JournalEntry = {
      commandId: command.commandId, sequence: command.sequence, action: command.action, planId: p.planId, service: p.service,
      operation: p.operation, step: '', touched: false, startedAtMs: this.clock(),
    };
    this.journal.write(entry);
    const log = new StepLog(this.clock, (step) => {
      entry.step = step;
      this.journal.write(entry);
    }, this.stopping.signal, onOutput);
    const ctx = this.context(() => {
      entry.touched = true;
      this.journal.write(entry);
    });
    try {
      layout.sweepTemporaries();
      await operations[p.operation](ctx, layout, p, log);
      this.journal.clear();
      return log.outcome();
    } catch (err) {
      // Cut short by the agent going away: the journal stays, for the next agent to repair.
      if (err instanceof Interrupted) return log.outcome(err);
      this.journal.clear();
      if (!(err instanceof StepFailed)) this.options.logger?.error({ err, service: p.service }, `release ${p.operation} of ${p.service} failed unexpectedly`);
      return log.outcome(err as Error);
    }
  }

  private context(touch: () => void): OperationContext {
    return {
      root: this.options.root, ip: this.options.ip, supervisor: this.supervisor, fetchBlob: this.options.fetchBlob,
      archiveLimits: this.options.archiveLimits ?? defaultArchiveLimits, clock: this.clock, signal: this.stopping.signal, touch,
    };
  }
}
