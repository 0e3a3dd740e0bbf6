/**
 * A circuit breaker per instance, beside the NLB's slower shaping: after `failureThreshold`
 * consecutive failures the instance is skipped by selection for a cool-down; then one trial
 * call goes through (half-open): success closes the breaker, failure opens it again with a
 * doubled cool-down (up to maxCooldownMs). Time is passed in.
 */

export interface BreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

export const defaultBreakerSettings: Readonly<BreakerSettings> = Object.freeze({
  failureThreshold: 5,
  cooldownMs: 1000,
  maxCooldownMs: 30_000,
});

export type BreakerState =
  | { readonly phase: 'closed'; readonly failures: number }
  | { readonly phase: 'open'; readonly until: number; readonly cooldownMs: number }
  | { readonly phase: 'half-open'; readonly trialSince: number; readonly cooldownMs: number };

export const closedBreaker: BreakerState = Object.freeze({ phase: 'closed', failures: 0 });

/** Whether selection must skip the instance now (open and cooling down, or its one trial is out). */
export function breakerBlocks(state: BreakerState, now: number, settings: BreakerSettings): boolean {
  switch (state.phase) {
    case 'closed':
      return false;
    case 'open':
      return now < state.until;
    case 'half-open':
      // A trial that never reported (should not happen) does not block forever.
      return now - state.trialSince < settings.maxCooldownMs;
  }
}

/** The state once a call to the instance starts: the first call after a cool-down is the trial. */
export function breakerOnCall(state: BreakerState, now: number): BreakerState {
  if (state.phase === 'open' && now >= state.until) return { phase: 'half-open', trialSince: now, cooldownMs: state.cooldownMs };
  return state;
}

/** The state after a call to the instance ended. */
export function breakerOnResult(state: BreakerState, failed: boolean, now: number, settings: BreakerSettings): BreakerState {
  switch (state.phase) {
    case 'closed': {
      if (!failed) return state.failures === 0 ? state : closedBreaker;
      const failures = state.failures + 1;
      return failures >= settings.failureThreshold
        ? { phase: 'open', until: now + settings.cooldownMs, cooldownMs: settings.cooldownMs }
        : { phase: 'closed', failures };
    }
    case 'half-open': {
      if (!failed) return closedBreaker;
      const cooldownMs = Math.min(settings.maxCooldownMs, state.cooldownMs * 2);
      return { phase: 'open', until: now + cooldownMs, cooldownMs };
    }
    case 'open':
      // A late answer of a call made before the breaker opened changes nothing.
      return state;
  }
}
