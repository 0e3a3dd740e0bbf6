/**
 * Carries out release plans: reads each active plan's stream, asks the pure planner
 * (domain/releases/plan.ts, nextAction) what comes next, and does it — signs a release command
 * for a host's agent, records what the agent reported (each step an event), pauses after a
 * canary, rolls back, ends the plan. Every write is a command on the plan's stream with the
 * expected revision and an id derived from (plan, host, step), so a console that restarts, or
 * two consoles driving one plan, repeat nothing: the second write of a step is absorbed.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { releasePlanDecider, serviceReleasesDecider, nextAction, type ReleasePlanCommand, type ReleasePlanState, type ReleaseStepReport, configForHost, type HostOperation } from '../../../domain/releases/index.ts';
import { serviceDecider } from '../../../domain/services/index.ts';
import { DomainError } from '../../../domain/decider.ts';
import { streams } from '../../../domain/streams.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import type { BlobStore } from '../../../adapters/blobs/filesystem.ts';
import { decodeReleaseOutcome, type ReleaseFile } from '../../../schemas/agent.ts';
import { findAgent, outcomeOf, type CommandOutcome as AgentOutcome } from '../../../projections/agents.ts';
import { activePlans, findPlan } from '../../../projections/releases.ts';
import { firedSince } from '../../../projections/monitoring-queries.ts';
import type { CommandBus, CommandMeta } from '../command-bus.ts';
import { issueCommand } from '../agents/command-issuer.ts';
import type { CommandKeys } from '../agents/command-keys.ts';
import type { ConsoleReads, ProjectionControl } from '../reads.ts';
import { routingProjection } from '../../../projections/routing.ts';
import { KeyedDriver } from '../keyed-driver.ts';

export interface PlanRunnerOptions {
  commands: CommandBus;
  reads: ConsoleReads;
  /** Waits for the routing view to have a change (the drain starts then). */
  projections: Pick<ProjectionControl, 'waitFor'>;
  keys: CommandKeys;
  blobs: BlobStore;
  logger: Logger;
  clock?: () => number;
  /** How often active plans are looked at (ms). */
  pollMs?: number;
  /** Waits (drain before a stop); tests shorten nothing here, plans carry their own drain. */
  sleep?: (ms: number) => Promise<void>;
}

