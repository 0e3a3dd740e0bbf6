/**
 * One service's NLB state, as MSEC's agent keeps it per service (nlb/src/agent/agent.c):
 * static and dynamic weight per server, which servers are dead, the cumulative weights the
 * binary search runs over, the dead servers' shared tail slice and the window's probe budget.
 *
 * The state only changes at a window's end (shaping), on a routing-table change, and when a
 * probe is spent. Per-call outcomes are tallied outside it (see tally.ts), so recording an
 * outcome costs O(1) and never copies the server list.
 */
import { scaledWeight, type NlbSettings } from './settings.ts';

export type NlbProtocol = 'udp' | 'tcp' | 'both';

export interface NlbServer {
  /** `ip:port` */
  readonly key: string;
  readonly ip: string;
  readonly port: number;
  readonly protocol: NlbProtocol;
  /** Console weight × weightScale. */
  readonly staticWeight: number;
  /** Current weight, an integer in 0..staticWeight; 0 while dead. */
  readonly weight: number;
  /** When the server was declared dead (epoch ms), null while alive. */
  readonly deadSince: number | null;
  /**
   * Its host's agent missed its heartbeats (the routing table says so): not picked at all, not
   * even probed, unless every server is down. Back up, it restarts at resumeWeightRatio.
   */
  readonly down: boolean;
}

export interface NlbState {
  readonly service: string;
  readonly settings: NlbSettings;
  /** In routing-table order. */
  readonly servers: readonly NlbServer[];
  /** Indexes (into servers) of the live servers with weight > 0, in table order. */
  readonly live: readonly number[];
  /** cumulative[i] = end (exclusive) of live[i]'s slice of [0, liveTotal). */
  readonly cumulative: readonly number[];
  readonly liveTotal: number;
  /** Indexes of the dead servers. */
  readonly dead: readonly number[];
  /** The dead servers' one shared tail slice: liveTotal × deadRetryRatio + 1 (0 when none is dead). */
  readonly deadSlice: number;
  /** Picks of a dead server left in this window. */
  readonly probesLeft: number;
  /** Servers below weightLowWatermark of their static weight after the last shaping. */
  readonly lowWeightCount: number;
}

/**
 * What the NLB reads of a routing table's instance: the table's own RouteInstance
 * (schemas/route-table.ts) fits it as it is; domain/ imports no schema.
 */
export interface NlbInstance {
  ip: string;
  port: number;
  protocol: NlbProtocol;
  /** Console weight (1–10000). */
  weight: number;
  /** The host is down (the routing table marks it). */
  down?: boolean;
}

export const serverKey = (ip: string, port: number): string => `${ip}:${port}`;

/**
 * The state for a (new or changed) routing table. Servers already known keep their dynamic
 * weight (capped at a lowered static weight) and dead mark; new ones start at full static
 * weight, as MSEC's copy_specified_servers does.
 */
export function nlbStateFor(service: string, instances: readonly NlbInstance[], settings: NlbSettings, previous?: NlbState): NlbState {
  const known = new Map(previous?.servers.map((s) => [s.key, s]));
  // When every host is down the marks say nothing useful: route as if none were.
  const allDown = instances.length > 0 && instances.every((i) => i.down === true);
  const servers = instances.map((i): NlbServer => {
    const key = serverKey(i.ip, i.port);
    const staticWeight = scaledWeight(i.weight, settings);
    const down = i.down === true && !allDown;
    const before = known.get(key);
    if (!before) return { key, ip: i.ip, port: i.port, protocol: i.protocol, staticWeight, weight: staticWeight, deadSince: null, down };
    if (before.down && !down) {
      // Back from down: gradually, as MSEC brought back a server whose heartbeat returned (10 % first).
      return { ...before, protocol: i.protocol, staticWeight, down, deadSince: null, weight: Math.max(1, Math.floor(staticWeight * settings.resumeWeightRatio + 1e-9)) };
    }
    return { ...before, protocol: i.protocol, staticWeight, weight: Math.min(before.weight, staticWeight), down };
  });
  return withLayout({
    service, settings, servers,
    probesLeft: previous?.probesLeft ?? 0,
    lowWeightCount: countLowWeight(servers, settings),
  });
}

type Unlaid = Pick<NlbState, 'service' | 'settings' | 'servers' | 'probesLeft' | 'lowWeightCount'>;

/** Recomputes the live order, cumulative weights and dead slice (MSEC's calc_servers_weight). */
export function withLayout(s: Unlaid): NlbState {
  const live: number[] = [];
  const cumulative: number[] = [];
  const dead: number[] = [];
  let total = 0;
  s.servers.forEach((server, index) => {
    if (server.down) return; // neither picked nor probed
    if (server.deadSince !== null || server.weight <= 0) {
      dead.push(index);
      return;
    }
    total += server.weight;
    live.push(index);
    cumulative.push(total);
  });
  const deadSlice = dead.length ? deadSliceOf(total, s.settings) : 0;
  return { ...s, live, cumulative, liveTotal: total, dead, deadSlice, probesLeft: dead.length ? s.probesLeft : 0 };
}

/** The dead servers' shared slice next to `liveTotal` of live weight (MSEC: weight_total × 0.01 + 1). */
export function deadSliceOf(liveTotal: number, settings: Pick<NlbSettings, 'deadRetryRatio'>): number {
  return Math.max(1, Math.floor(liveTotal * settings.deadRetryRatio + 1));
}

export function countLowWeight(servers: readonly NlbServer[], settings: NlbSettings): number {
  return servers.filter((s) => !s.down && s.weight / s.staticWeight < settings.weightLowWatermark).length;
}

/** Dynamic weights in console units (for inspection and tests): key → weight / weightScale. */
export function weightsOf(state: NlbState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of state.servers) out[s.key] = s.weight / state.settings.weightScale;
  return out;
}
