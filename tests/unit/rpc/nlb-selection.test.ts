/** Selection specs: weighted random, the dead servers' probe slice and budget, the uniform rule. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { nlbStateFor, pickServer, shapeWindow, sliceAt, type NlbState, type Tally } from '../../../domain/nlb/index.ts';
import { fail, instances, keyOf, nameOf, ok, playing, seeded, settings, tallies } from './nlb-spec.ts';

const noTallies = () => undefined;
const stateOf = (weights: Record<string, number>, tuning: Record<string, number> = {}) => nlbStateFor('A.b', instances(weights), settings(tuning));

/** a, b, c at 100 with c dead after a window of 1010 counted requests (so 10 probes). */
function withDeadC(): NlbState {
  return shapeWindow(stateOf({ a: 100, b: 100, c: 100 }), tallies({ a: ok(500), b: ok(500), c: fail(10) }), 5000).state;
}

function count(state: NlbState, picks: number, random: () => number, lookup: (k: string) => Tally | undefined = noTallies) {
  const counts: Record<string, number> = {};
  let s = state;
  for (let i = 0; i < picks; i++) {
    const p = pickServer(s, random, lookup)!;
    counts[nameOf(p.server.key)] = (counts[nameOf(p.server.key)] ?? 0) + 1;
    s = p.state;
  }
  return counts;
}

test('the binary search finds the slice holding a point', () => {
  assert.equal(sliceAt([100, 400, 1100], 0), 0);
  assert.equal(sliceAt([100, 400, 1100], 99), 0);
  assert.equal(sliceAt([100, 400, 1100], 100), 1);
  assert.equal(sliceAt([100, 400, 1100], 399), 1);
  assert.equal(sliceAt([100, 400, 1100], 400), 2);
  assert.equal(sliceAt([100, 400, 1100], 1099), 2);
  assert.equal(sliceAt([7], 3), 0);
});

test('a point in a server\'s slice of the cumulative weights picks it', () => {
  const state = stateOf({ a: 1, b: 3 }); // slices [0, 100) and [100, 400)
  assert.equal(pickServer(state, playing(0.1, 0.2), noTallies)!.server.key, keyOf('a')); // 80
  assert.equal(pickServer(state, playing(0.1, 0.2475), noTallies)!.server.key, keyOf('a')); // 99
  assert.equal(pickServer(state, playing(0.1, 0.25), noTallies)!.server.key, keyOf('b')); // 100
  assert.equal(pickServer(state, playing(0.1, 0.999), noTallies)!.reason, 'weighted');
});

test('picks spread by weight (seeded random, 20 000 picks)', () => {
  const counts = count(stateOf({ a: 1, b: 2, c: 7 }), 20_000, seeded(42));
  assert.ok(counts.a! > 1700 && counts.a! < 2300, `a: ${counts.a}`);
  assert.ok(counts.b! > 3600 && counts.b! < 4400, `b: ${counts.b}`);
  assert.ok(counts.c! > 13300 && counts.c! < 14700, `c: ${counts.c}`);
});

test('dead servers share one tail slice of liveTotal × 0.01 + 1', () => {
  const state = withDeadC();
  assert.equal(state.liveTotal, 20_000);
  assert.equal(state.deadSlice, 201);
  assert.deepEqual(state.dead, [2]);
  assert.equal(state.probesLeft, 10); // 1 % of the 1010 requests the window counted
});

test('a point in the tail slice probes a dead server while the budget lasts, then goes to the live ones', () => {
  let state = withDeadC();
  const seen: string[] = [];
  for (let i = 0; i < 12; i++) {
    const p = pickServer(state, () => 0.9999, noTallies)!;
    seen.push(`${nameOf(p.server.key)}:${p.reason}`);
    state = p.state;
  }
  assert.deepEqual(seen, [...Array(10).fill('c:probe'), 'b:weighted', 'b:weighted']);
  assert.equal(state.probesLeft, 0);
});

test('the next window refills the probe budget from its own request count (at least 1)', () => {
  const quiet = shapeWindow(withDeadC(), tallies({ a: ok(10) }), 10_000).state;
  assert.equal(quiet.probesLeft, 1);
  const busy = shapeWindow(withDeadC(), tallies({ a: ok(1500), b: ok(1500) }), 10_000).state;
  assert.equal(busy.probesLeft, 30);
});

