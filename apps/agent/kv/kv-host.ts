/**
 * The agent's side of the Redis-cluster KV: it starts, stops and removes redis-server
 * instances on this host for signed `kv` commands, and keeps them running. The console talks
 * to the instances itself (CLUSTER MEET, ADDSLOTS, …): the agent only owns processes and files.
 *
 * The instances have a Supervisor of their own (recorded in `<root>/agent/kv.json`, apart from
 * the releases' services.json), so they get what released services get: restarts with backoff,
 * adoption by the next agent (never a second process), and a start of those recorded but not
 * running when the agent starts. Unlike released services, they keep serving when the agent
 * stops, gracefully or not: the next agent adopts them.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { sha256Hex } from '../../../adapters/signing/ed25519.ts';
import type { CommandBody, InstalledService, KvPayload } from '../../../schemas/agent.ts';
import { commandEnv, failed, insideRoot, type Outcome } from '../executors.ts';
import { identify, isAlive, type ProcessIdentity } from '../releases/process-identity.ts';
import { logTails } from '../releases/health.ts';
import { Supervisor, type BackoffPolicy, type ServiceSpec } from '../releases/supervisor.ts';
import { findRedisServer, prepareInstance, removeInstance, writeInstanceFiles } from './kv-files.ts';
import { defaultKvStopTimeoutMs, kvCommandProblem, kvPathOf } from './kv-payload.ts';
import { redisConfig } from './redis-config.ts';
import { portTaken, waitForRedis } from './redis-health.ts';

export interface KvHostOptions {
  /** The agent's root R: instances under R/kv/, their record in R/agent/kv.json. */
  root: string;
  /** The host's address: every instance binds it. */
  ip: string;
  logger?: Logger;
  clock?: () => number;
  backoff?: BackoffPolicy;
  /** How often an adopted instance is looked at (default 500 ms). */
  watchEveryMs?: number;
  /** Where redis-server is looked for (default: the PATH the instances run with). */
  searchPath?: string;
}

export class KvHost {
  private readonly supervisor: Supervisor;
  private readonly stopping = new AbortController();
  /** One operation at a time per instance; instances do not wait for each other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: KvHostOptions) {
    this.supervisor = new Supervisor({
      file: join(options.root, 'agent', 'kv.json'), ip: options.ip,
      ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}), ...(options.watchEveryMs ? { watchEveryMs: options.watchEveryMs } : {}),
    });
  }

  /** When the agent starts: adopts the instances still running, then starts those recorded that do not run. */
  async start(): Promise<void> {
    this.supervisor.adoptRecorded();
    for (const spec of this.supervisor.notRunning()) {
      await this.supervisor.start(spec, { release: false })
        .catch((err: Error) => this.options.logger?.warn({ err, service: spec.service }, `${spec.service} could not be started; trying again with backoff`));
    }
  }

  /** Runs a kv command (after any under way for the same instance); refuses it, touching nothing, unless `body` binds exactly its folder. */
  run(body: Pick<CommandBody, 'paths'>, p: KvPayload): Promise<Outcome> {
    const problem = kvCommandProblem(body, p);
    if (problem) return Promise.resolve(failed(problem));
    const service = kvPathOf(p);
    const next = (this.queues.get(service) ?? Promise.resolve()).then(() => this.runNow(p));
    const settled = next.catch(() => undefined);
    this.queues.set(service, settled);
    void settled.then(() => {
      if (this.queues.get(service) === settled) this.queues.delete(service);
    });
    return next;
  }

  /** The instances supervised here, for heartbeats (`kvInstances`). */
  instances(): InstalledService[] {
    return this.supervisor.list();
  }

  /**
   * The agent stops (an upgrade, a restart): commands under way finish, then the instances are
   * left serving — a cache must not go down, nor its masters fail over, because its agent
   * restarts — and the next agent adopts them.
   */
  async stop(): Promise<void> {
    await Promise.all(this.queues.values());
    this.detach();
  }

  /** Stops at once and leaves the instances running, as a killed agent would: the next agent adopts them. */
  detach(): void {
    this.stopping.abort();
    this.supervisor.detach();
  }

  private async runNow(p: KvPayload): Promise<Outcome> {
    const started = performance.now();
    if (this.stopping.signal.aborted) return failed('the agent is stopping: the kv command was not run', started);
    try {
      const line = p.operation === 'start' ? await this.startInstance(p) : await this.stopInstance(p, p.operation === 'remove');
      return { exitCode: 0, error: '', output: Buffer.from(`${line}\n`), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false };
    } catch (err) {
      return failed((err as Error).message, started);
    }
  }

