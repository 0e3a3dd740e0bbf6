/**
 * NLB specifications read as sentences:
 *
 *   given({ a: 100, b: 100 }).when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 81 });
 *
 * Servers are named by letters (a = 10.0.0.1:7963, …); weights are console weights (the
 * internal scaled weight / weightScale); `when` is one shaping window of outcomes per server,
 * as [successes, failures]; `then` checks every server's weight, 'dead' for dead ones.
 */
import assert from 'node:assert/strict';
import { nlbStateFor, resolveNlbSettings, shapeWindow, addOutcome, mergeTallies, type NlbSettings, type NlbState, type Tally } from '../../../domain/nlb/index.ts';

export type Outcomes = [successes: number, failures: number];
export const ok = (n: number): Outcomes => [n, 0];
export const fail = (n: number): Outcomes => [0, n];

export const ipOf = (name: string) => `10.0.0.${name.charCodeAt(0) - 96}`;
export const keyOf = (name: string) => `${ipOf(name)}:7963`;
export const nameOf = (key: string) => String.fromCharCode(Number(key.split(':')[0]!.split('.')[3]) + 96);

export function instances(weights: Record<string, number>) {
  return Object.entries(weights).map(([name, weight]) => ({ ip: ipOf(name), port: 7963, protocol: 'both' as const, weight }));
}

export function tallies(window: Record<string, Outcomes>): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const [name, [good, bad]] of Object.entries(window)) {
    let t: Tally | undefined;
    for (let i = 0; i < good; i++) t = addOutcome(t, false, 1);
    for (let i = 0; i < bad; i++) t = addOutcome(t, true, 0);
    if (t) out.set(keyOf(name), t);
  }
  return out;
}

export function settings(tuning: Record<string, number> = {}, base: Partial<NlbSettings> = {}): NlbSettings {
  return resolveNlbSettings(base, tuning).settings;
}

export function weights(state: NlbState): Record<string, number | 'dead'> {
  const out: Record<string, number | 'dead'> = {};
  for (const s of state.servers) out[nameOf(s.key)] = s.deadSince !== null ? 'dead' : s.weight / state.settings.weightScale;
  return out;
}

export interface NlbSpec {
  readonly state: NlbState;
  /** One window ends at `now` with these outcomes (plus what earlier windows carried). */
  when(window: Record<string, Outcomes>, now?: number): NlbSpec;
  then(expected: Record<string, number | 'dead'>): NlbSpec;
  /** The routing table changes. */
  whenTable(weights: Record<string, number>): NlbSpec;
}

export function given(initial: Record<string, number>, tuning: Record<string, number> = {}): NlbSpec {
  const s = settings(tuning);
  let state = nlbStateFor('A.b', instances(initial), s);
  let carried = new Map<string, Tally>();
  let clock = 0;
  const spec: NlbSpec = {
    get state() {
      return state;
    },
    when(window, now) {
      clock = now ?? clock + s.windowMs;
      const all = tallies(window);
      for (const [k, t] of carried) all.set(k, mergeTallies(all.get(k), t));
      ({ state, carried } = shapeWindow(state, all, clock));
      return spec;
    },
    then(expected) {
      assert.deepEqual(weights(state), expected);
      return spec;
    },
    whenTable(table) {
      state = nlbStateFor('A.b', instances(table), s, state);
      return spec;
    },
  };
  return spec;
}

/** A random source that plays the given values in order (and fails the spec when they run out). */
export function playing(...values: number[]): () => number {
  let i = 0;
  return () => {
    assert.ok(i < values.length, `the pick asked for random value #${i + 1}; the spec gave ${values.length}`);
    return values[i++]!;
  };
}

export { seededRandom as seeded } from '../support/seeded-random.ts';
