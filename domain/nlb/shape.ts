/**
 * Shaping at the end of a window (MSEC's update_config → shaping_servers → calc_servers_weight,
 * nlb/src/agent/agent.c), with s = a server's success ratio over its outcomes:
 *  - s ≥ base: a dead server revives at resumeWeightRatio of its static weight; a live one gains
 *    weightIncrRatio of its static weight, capped at the static weight;
 *  - s = 0: the server is dead (weight 0; it shares the dead tail slice and gets probes);
 *  - otherwise, while weights may decrease: weight ← ⌊weight × s²⌋ (0 → dead).
 * The global floor: when more than weightLowRatio of the servers were below weightLowWatermark
 * of their static weight after the previous window, base becomes min(average success ratio,
 * successRatioBase) and no weight decreases, so one bad window cannot starve a whole service.
 *
 * A live server's outcomes count only once it has shapingRequestMin of them; until then they
 * carry over to the next window (MSEC's copy_servers with `lower`). A dead server's always count.
 * The next window's probe budget is deadRetryRatio of the requests counted here (at least 1).
 */
import { countLowWeight, withLayout, type NlbServer, type NlbState } from './state.ts';
import { type Tally } from './tally.ts';

export interface Shaped {
  state: NlbState;
  /** Outcomes not used yet (live servers under shapingRequestMin): the next window starts with them. */
  carried: Map<string, Tally>;
}

/** Ratios this close to 0 are 0 (MSEC: 0.00001). */
const zeroRatio = 0.00001;

export function shapeWindow(state: NlbState, tallies: ReadonlyMap<string, Readonly<Tally>>, now: number): Shaped {
  const { settings } = state;
  const carried = new Map<string, Tally>();
  const counted = new Map<string, Readonly<Tally>>();
  let requests = 0;
  let failures = 0;
  for (const server of state.servers) {
    const t = tallies.get(server.key);
    if (!t || t.requests === 0) continue;
    if (server.deadSince === null && t.requests < settings.shapingRequestMin) {
      carried.set(server.key, { ...t });
      continue;
    }
    counted.set(server.key, t);
    requests += t.requests;
    failures += t.failures;
  }

  const up = state.servers.filter((s) => !s.down).length;
  const floorHolds = up > 0 && state.lowWeightCount / up > settings.weightLowRatio;
  const average = requests === 0 ? 1 : (requests - failures) / requests;
  const base = floorHolds ? Math.min(average, settings.successRatioBase) : settings.successRatioBase;
  const servers = state.servers.map((server) => shapeServer(server, counted.get(server.key), base, !floorHolds, state, now));

  const probes = Math.max(1, floorOf(requests * settings.deadRetryRatio));
  return {
    state: withLayout({ service: state.service, settings, servers, probesLeft: probes, lowWeightCount: countLowWeight(servers, settings) }),
    carried,
  };
}

/** ⌊x⌋ that forgives binary fractions: 10000 × 0.7² is 4900, not 4899. */
const floorOf = (x: number): number => Math.floor(x + 1e-9);

function shapeServer(server: NlbServer, t: Readonly<Tally> | undefined, base: number, mayDecrease: boolean, state: NlbState, now: number): NlbServer {
  if (!t || t.requests === 0) return server;
  const { resumeWeightRatio, weightIncrRatio } = state.settings;
  const s = (t.requests - t.failures) / t.requests;
  if (s >= base) {
    if (server.deadSince !== null) {
      return { ...server, deadSince: null, weight: Math.max(1, floorOf(server.staticWeight * resumeWeightRatio)) };
    }
    if (server.weight === server.staticWeight) return server;
    const step = Math.max(1, floorOf(server.staticWeight * weightIncrRatio));
    return { ...server, weight: Math.min(server.staticWeight, server.weight + step) };
  }
  if (s <= zeroRatio) return dead(server, now);
  if (!mayDecrease || server.deadSince !== null) return server;
  const weight = floorOf(server.weight * s * s);
  return weight === 0 ? dead(server, now) : { ...server, weight };
}

function dead(server: NlbServer, now: number): NlbServer {
  return { ...server, weight: 0, deadSince: server.deadSince ?? now };
}