  private async startInstance(p: KvPayload): Promise<string> {
    const { root, ip } = this.options;
    const service = kvPathOf(p);
    const redisServer = findRedisServer(this.options.searchPath ?? commandEnv().PATH ?? '');
    if (!redisServer) throw new Error(`redis-server is not installed on this host: apt-get install redis-server (Redis 7), then start ${service} again`);
    const current = this.supervisor.list().find((s) => s.service === service);
    let replaced = '';
    if (current) {
      const runs = current.pid > 0 && (current.state === 'running' || current.state === 'starting');
      const running = runs ? identify(current.pid) : undefined;
      if (running && current.configSha256 === this.configShaOf(p)) {
        const tookMs = await this.healthy(service, p, running, true);
        return `already running: redis-server ${service} (pid ${running.pid}) on ${ip}:${p.port}; answers PING after ${tookMs} ms${p.fresh ? ' (data/ not wiped: fresh applies to a start of a stopped instance only)' : ''}`;
      }
      // Another config, or crashing and waiting for its restart: this start replaces it.
      replaced = `; replaced the instance ${running ? 'running another config' : `in state ${current.state}`}: ${await this.supervisor.stop(service, p.stopTimeoutMs || defaultKvStopTimeoutMs)}`;
    }
    let spec: ServiceSpec;
    try {
      for (const port of [p.port, p.port + 10_000]) {
        if (await portTaken(ip, port)) throw new Error(`${ip}:${port} is taken by another program (${port === p.port ? 'the instance\'s port' : 'its cluster bus, port + 10000'}): ${service} was not started`);
      }
      const { installDir, dataDir } = prepareInstance(root, p, p.fresh);
      const config = redisConfig(ip, dataDir, p);
      writeInstanceFiles(root, p, config);
      spec = {
        service, installDir, port: p.port, planId: '', artifactSha256: '', configSha256: sha256Hex(config),
        versionsJson: JSON.stringify({ maxmemoryBytes: p.maxmemoryBytes, maxmemoryPolicy: p.maxmemoryPolicy, nodeTimeoutMs: p.nodeTimeoutMs, appendonly: p.appendonly }),
      };
    } catch (err) {
      // A replaced instance stopped above is not left recorded: the next agent would start it.
      this.supervisor.forget(service);
      throw err;
    }
    let started: ProcessIdentity;
    try {
      started = await this.supervisor.start(spec, { release: true });
    } catch (err) {
      await this.giveUp(service);
      throw new Error(`${service} could not be started: ${(err as Error).message}${logTails(spec.installDir)}`);
    }
    const tookMs = await this.healthy(service, p, started, false);
    this.supervisor.settled(service);
    return `started redis-server ${service} (pid ${started.pid}) on ${ip}:${p.port}; answers PING after ${tookMs} ms${p.fresh ? '; data/ was wiped first (fresh)' : ''}${replaced}`;
  }

  /** The digest of the config a start of `p` writes, or undefined when its folder cannot be named (then it is no match). */
  private configShaOf(p: KvPayload): string | undefined {
    try {
      return sha256Hex(redisConfig(this.options.ip, join(insideRoot(this.options.root, kvPathOf(p)), 'data'), p));
    } catch {
      return undefined;
    }
  }

  /**
   * Waits for PING. An instance just started that never answers is stopped and no longer
   * supervised (no crash loop behind a failed command); one that ran already stays as it is.
   */
  private async healthy(service: string, p: KvPayload, instance: ProcessIdentity, already: boolean): Promise<number> {
    try {
      return await waitForRedis({
        ip: this.options.ip, port: p.port, timeoutMs: p.healthTimeoutMs, pid: instance.pid, installDir: join(this.options.root, service),
        signal: this.stopping.signal, alive: () => isAlive(instance), howItEnded: () => this.supervisor.lastExit(service),
      });
    } catch (err) {
      if (already || this.stopping.signal.aborted) throw new Error(`${already ? `${service} runs already (pid ${instance.pid}), but ` : ''}${(err as Error).message}`);
      await this.giveUp(service);
      throw new Error(`${(err as Error).message}\n(${service} is stopped and no longer supervised; its files and log/ are kept)`);
    }
  }

  private async giveUp(service: string): Promise<void> {
    await this.supervisor.stop(service, defaultKvStopTimeoutMs);
    this.supervisor.forget(service);
  }

  private async stopInstance(p: KvPayload, remove: boolean): Promise<string> {
    const service = kvPathOf(p);
    const known = this.supervisor.list().some((s) => s.service === service);
    const stopped = known ? await this.supervisor.stop(service, p.stopTimeoutMs || defaultKvStopTimeoutMs) : `${service} was not running`;
    this.supervisor.forget(service);
    if (!remove) return `${stopped}; its files are kept`;
    return `${stopped}; ${removeInstance(this.options.root, p) ? `removed ${service}` : `${service} had no files`}`;
  }
}
