/**
 * The agent keeps the services it installed running: it starts `<install>/bin/start` in its own
 * process group with its output going to log files (open files, not pipes, so the service
 * outlives the agent), restarts it with backoff when it dies, and stops it with SIGTERM, then
 * SIGKILL. What it supervises is recorded in `R/agent/services.json` (pid and start time), so an
 * agent started again — after a crash or kill -9 too — adopts a service still running instead
 * of starting a second copy.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { InstalledService } from '../../../schemas/agent.ts';
import { commandEnv } from '../executors.ts';
import { readJson, writeJsonAtomic } from './json-file.ts';
import { identify, isAlive, signalGroup, type ProcessIdentity } from './process-identity.ts';

/** What a service is, as the supervisor starts it and heartbeats show it. */
export interface ServiceSpec {
  service: string;
  /** Absolute. */
  installDir: string;
  port: number;
  planId: string;
  versionsJson: string;
  artifactSha256: string;
  configSha256: string;
}

export interface BackoffPolicy {
  firstMs: number;
  maxMs: number;
  /** Up this long, the next failure waits `firstMs` again. */
  resetAfterMs: number;
}

export const defaultBackoff: BackoffPolicy = { firstMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

export interface SupervisorOptions {
  /** services.json */
  file: string;
  /** The host's address: MSEC_LISTEN and MSEC_HOST_IP. */
  ip: string;
  logger?: Logger;
  clock?: () => number;
  backoff?: BackoffPolicy;
  /** How often an adopted process (not this agent's child: no exit event) is looked at. */
  watchEveryMs?: number;
}

type State = InstalledService['state'];

interface Supervised {
  spec: ServiceSpec;
  process: ProcessIdentity | undefined;
  state: State;
  sinceMs: number;
  restarts: number;
  /** False while stopped on purpose: its end is not a crash. */
  wanted: boolean;
  backoffMs: number;
  upSinceMs: number;
  lastExit: string;
  /** Bumped at every start, adoption and stop: events of an older process are ignored. */
  generation: number;
  timer: NodeJS.Timeout | undefined;
}

interface Recorded extends ServiceSpec {
  pid: number;
  startTicks: number;
  restarts: number;
}

export class Supervisor {
  private readonly services = new Map<string, Supervised>();
  private readonly clock: () => number;
  private readonly backoff: BackoffPolicy;
  private detached = false;

  constructor(private readonly options: SupervisorOptions) {
    this.clock = options.clock ?? Date.now;
    this.backoff = options.backoff ?? defaultBackoff;
  }

  /** Takes back the services recorded by an agent before this one: those still running are watched, not started again. */
  adoptRecorded(): void {
    const recorded = readJson<{ services: Recorded[] }>(this.options.file)?.services ?? [];
    for (const r of recorded) {
      const { pid, startTicks, restarts, ...spec } = r;
      const s = this.supervised(spec);
      s.restarts = restarts;
      const id = { pid, startTicks };
      if (pid > 0 && isAlive(id)) {
        s.process = id;
        s.upSinceMs = this.clock();
        this.setState(s, 'running');
        this.watchAdopted(s);
        this.options.logger?.info({ service: spec.service, pid }, `adopted ${spec.service} (pid ${pid}), still running from before the agent restarted`);
      }
    }
    if (recorded.length) this.persist();
  }

  /** Recorded services with no process and no restart pending: the agent starts them when it starts. */
  notRunning(): ServiceSpec[] {
    return [...this.services.values()].filter((s) => !s.process && !s.timer).map((s) => s.spec);
  }

  /**
   * Starts the service now (it must not be running). `release`: started by a release, so its
   * restart count begins again and it is `starting` until its health is known.
   */
  async start(spec: ServiceSpec, options: { release: boolean }): Promise<ProcessIdentity> {
    const s = this.supervised(spec);
    if (s.process && isAlive(s.process)) throw new Error(`${spec.service} is running already (pid ${s.process.pid})`);
    s.spec = spec;
    s.wanted = true;
    clearTimeout(s.timer);
    s.timer = undefined;
    if (options.release) {
      s.restarts = 0;
      s.lastExit = '';
      s.backoffMs = this.backoff.firstMs;
    }
    try {
      return await this.spawn(s, options.release ? 'starting' : 'running');
    } catch (err) {
      // Still supervised: it is tried again with backoff, like a crash (the release step fails on it meanwhile).
      this.scheduleRestart(s, (err as Error).message);
      throw err;
    }
  }

  /** SIGTERM to the service's group, SIGKILL after `timeoutMs`; resolves once it is gone. Returns what happened. */
  async stop(service: string, timeoutMs: number): Promise<string> {
    const s = this.services.get(service);
    if (!s) return `${service} was not running`;
    s.wanted = false;
    s.generation++;
    clearTimeout(s.timer);
    s.timer = undefined;
    const p = s.process;
    s.process = undefined;
    let detail = `${service} was not running`;
    if (p && isAlive(p)) {
      signalGroup(p.pid, 'SIGTERM');
      if (await waitUntil(() => !isAlive(p), timeoutMs)) detail = `stopped ${service} (pid ${p.pid}) with SIGTERM`;
      else {
        signalGroup(p.pid, 'SIGKILL');
        await waitUntil(() => !isAlive(p), 10_000);
        detail = `killed ${service} (pid ${p.pid}): still running ${timeoutMs} ms after SIGTERM`;
      }
      // What the service started and left behind in its group goes with it.
      signalGroup(p.pid, 'SIGKILL');
    }
    this.setState(s, 'stopped');
    this.persist();
    return detail;
  }

  /** No longer supervised (after stop): an uninstall, or a rollback to no install. */
  forget(service: string): void {
    const s = this.services.get(service);
    if (!s) return;
    clearTimeout(s.timer);
    s.generation++;
    this.services.delete(service);
    this.persist();
  }

  /** How the last process of the service ended ("" when none did). */
  lastExit(service: string): string {
    return this.services.get(service)?.lastExit ?? '';
  }

  /** A release's health check is over: the service is `running` if its process is. */
  settled(service: string): void {
    const s = this.services.get(service);
    if (s?.state === 'starting' && s.process && isAlive(s.process)) this.setState(s, 'running');
  }

  list(): InstalledService[] {
    return [...this.services.values()].map((s) => ({
      service: s.spec.service, planId: s.spec.planId, versionsJson: s.spec.versionsJson, artifactSha256: s.spec.artifactSha256,
      configSha256: s.spec.configSha256, state: s.state, pid: s.process?.pid ?? 0, restarts: s.restarts, port: s.spec.port, sinceMs: s.sinceMs,
    }));
  }

  /** The agent stops gracefully: so do its services (they stay recorded, and start with the next agent). */
  async stopAll(timeoutMs: number): Promise<void> {
    await Promise.allSettled([...this.services.keys()].map((service) => this.stop(service, timeoutMs)));
  }

  /** Stops watching and leaves every service running, as a killed agent would: the next one adopts them. */
  detach(): void {
    this.detached = true;
    for (const s of this.services.values()) {
      clearTimeout(s.timer);
      s.generation++;
    }
  }

  private supervised(spec: ServiceSpec): Supervised {
    let s = this.services.get(spec.service);
    if (!s) {
      s = {
        spec, process: undefined, state: 'stopped', sinceMs: this.clock(), restarts: 0, wanted: true, backoffMs: this.backoff.firstMs,
        upSinceMs: 0, lastExit: '', generation: 0, timer: undefined,
      };
      this.services.set(spec.service, s);
    }
    return s;
  }

  private async spawn(s: Supervised, state: State): Promise<ProcessIdentity> {
    const { installDir, service, port } = s.spec;
    const logDir = join(installDir, 'log');
    mkdirSync(logDir, { recursive: true, mode: 0o755 });
    const out = openSync(join(logDir, 'stdout.log'), 'a', 0o644);
    const err = openSync(join(logDir, 'stderr.log'), 'a', 0o644);
    let child;
    try {
      child = spawn('./start', [], {
        cwd: join(installDir, 'bin'), stdio: ['ignore', out, err], detached: true,
        env: {
          ...commandEnv(), MSEC_SERVICE: service, MSEC_LISTEN: `${this.options.ip}:${port}`, MSEC_CONFIG: join(installDir, 'etc', 'config.ini'),
          MSEC_HOST_IP: this.options.ip, MSEC_INSTALL_DIR: installDir,
        },
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    if (child.pid === undefined) {
      const why = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`could not be started (${join(installDir, 'bin', 'start')}: ${why.message})`);
    }
    child.unref();
    child.on('error', (e) => this.options.logger?.debug({ err: e, service }, 'a supervised process reported an error'));
    const generation = ++s.generation;
    // Gone already (a start that exits at once): the exit event tells the rest.
    const id = identify(child.pid) ?? { pid: child.pid, startTicks: -1 };
    child.once('exit', (code, signal) => this.exited(s, generation, signal ? `was killed by ${signal}` : `exited with code ${code}`));
    s.process = id;
    s.upSinceMs = this.clock();
    this.setState(s, state);
    this.persist();
    return id;
  }

  /** An adopted process is not this agent's child: its end is noticed by looking. */
  private watchAdopted(s: Supervised): void {
    const generation = ++s.generation;
    const p = s.process!;
    const look = () => {
      if (this.detached || s.generation !== generation) return;
      if (isAlive(p)) s.timer = setTimeout(look, this.options.watchEveryMs ?? 500).unref();
      else {
        s.timer = undefined;
        this.exited(s, generation, 'is gone');
      }
    };
    s.timer = setTimeout(look, this.options.watchEveryMs ?? 500).unref();
  }

  private exited(s: Supervised, generation: number, how: string): void {
    if (this.detached || s.generation !== generation || !s.wanted) return;
    s.process = undefined;
    this.scheduleRestart(s, how);
  }

  /** Waits 1 s, doubling to 30 s while it keeps failing; a run of a minute or more starts the wait over. */
  private scheduleRestart(s: Supervised, why: string): void {
    if (this.detached || !s.wanted) return;
    s.lastExit = why;
    if (this.clock() - s.upSinceMs >= this.backoff.resetAfterMs) s.backoffMs = this.backoff.firstMs;
    const delay = s.backoffMs;
    s.backoffMs = Math.min(delay * 2, this.backoff.maxMs);
    this.setState(s, 'backoff');
    this.persist();
    this.options.logger?.warn({ service: s.spec.service, delayMs: delay, restarts: s.restarts }, `${s.spec.service} ${why}; starting it again in ${delay} ms`);
    const generation = s.generation;
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.detached || s.generation !== generation || !s.wanted) return;
      s.restarts++;
      this.spawn(s, 'running').catch((err: Error) => this.scheduleRestart(s, err.message));
    }, delay).unref();
  }

  private setState(s: Supervised, state: State): void {
    if (s.state !== state) s.sinceMs = this.clock();
    s.state = state;
  }

  private persist(): void {
    if (this.detached) return;
    const services: Recorded[] = [...this.services.values()].map((s) => ({ ...s.spec, pid: s.process?.pid ?? 0, startTicks: s.process?.startTicks ?? 0, restarts: s.restarts }));
    mkdirSync(dirname(this.options.file), { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.options.file, { services });
  }
}

/** Polls `done` every 50 ms; true once it holds, false when `timeoutMs` passed first. */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
