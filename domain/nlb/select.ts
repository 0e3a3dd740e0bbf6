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
 *
 * This runs once per RPC call, so the common path (nothing excluded) allocates only the Pick it
 * answers and makes no function: under tsx every function made at run time is also given its
 * name (esbuild's keepNames), which cost more than the pick itself (README, Benchmarks).
 */
import { deadSliceOf, type NlbServer, type NlbState } from './state.ts';
import type { TallyLookup } from './tally.ts';

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
  readonly candidates?: readonly number[];
  readonly live: readonly number[];
  readonly cumulative: readonly number[];
  readonly liveTotal: number;
  readonly dead: readonly number[];
  readonly deadSlice: number;
}

export const randomIndex = (random: Random, n: number): number => Math.min(n - 1, Math.floor(random() * n));

/**
 * Picks a server, or undefined when there is none (or every one is excluded). `excluded`
 * removes servers from this pick only (open circuit breakers, instances already tried).
 */
export function pickServer(state: NlbState, random: Random, tallies: TallyLookup, excluded?: (server: NlbServer) => boolean): Pick | undefined {
  return pickIn(state, excluded ? viewWithout(state, excluded) : state, random, tallies);
}

function pickIn(state: NlbState, view: View, random: Random, tallies: TallyLookup): Pick | undefined {
  const count = view.candidates ? view.candidates.length : state.servers.length;
  if (count === 0) return undefined;
  if (view.live.length === 0 || view.liveTotal <= 0) return uniformPick(state, view, count, random, 'all-dead', state);

  const { liveTotal, dead } = view;
  const point = Math.floor(random() * (liveTotal + view.deadSlice));
  let server: NlbServer;
  let reason: PickReason;
  let after = state;
  if (point >= liveTotal && dead.length > 0 && state.probesLeft > 0) {
    server = state.servers[dead[randomIndex(random, dead.length)]!]!;
    reason = 'probe';
    after = { ...state, probesLeft: state.probesLeft - 1 };
  } else {
    server = state.servers[view.live[sliceAt(view.cumulative, Math.floor(random() * liveTotal))]!]!;
    reason = 'weighted';
  }
  const settings = state.settings;
  const tally = tallies(server.key);
  // trustedSuccessRatio (tally.ts), inline: 1 until the server has shapingRequestMin outcomes.
  if (tally !== undefined && tally.requests >= settings.shapingRequestMin
    && (tally.requests - tally.failures) / tally.requests < settings.successRatioMin) {
    return uniformPick(state, view, count, random, 'uniform', after);
  }
  return { server, reason, state: after };
}

function uniformPick(state: NlbState, view: View, count: number, random: Random, reason: PickReason, after: NlbState): Pick {
  const i = randomIndex(random, count);
  return { server: state.servers[view.candidates ? view.candidates[i]! : i]!, reason, state: after };
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
  const out = state.servers.map(excluded);
  const candidates: number[] = [];
  for (let i = 0; i < out.length; i++) if (!out[i]) candidates.push(i);
  const live: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const i of state.live) {
    if (out[i]) continue;
    live.push(i);
    cumulative.push((total += state.servers[i]!.weight));
  }
  const dead = state.dead.filter((i) => !out[i]);
  const deadSlice = dead.length ? deadSliceOf(total, state.settings) : 0;
  return { candidates, live, cumulative, liveTotal: total, dead, deadSlice };
}
