/** The client's circuit breakers, one per instance (`ip:port`), whatever target reached it. */
import {
  breakerBlocks, breakerOnCall, breakerOnResult, closedBreaker, defaultBreakerSettings,
  type BreakerSettings, type BreakerState,
} from '../../../domain/nlb/index.ts';

export class InstanceBreakers {
  private readonly states = new Map<string, BreakerState>();
  /** Keys whose breaker is open or half-open. */
  private readonly tripped = new Set<string>();
  /** Keys whose last failure was not reaching the instance at all (refused, connection lost). */
  private readonly unreachable = new Set<string>();
  readonly settings: BreakerSettings;

  constructor(settings: Partial<BreakerSettings> = {}, private readonly clock: () => number = Date.now) {
    this.settings = { ...defaultBreakerSettings, ...settings };
  }

  /** Whether any breaker is not closed (selection then has to look at each candidate). */
  get anyTripped(): boolean {
    return this.tripped.size > 0;
  }

  blocks(key: string): boolean {
    const s = this.states.get(key);
    return s !== undefined && breakerBlocks(s, this.clock(), this.settings);
  }

  onCall(key: string): void {
    const s = this.states.get(key);
    if (s) this.set(key, breakerOnCall(s, this.clock()));
  }

  /** `unreachable`: the failure was not reaching the instance (connect refused, connection lost). */
  onResult(key: string, failed: boolean, unreachable = false): void {
    const next = breakerOnResult(this.states.get(key) ?? closedBreaker, failed, this.clock(), this.settings);
    if (failed && unreachable) this.unreachable.add(key);
    else this.unreachable.delete(key);
    this.set(key, next);
  }

  /**
   * Open because the instance could not be reached: a call sent there would certainly fail,
   * so the NLB may count it as a failure (a breaker opened by slow or failing handlers is not
   * counted: the NLB judges those by the calls that really ran).
   */
  blocksUnreachable(key: string): boolean {
    return this.unreachable.has(key) && this.blocks(key);
  }

  /** Only breakers with something to remember are kept, so a healthy client keeps none. */
  private set(key: string, state: BreakerState): void {
    if (state.phase === 'closed' && state.failures === 0) this.states.delete(key);
    else this.states.set(key, state);
    if (state.phase === 'closed') this.tripped.delete(key);
    else this.tripped.add(key);
  }

  state(key: string): BreakerState {
    return this.states.get(key) ?? closedBreaker;
  }
}
