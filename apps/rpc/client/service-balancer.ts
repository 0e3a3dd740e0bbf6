/**
 * One service's load balancing in a client: the NLB state for its current routing table, the
 * window's outcome tallies, and shaping once a window has passed. Shaping is driven by the
 * injected clock at the next pick after a window ends (an idle window changes nothing but the
 * probe budget, so catching up in one step is the same), which keeps it free of timers.
 */
import type { Logger } from 'pino';
import type { RouteTable } from '../../../schemas/route-table.ts';
import {
  addOutcome, nlbStateFor, pickServer, recordOutcome, resolveNlbSettings, shapeWindow, weightsOf,
  type NlbServer, type NlbSettings, type NlbState, type PickReason, type Random, type Tally,
} from '../../../domain/nlb/index.ts';
import type { InstanceBreakers } from './breakers.ts';

export interface BalancerDeps {
  settings: Partial<NlbSettings>;
  random: Random;
  clock: () => number;
  breakers: InstanceBreakers;
  logger: Logger;
}

export type BalancerPick =
  | { kind: 'picked'; server: NlbServer; reason: PickReason }
  /** No instance left to try (none in the table, or all tried already). */
  | { kind: 'none' }
  /** Instances are left, but every one's breaker is open. */
  | { kind: 'all-open' };

export interface BalancerSnapshot {
  service: string;
  version: number | undefined;
  /** Console weights (dynamic weight / weightScale) by `ip:port`. */
  weights: Record<string, number>;
  dead: string[];
  probesLeft: number;
  settings: NlbSettings | undefined;
}

export class ServiceBalancer {
  private state: NlbState | undefined;
  private tallies = new Map<string, Tally>();
  private known = new Set<string>();
  private windowStart: number;
  private table: RouteTable | null = null;
  private loggedTuning = '';
  /** Made once: a function made per pick costs more than the pick (domain/nlb/select.ts). */
  private readonly lookup = (key: string): Tally | undefined => this.tallies.get(key);

  constructor(readonly service: string, private readonly deps: BalancerDeps) {
    this.windowStart = deps.clock();
  }

  update(table: RouteTable | null): void {
    this.table = table;
    const { settings, ignored } = resolveNlbSettings(this.deps.settings, table?.tuning ?? {});
    if (ignored.length && ignored.join() !== this.loggedTuning) {
      this.deps.logger.warn({ service: this.service, ignored }, 'ignoring unknown or out-of-range NLB tuning keys');
    }
    this.loggedTuning = ignored.join();
    const previous = this.state && this.state.settings.weightScale === settings.weightScale ? this.state : undefined;
    this.state = nlbStateFor(this.service, table?.instances ?? [], settings, previous);
    this.known = new Set(this.state.servers.map((s) => s.key));
    for (const key of this.tallies.keys()) if (!this.known.has(key)) this.tallies.delete(key);
  }

  pick(tried: ReadonlySet<string>): BalancerPick {
    if (!this.state) return { kind: 'none' };
    this.shapeIfDue();
    const { breakers, random } = this.deps;
    const lookup = this.lookup;
    if (breakers.anyTripped) {
      // What the weights would have sent to an instance the breaker holds off because it cannot
      // be reached counts as a failed call there (it would have been one, as in MSEC, which has
      // no breaker): the NLB shapes its weight down to dead and the probe share, and brings it
      // back step by step once it answers again.
      const first = pickServer(this.state, random, lookup, tried.size > 0 ? (s: NlbServer) => tried.has(s.key) : undefined);
      if (first && breakers.blocks(first.server.key)) {
        this.state = first.state;
        if (breakers.blocksUnreachable(first.server.key)) this.feedback(first.server.key, true, 0);
      } else if (first) {
        this.state = first.state;
        return { kind: 'picked', server: first.server, reason: first.reason };
      }
    }
    const excluded = tried.size > 0 || breakers.anyTripped ? (s: NlbServer) => tried.has(s.key) || breakers.blocks(s.key) : undefined;
    const p = pickServer(this.state, random, lookup, excluded);
    if (p) {
      this.state = p.state;
      return { kind: 'picked', server: p.server, reason: p.reason };
    }
    const untried = this.state.servers.some((s) => !tried.has(s.key));
    return untried ? { kind: 'all-open' } : { kind: 'none' };
  }

  /** One attempt's outcome on an instance of this service. */
  feedback(key: string, failed: boolean, latencyMs: number): void {
    const tally = this.tallies.get(key);
    if (tally) recordOutcome(tally, failed, latencyMs);
    else if (this.known.has(key)) this.tallies.set(key, addOutcome(undefined, failed, latencyMs));
  }

  snapshot(): BalancerSnapshot {
    this.shapeIfDue();
    const s = this.state;
    return {
      service: this.service,
      version: this.table?.version,
      weights: s ? weightsOf(s) : {},
      dead: s ? s.dead.map((i) => s.servers[i]!.key) : [],
      probesLeft: s?.probesLeft ?? 0,
      settings: s?.settings,
    };
  }

  private shapeIfDue(): void {
    const now = this.deps.clock();
    if (!this.state || now - this.windowStart < this.state.settings.windowMs) return;
    const shaped = shapeWindow(this.state, this.tallies, now);
    this.state = shaped.state;
    this.tallies = shaped.carried;
    this.windowStart = now;
  }
}