/** A command id made from the plan and the step, UUID-shaped (the store's idempotency key). */
export function stepId(planId: string, ...parts: string[]): string {
  const x = createHash('sha256').update([planId, ...parts].join('\0')).digest('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-8${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

export class PlanRunner {
  private readonly clock: () => number;
  /** Plans this process has re-sent its in-flight commands for (once per plan after a start). */
  private readonly resumed = new Set<string>();
  private readonly driver: KeyedDriver;

  constructor(private readonly o: PlanRunnerOptions) {
    this.clock = o.clock ?? Date.now;
    this.driver = new KeyedDriver({
      keys: () => activePlans(this.o.reads.releases()).map((p) => p.planId),
      drive: (planId) => this.drive(planId),
      failed: (planId, err) => this.o.logger.warn({ err, planId }, `release plan ${planId}: ${err.message}; trying again`),
      pollMs: o.pollMs ?? 200,
    });
  }

  start(): void {
    this.driver.start();
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }

  /** Drives one plan now (a no-op while it is being driven). */
  nudge(planId: string): void {
    this.driver.nudge(planId);
  }

  private get stopped(): boolean {
    return this.driver.isStopped;
  }

  private async drive(planId: string): Promise<void> {
    const stream = streams.release(planId);
    for (let round = 0; round < 1000 && !this.stopped; round++) {
      const state = await this.o.commands.state(stream, releasePlanDecider);
      const plan = state.plan;
      if (!plan) return;
      if (!this.resumed.has(planId)) {
        this.resumed.add(planId);
        await this.resendInFlight(state);
      }
      if (await this.collectOutcomes(state)) continue;
      const alarm = plan.autoRollback ? this.alarmSince(state) : undefined;
      const action = nextAction(state, { nowMs: this.clock(), ...(alarm ? { alarm } : {}) });
      switch (action.kind) {
        case 'idle':
        case 'wait':
          return;
        case 'timeout':
          await this.record({
            type: 'RecordReleaseHostOutcome', planId, ip: action.ip, operation: action.operation, commandId: action.commandId, ok: false,
            error: `the agent of ${action.ip} did not answer within ${Math.round(plan.hostTimeoutMs / 1000)} s (is it down? msec agents)`, output: '', steps: [], atMs: this.clock(),
          }, stepId(planId, action.ip, action.operation, 'timeout'));
          break;
        case 'pause-canary':
          await this.record({ type: 'PauseRelease', planId, why: 'canary' }, stepId(planId, 'canary-pause'));
          return;
        case 'rollback':
          this.o.logger.warn({ planId, reason: action.reason }, `release plan ${planId} rolls back: ${action.reason}`);
          await this.record({ type: 'StartReleaseRollback', planId, reason: action.reason }, stepId(planId, 'auto-rollback'));
          break;
        case 'finish': {
          await this.record({ type: 'FinishRelease', planId }, stepId(planId, 'finish', state.status));
          await this.o.commands.execute(streams.releases(plan.service), serviceReleasesDecider,
            { type: 'EndReleaseRun', service: plan.service, planId }, this.meta(planId, stepId(planId, 'end-run', state.status)));
          return;
        }
        case 'dispatch':
          await this.dispatch(state, action.operation, action.ips);
          break;
      }
    }
  }

  private meta(planId: string, commandId: string): CommandMeta {
    const view = findPlan(this.o.reads.releases(), planId);
    return { commandId, actor: view?.createdBy || 'msec', reason: `release plan ${planId}`, at: this.clock() };
  }

  private async record(command: ReleasePlanCommand, commandId: string): Promise<void> {
    await this.o.commands.execute(streams.release(command.planId), releasePlanDecider, command, this.meta(command.planId, commandId));
  }

  /** The latest alarm of the service raised since the plan started, if any. */
  private alarmSince(state: ReleasePlanState): string | undefined {
    const plan = state.plan!;
    const started = Math.min(...state.hosts.map((h) => h.install?.dispatchedAtMs ?? Infinity));
    if (!Number.isFinite(started)) return undefined;
    const fired = firedSince(this.o.reads.monitoring(), plan.service, started);
    const last = fired.raised[fired.raised.length - 1];
    return last ? `${last.name} ${last.alarmType}${last.ip ? ` at ${last.ip}` : ''} = ${last.value}` : undefined;
  }

  /** Outcomes the agents reported for this plan's commands, recorded on the plan. True when one was. */
  private async collectOutcomes(state: ReleasePlanState): Promise<boolean> {
    const plan = state.plan!;
    const agents = this.o.reads.agents();
    let recorded = false;
    for (const h of state.hosts) {
      for (const operation of ['install', 'rollback'] as const) {
        const run = h[operation];
        if (!run || run.ok !== undefined) continue;
        const outcome = outcomeOf(agents, h.ip, run.commandId);
        if (!outcome) continue;
        const { ok, error, output, steps } = this.readOutcome(outcome);
        // Back in routing before the host counts as done: a restart of the console in between repeats this (a no-op), never skips it.
        if (ok && plan.enable && steps.some((s) => s.step === 'started' && s.ok)) await this.setEnabled(plan.service, plan.planId, h.ip, h.port, true, operation);
        await this.record({
          type: 'RecordReleaseHostOutcome', planId: plan.planId, ip: h.ip, operation, commandId: run.commandId, ok, error, output, steps, atMs: this.clock(),
        }, stepId(plan.planId, h.ip, operation, 'outcome'));
        recorded = true;
      }
    }
    return recorded;
  }

  private readOutcome(outcome: AgentOutcome): { ok: boolean; error: string; output: string; steps: ReleaseStepReport[] } {
    if (outcome.kind === 'refused') {
      return { ok: false, error: `the agent refused the command (${outcome.reason}${outcome.detail ? `: ${outcome.detail}` : ''})`, output: '', steps: [] };
    }
    let steps: ReleaseStepReport[] = [];
    const data = outcome.dataSha256 ? this.o.blobs.get(outcome.dataSha256) : undefined;
    if (data) {
      try {
        steps = decodeReleaseOutcome(data).map((s) => ({ step: s.step, ok: s.ok, detail: s.detail, atMs: s.atMs }));
      } catch {
        steps = [];
      }
    }
    const output = Buffer.from(outcome.output, 'base64').toString('utf8');
    const ok = outcome.exitCode === 0;
    return { ok, error: ok ? '' : outcome.error || `exit code ${outcome.exitCode}`, output, steps };
  }

  /** Answers the position of the change in the log (0 when there was none to make). */
  private async setEnabled(service: string, planId: string, ip: string, port: number, enabled: boolean, operation: HostOperation): Promise<number> {
    try {
      const outcome = await this.o.commands.execute(streams.service(service), serviceDecider,
        { type: enabled ? 'EnableHost' : 'DisableHost', service, ip, port }, this.meta(planId, stepId(planId, ip, operation, enabled ? 'enable' : 'disable')));
      return outcome.position;
    } catch (err) {
      // A host removed from the service meanwhile is not routed anyway.
      if (!(err instanceof DomainError && err.code === 'not_found')) throw err;
      return 0;
    }
  }

  private async dispatch(state: ReleasePlanState, operation: HostOperation, ips: string[]): Promise<void> {
    const plan = state.plan!;
    const hosts = state.hosts.filter((h) => ips.includes(h.ip));
    if (plan.enable) {
      const routed = new Set((this.o.reads.route(plan.service)?.instances ?? []).map((i) => `${i.ip}:${i.port}`));
      const leaving = hosts.filter((h) => routed.has(`${h.ip}:${h.port}`));
      let upTo = 0;
      for (const h of leaving) upTo = Math.max(upTo, await this.setEnabled(plan.service, plan.planId, h.ip, h.port, false, operation));
      // Clients learn of the change (ZooKeeper or the console's watch) before the process stops:
      // the drain counts from when the routing view has it (a busy projector may lag the write).
      if (upTo > 0) await this.o.projections.waitFor(upTo, 30_000, { projections: [routingProjection.name] });
      if (leaving.length && plan.drainSeconds > 0) await (this.o.sleep ?? sleep)(plan.drainSeconds * 1000);
    }
    for (const h of hosts) {
      const commandId = uuidv7(this.clock());
      await this.record({ type: 'DispatchReleaseHost', planId: plan.planId, ip: h.ip, operation, commandId, atMs: this.clock() }, stepId(plan.planId, h.ip, operation, 'dispatch'));
      // The plan may have recorded another id for this host (a racing console): send that one.
      const fresh = await this.o.commands.state(streams.release(plan.planId), releasePlanDecider);
      const run = fresh.hosts.find((x) => x.ip === h.ip)?.[operation];
      if (run) await this.send(fresh, h.ip, operation, run.commandId);
    }
  }

  /** After a console restart: commands recorded as sent may not have been signed yet; sending again is absorbed by their id. */
  private async resendInFlight(state: ReleasePlanState): Promise<void> {
    const agents = this.o.reads.agents();
    for (const h of state.hosts) {
      for (const operation of ['install', 'rollback'] as const) {
        const run = h[operation];
        if (!run || run.ok !== undefined) continue;
        const agent = findAgent(agents, h.ip);
        if (agent?.pending.some((p) => p.commandId === run.commandId) || outcomeOf(agents, h.ip, run.commandId)) continue;
        await this.send(state, h.ip, operation, run.commandId);
      }
    }
  }

  /** Signs the host's release command (idempotent by its id) or records why it could not be sent. */
  private async send(state: ReleasePlanState, ip: string, operation: HostOperation, commandId: string): Promise<void> {
    const plan = state.plan!;
    const host = state.hosts.find((h) => h.ip === ip)!;
    try {
      const files: ReleaseFile[] = [];
      let config: ReleaseFile | null = null;
      let artifact: ReleaseFile | null = null;
      const libraries: ReleaseFile[] = [];
      if (operation === 'install') {
        if (plan.configSha256) {
          const text = this.o.blobs.get(plan.configSha256);
          if (!text) throw new DomainError('not_found', `the config ${plan.configTag} of the plan is missing from the console's file store`);
          const hostConfig = Buffer.from(configForHost(text.toString('utf8'), host.port));
          const { sha256, size } = this.o.blobs.put(hostConfig);
          config = { name: '', sha256, size };
          files.push(config);
        }
        if (plan.artifactSha256) {
          if (!this.o.blobs.has(plan.artifactSha256)) throw new DomainError('not_found', `the artifact ${plan.artifactTag} is missing from the console's file store: upload it again (msec artifact put)`);
          artifact = { name: '', sha256: plan.artifactSha256, size: plan.artifactSize };
          files.push(artifact);
        }
        for (const l of plan.libraries) {
          if (!this.o.blobs.has(l.sha256)) throw new DomainError('not_found', `the library file ${l.name} is missing from the console's file store: upload it again (msec library put)`);
          libraries.push({ name: l.name, sha256: l.sha256, size: l.size });
          files.push(l);
        }
      }
      const [first, second] = plan.service.split('.') as [string, string];
      await issueCommand(this.o.commands, this.o.keys, {
        ip, action: 'release', ttlMs: plan.hostTimeoutMs,
        summary: `${operation} ${plan.service} (release plan ${plan.planId}${operation === 'install' ? `, ${plan.releaseType.replace('_', ' ')}` : ''})`,
        paths: [`msec/${first}/${second}`], fileSha256: [...new Set(files.map((f) => f.sha256))],
        payload: {
          planId: plan.planId, service: plan.service, operation, releaseType: operation === 'install' ? plan.releaseType : '',
          artifact, config, libraries, port: host.port, healthTimeoutMs: plan.healthTimeoutMs, stopTimeoutMs: 10_000,
          versionsJson: JSON.stringify({ config: plan.configTag, idl: plan.idlTag, artifact: plan.artifactTag }),
        },
      }, this.meta(plan.planId, commandId));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await this.record({
        type: 'RecordReleaseHostOutcome', planId: plan.planId, ip, operation, commandId, ok: false, error: `not sent: ${err.message}`, output: '', steps: [], atMs: this.clock(),
      }, stepId(plan.planId, ip, operation, 'not-sent'));
    }
  }
}
