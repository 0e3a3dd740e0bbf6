/**
 * Picking a server (MSEC's search_route, nlb/src/api/nlbapi.c):
 *  1. a random point in [0, liveTotal + deadSlice); in the dead servers' tail slice, and while
 *     the window's probe budget lasts, a dead server is picked uniformly (a probe);
 *  2. otherwise a random point in [0, liveTotal), found by binary search over the cumulative
 *     dynamic weights;
 *  3. if the picked server's success ratio this window is below successRatioMin (once it has
 *     shapingRequestMin outcomes), a server is picked uniformly at random instead;
 *  4. with no live weight at all, any server is picked uniformly.
 * The random source is passed in (values in [0, 1)), so specs can be exact.
 */
import { deadSliceOf, type NlbServer, type NlbState } from './state.ts';
import { trustedSuccessRatio, type TallyLookup } from './tally.ts';

export type Random = () => number;

export type PickReason = 'weighted' | 'probe' | 'uniform' | 'all-dead';

export interface Pick {
  server: NlbServer;
  reason: PickReason;
  /** The state after the pick: a probe spends one unit of the window's budget. */
  state: NlbState;
}

/** The part of the state a pick reads; rebuilt without the excluded servers when there are any. */
interface View {
  /** Indexes of the servers that may be picked; undefined: all of them. */
  candidates?: readonly number[];
  live: readonly number[];
  cumulative: readonly number[];
  liveTotal: number;
  dead: readonly number[];
  deadSlice: number;
}

export const randomIndex = (random: Random, n: number): number => Math.min(n - 1, Math.floor(random() * n));

/**
 * Picks a server, or undefined when there is none (or every one is excluded). `excluded`
 * removes servers from this pick only (open circuit breakers, instances already tried).
 */
export function pickServer(state: NlbState, random: Random, tallies: TallyLookup, excluded?: (server: NlbServer) => boolean): Pick | undefined {
  const view: View = excluded ? viewWithout(state, excluded) : state;
  const candidates = view.candidates;
  const count = candidates ? candidates.length : state.servers.length;
  if (count === 0) return undefined;
  const uniform = (reason: PickReason): Pick => {
    const i = randomIndex(random, count);
    return { server: state.servers[candidates ? candidates[i]! : i]!, reason, state };
  };
  if (view.live.length === 0 || view.liveTotal <= 0) return uniform('all-dead');

  let pick: Pick;
  const point = Math.floor(random() * (view.liveTotal + view.deadSlice));
  if (point >= view.liveTotal && view.dead.length > 0 && state.probesLeft > 0) {
    const server = state.servers[view.dead[randomIndex(random, view.dead.length)]!]!;
    pick = { server, reason: 'probe', state: { ...state, probesLeft: state.probesLeft - 1 } };
  } else {
    const server = state.servers[view.live[sliceAt(view.cumulative, Math.floor(random() * view.liveTotal))]!]!;
    pick = { server, reason: 'weighted', state };
  }
  const { successRatioMin, shapingRequestMin } = state.settings;
  if (trustedSuccessRatio(tallies(pick.server.key), shapingRequestMin) < successRatioMin) {
    return { ...uniform('uniform'), state: pick.state };
  }
  return pick;
}

/** The index of the slice holding `point`: the first i with cumulative[i] > point. */
export function sliceAt(cumulative: readonly number[], point: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (cumulative[mid]! > point) high = mid;
    else low = mid + 1;
  }
  return low;
}

function viewWithout(state: NlbState, excluded: (server: NlbServer) => boolean): View {
  const out = (i: number) => excluded(state.servers[i]!);
  const candidates = state.servers.map((_, i) => i).filter((i) => !out(i));
  const live = state.live.filter((i) => !out(i));
  const cumulative: number[] = [];
  let total = 0;
  for (const i of live) cumulative.push((total += state.servers[i]!.weight));
  const dead = state.dead.filter((i) => !out(i));
  const deadSlice = dead.length ? deadSliceOf(total, state.settings) : 0;
  return { candidates, live, cumulative, liveTotal: total, dead, deadSlice };
}