test('a dead server gets about its slice share of the picks (≈1 %)', () => {
  const state = { ...withDeadC(), probesLeft: 1e9 };
  const counts = count(state, 100_000, seeded(7));
  // 201 / 20201 ≈ 0.995 %
  assert.ok(counts.c! > 850 && counts.c! < 1150, `c: ${counts.c}`);
});

test('with the probe budget spent, the dead server gets nothing more this window', () => {
  const counts = count(withDeadC(), 100_000, seeded(7));
  assert.equal(counts.c, 10);
});

test('a picked server below success_ratio_min (with enough requests) is replaced by a uniform pick', () => {
  const state = stateOf({ a: 1, b: 1 });
  const lookup = (n: number) => (k: string) => (k === keyOf('a') ? tallies({ a: [n - 5, 5] }).get(k) : undefined);
  const picked = pickServer(state, playing(0.1, 0.1, 0.9), lookup(10))!;
  assert.equal(picked.server.key, keyOf('b'));
  assert.equal(picked.reason, 'uniform');
  // under shaping_request_min (10) outcomes, the ratio is not trusted yet
  assert.equal(pickServer(state, playing(0.1, 0.1), lookup(9))!.server.key, keyOf('a'));
  // 6 of 10 is not below 0.6
  const okEnough = (k: string) => (k === keyOf('a') ? tallies({ a: [6, 4] }).get(k) : undefined);
  assert.equal(pickServer(state, playing(0.1, 0.1), okEnough)!.reason, 'weighted');
});

test('the uniform pick may land on any server, dead ones included (as MSEC)', () => {
  const state = withDeadC();
  const lookup = (k: string) => (k === keyOf('a') ? tallies({ a: fail(10) }).get(k) : undefined);
  const picked = pickServer(state, playing(0.1, 0.1, 0.99), lookup)!;
  assert.equal(picked.server.key, keyOf('c'));
  assert.equal(picked.reason, 'uniform');
});

test('when every server is dead, any one is picked uniformly', () => {
  const state = shapeWindow(stateOf({ a: 1, b: 1 }), tallies({ a: fail(10), b: fail(10) }), 1).state;
  const picked = pickServer(state, playing(0.6), noTallies)!;
  assert.equal(picked.server.key, keyOf('b'));
  assert.equal(picked.reason, 'all-dead');
});

test('excluded servers are never picked; nothing left means no pick', () => {
  const state = stateOf({ a: 1, b: 100 });
  const notB = (s: { key: string }) => s.key === keyOf('b');
  for (let i = 0; i < 50; i++) assert.equal(pickServer(state, seeded(i), noTallies, notB)!.server.key, keyOf('a'));
  assert.equal(pickServer(state, seeded(1), noTallies, () => true), undefined);
  assert.equal(pickServer(stateOf({}), seeded(1), noTallies), undefined);
});

test('excluding the only live server leaves the dead one to its probes', () => {
  const state = shapeWindow(stateOf({ a: 1, b: 1 }), tallies({ a: ok(100), b: fail(10) }), 1).state;
  const picked = pickServer(state, seeded(3), noTallies, (s) => s.key === keyOf('a'))!;
  assert.equal(picked.server.key, keyOf('b'));
  assert.equal(picked.reason, 'all-dead');
});

test('excluding nothing picks exactly as not excluding (same random draws, same servers)', () => {
  let plain = withDeadC();
  let viaView = withDeadC();
  const draws = seeded(11);
  const recorded: number[] = [];
  const replay = () => recorded.shift()!;
  for (let i = 0; i < 2000; i++) {
    const random = () => {
      const r = draws();
      recorded.push(r);
      return r;
    };
    const a = pickServer(plain, random, noTallies)!;
    const b = pickServer(viaView, replay, noTallies, () => false)!;
    assert.equal(b.server.key, a.server.key);
    assert.equal(b.reason, a.reason);
    plain = a.state;
    viaView = b.state;
  }
  assert.equal(viaView.probesLeft, plain.probesLeft);
});
