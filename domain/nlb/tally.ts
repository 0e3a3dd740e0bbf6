/**
 * Per-server outcomes of the current window (MSEC's updateroute: success / failed counts and
 * the latency sum). Latency is recorded but, as in MSEC, no rule uses it.
 */

export interface Tally {
  requests: number;
  failures: number;
  latencyMsSum: number;
}

export const emptyTally: Readonly<Tally> = Object.freeze({ requests: 0, failures: 0, latencyMsSum: 0 });

/** The tally after one more outcome. */
export function addOutcome(tally: Readonly<Tally> | undefined, failed: boolean, latencyMs: number): Tally {
  const t = tally ?? emptyTally;
  return {
    requests: t.requests + 1,
    failures: t.failures + (failed ? 1 : 0),
    latencyMsSum: t.latencyMsSum + (failed ? 0 : Math.max(0, latencyMs)),
  };
}

/**
 * addOutcome in place, for a tally its caller owns (the client's window: one outcome per call,
 * where a new object per call would be the most of what recording costs).
 */
export function recordOutcome(tally: Tally, failed: boolean, latencyMs: number): void {
  tally.requests++;
  if (failed) tally.failures++;
  else tally.latencyMsSum += Math.max(0, latencyMs);
}

export function mergeTallies(a: Readonly<Tally> | undefined, b: Readonly<Tally> | undefined): Tally {
  const x = a ?? emptyTally;
  const y = b ?? emptyTally;
  return { requests: x.requests + y.requests, failures: x.failures + y.failures, latencyMsSum: x.latencyMsSum + y.latencyMsSum };
}

/**
 * The success ratio selection trusts: 1 until the server has `minRequests` outcomes
 * (MSEC's calc_success_ratio returns 100 then).
 */
export function trustedSuccessRatio(tally: Readonly<Tally> | undefined, minRequests: number): number {
  if (!tally || tally.requests < minRequests) return 1;
  return (tally.requests - tally.failures) / tally.requests;
}

/** Read-only view of the window's tallies, by server key. */
export type TallyLookup = (key: string) => Readonly<Tally> | undefined;
