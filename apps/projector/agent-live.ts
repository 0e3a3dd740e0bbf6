/**
 * What agents report that is not an event: each host's last heartbeat and load (the hosts
 * view), and the liveness monitor that turns silence into events. A host whose heartbeats stop
 * for three of its intervals is marked down (AgentDown on its stream: routing marks its
 * instances, the audit shows it); its next heartbeat marks it up again (AgentUp).
 */
import type { Logger } from 'pino';
import type { Heartbeat } from '../../schemas/agent.ts';
import type { AgentsState } from '../../projections/agents.ts';

export interface LiveHost {
  ip: string;
  lastSeenAtMs: number;
  /** The report sequence of the last heartbeat taken (later ones must be higher). */
  sequence: number;
  heartbeat: Heartbeat;
}

export const missedBeatsForDown = 3;

export class AgentLiveView {
  private readonly hosts = new Map<string, LiveHost>();
  private readonly startedAtMs: number;

  constructor(private readonly clock: () => number = Date.now, readonly defaultIntervalMs = 20_000) {
    this.startedAtMs = clock();
  }

  /** Takes a heartbeat; false when it is not newer than the last one taken from that host. */
  beat(ip: string, sequence: number, heartbeat: Heartbeat): boolean {
    const known = this.hosts.get(ip);
    if (known && sequence <= known.sequence) return false;
    this.hosts.set(ip, { ip, lastSeenAtMs: this.clock(), sequence, heartbeat });
    return true;
  }

  get(ip: string): LiveHost | undefined {
    return this.hosts.get(ip);
  }

  all(): LiveHost[] {
    return [...this.hosts.values()];
  }

  /** Forgets a host (revoked, or enrolled again with another key). */
  forget(ip: string): void {
    this.hosts.delete(ip);
  }

  /** Whether a host is silent for three of its intervals (hosts never heard of count from this view's start). */
  silent(ip: string): { silent: boolean; lastSeenAtMs: number } {
    const known = this.hosts.get(ip);
    const interval = known?.heartbeat.intervalMs || this.defaultIntervalMs;
    const lastSeenAtMs = known?.lastSeenAtMs ?? this.startedAtMs;
    return { silent: this.clock() - lastSeenAtMs > missedBeatsForDown * interval, lastSeenAtMs };
  }

  /** A JSON copy, for consoles in other processes. */
  snapshot(): { at: number; hosts: LiveHost[] } {
    return { at: this.clock(), hosts: this.all() };
  }
}

export interface LivenessActions {
  down(ip: string, lastSeenAtMs: number): Promise<unknown>;
  up(ip: string): Promise<unknown>;
}

/**
 * Checks every active agent against the live view, twice per shortest interval, and records
 * changes of up/down as events. Failures are logged and tried again at the next check.
 */
export class LivenessMonitor {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly live: AgentLiveView,
    private readonly agents: () => AgentsState,
    private readonly actions: LivenessActions,
    private readonly logger: Logger,
    private readonly everyMs = Math.max(100, Math.floor(live.defaultIntervalMs / 2)),
  ) {}

  start(): void {
    const tick = () => {
      this.checking = this.check().catch((err) => this.logger.warn({ err }, 'agent liveness check failed; trying again'));
      void this.checking.finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.nextDelay()).unref();
      });
    };
    this.timer = setTimeout(tick, this.nextDelay()).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** One pass: down for the silent, up for the heard-from. */
  async check(): Promise<void> {
    for (const agent of this.agents().agents) {
      if (agent.revoked) continue;
      const { silent, lastSeenAtMs } = this.live.silent(agent.ip);
      if (silent && !agent.down) {
        this.logger.warn({ ip: agent.ip, lastSeenAtMs }, `agent of ${agent.ip} missed ${missedBeatsForDown} heartbeats: marking it down`);
        await this.actions.down(agent.ip, lastSeenAtMs);
      } else if (!silent && agent.down && this.live.get(agent.ip)) {
        this.logger.info({ ip: agent.ip }, `agent of ${agent.ip} beats again: marking it up`);
        await this.actions.up(agent.ip);
      }
    }
  }

  private nextDelay(): number {
    const shortest = Math.min(this.everyMs * 2, ...this.live.all().map((h) => h.heartbeat.intervalMs || this.everyMs * 2));
    return Math.max(100, Math.floor(shortest / 2));
  }
}
