/** Shaping specs: sequences of windows of outcomes → expected weights (msec-reference §1.2). */
import test from 'node:test';
import assert from 'node:assert/strict';
import { addOutcome, recordOutcome, shapeWindow, type Tally } from '../../../domain/nlb/index.ts';
import { fail, given, keyOf, ok, tallies } from './nlb-spec.ts';

test('a healthy service keeps its static weights', () => {
  given({ a: 100, b: 300 }).when({ a: ok(10), b: ok(30) }).then({ a: 100, b: 300 });
});

test('a server answering 90 % loses weight by s² (100 → 81)', () => {
  given({ a: 100, b: 100 }).when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 81 });
});

test('s² applies to the current weight, window after window', () => {
  given({ a: 100, b: 100 })
    .when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 81 })
    .when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 65.61 })
    .when({ a: ok(10), b: [8, 2] }).then({ a: 100, b: 41.99 });
});

test('a success ratio of exactly the base (0.98) counts as healthy', () => {
  given({ a: 100, b: 100 })
    .when({ a: ok(50), b: [45, 5] }).then({ a: 100, b: 81 })
    .when({ a: ok(50), b: [49, 1] }).then({ a: 100, b: 86 });
});

test('recovery: +5 % of the static weight per healthy window, capped at the static weight', () => {
  given({ a: 100, b: 100 })
    .when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 81 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 100, b: 86 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 100, b: 91 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 100, b: 96 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 100, b: 100 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 100, b: 100 });
});

test('the step is 5 % of the static weight, not of the current one', () => {
  given({ a: 1000, b: 2000 })
    .when({ a: [9, 1], b: [9, 1] }).then({ a: 810, b: 1620 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 860, b: 1720 });
});

test('a server that fails every request is dead; its deadSince is the window end', () => {
  const spec = given({ a: 100, b: 100 }).when({ a: ok(10), b: fail(10) }, 5000).then({ a: 100, b: 'dead' });
  const b = spec.state.servers.find((s) => s.key === keyOf('b'))!;
  assert.equal(b.weight, 0);
  assert.equal(b.deadSince, 5000);
  assert.deepEqual(spec.state.dead, [1]);
});

test('a weight that s² brings below one internal unit means dead', () => {
  // weight 1 is 100 internal units; 100 × 0.05² = 0.25 → 0
  given({ a: 100, b: 1 }).when({ a: ok(10), b: [1, 19] }).then({ a: 100, b: 'dead' });
});

test('recovery step by step: a dead server revives at 10 % on a good probe, then climbs 5 % a window', () => {
  const spec = given({ a: 100, b: 100 })
    .when({ a: ok(10), b: fail(10) }).then({ a: 100, b: 'dead' })
    // no traffic to b: nothing is known, it stays dead
    .when({ a: ok(100) }).then({ a: 100, b: 'dead' })
    // a failed probe: still dead
    .when({ a: ok(100), b: fail(1) }).then({ a: 100, b: 'dead' })
    // one good probe is enough for a dead server (its outcomes always count)
    .when({ a: ok(100), b: ok(1) }).then({ a: 100, b: 10 });
  const seen: number[] = [];
  for (let w = 0; w < 18; w++) seen.push(spec.when({ a: ok(10), b: ok(10) }).state.servers[1]!.weight / 100);
  assert.deepEqual(seen, [15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100]);
});

test('a dead server answering only partly stays dead (0 × s² is still 0)', () => {
  given({ a: 100, b: 100 })
    .when({ a: ok(10), b: fail(10) }).then({ a: 100, b: 'dead' })
    .when({ a: ok(10), b: [1, 1] }).then({ a: 100, b: 'dead' });
});

test('outcomes under shaping_request_min carry over until there are enough', () => {
  given({ a: 100, b: 100 })
    .when({ a: ok(10), b: fail(5) }).then({ a: 100, b: 100 })
    .when({ a: ok(10), b: fail(5) }).then({ a: 100, b: 'dead' });
  given({ a: 100, b: 100 })
    .when({ a: ok(10), b: fail(3) }).then({ a: 100, b: 100 })
    .when({ a: ok(10), b: ok(7) }).then({ a: 100, b: 49 });
});

test('shapeWindow hands back the outcomes it did not use', () => {
  const spec = given({ a: 100, b: 100 });
  const { carried } = shapeWindow(spec.state, tallies({ a: ok(10), b: [3, 1] }), 1);
  assert.deepEqual([...carried.keys()], [keyOf('b')]);
  assert.equal(carried.get(keyOf('b'))!.requests, 4);
  assert.equal(carried.get(keyOf('b'))!.failures, 1);
});

test('the global floor: when more than half the servers are below half their weight, weights stop decreasing', () => {
  given({ a: 100, b: 100, c: 100, d: 100 })
    // three of four fall below 50 %
    .when({ a: [5, 5], b: [6, 4], c: [7, 3], d: ok(10) }).then({ a: 25, b: 36, c: 49, d: 100 })
    // floor: base = min(average 0.75, 0.98); nobody loses weight, c (0.9 ≥ 0.75) gains
    .when({ a: [5, 5], b: [6, 4], c: [9, 1], d: ok(10) }).then({ a: 25, b: 36, c: 54, d: 100 })
    // now two of four are low: exactly half is not "more than half", so weights decrease again
    .when({ a: [5, 5], b: ok(10), c: ok(10), d: ok(10) }).then({ a: 6.25, b: 41, c: 59, d: 100 });
});

test('under the floor a server at zero is still dead', () => {
  given({ a: 100, b: 100, c: 100 })
    .when({ a: [5, 5], b: [5, 5], c: ok(10) }).then({ a: 25, b: 25, c: 100 })
    .when({ a: fail(10), b: [4, 6], c: ok(10) }).then({ a: 'dead', b: 25, c: 100 });
});

test('under the floor the base is capped at success_ratio_base', () => {
  // average 0.99 > 0.98: the base stays 0.98, so b (0.97) neither gains nor loses
  given({ a: 100, b: 100, c: 100 })
    .when({ a: [5, 5], b: [5, 5], c: ok(10) }).then({ a: 25, b: 25, c: 100 })
    .when({ a: ok(200), b: [97, 3], c: ok(100) }).then({ a: 30, b: 25, c: 100 });
});

test('tuning keys of the routing table change the steps', () => {
  given({ a: 100, b: 100 }, { weight_incr_ratio: 0.1, resume_weight_ratio: 0.5 })
    .when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 81 })
    .when({ a: ok(10), b: ok(10) }).then({ a: 100, b: 91 })
    .when({ a: ok(10), b: fail(10) }).then({ a: 100, b: 'dead' })
    .when({ a: ok(10), b: ok(1) }).then({ a: 100, b: 50 });
  given({ a: 100, b: 100 }, { shaping_request_min: 4 }).when({ a: ok(4), b: [3, 1] }).then({ a: 100, b: 56.25 });
  given({ a: 100, b: 100 }, { success_ratio_base: 0.9 })
    .when({ a: ok(10), b: [8, 2] }).then({ a: 100, b: 64 })
    .when({ a: ok(10), b: [9, 1] }).then({ a: 100, b: 69 });
});

test('a new routing table keeps known servers\' dynamic weights, caps them at a lower static weight, adds new ones at full weight', () => {
  given({ a: 100, b: 100 })
    .when({ a: [9, 1], b: [9, 1] }).then({ a: 81, b: 81 })
    .whenTable({ a: 100, b: 50, c: 200 }).then({ a: 81, b: 50, c: 200 })
    .whenTable({ c: 200 }).then({ c: 200 });
});

test('a dead server stays dead across a table change', () => {
  given({ a: 100, b: 100 })
    .when({ a: ok(10), b: fail(10) }).then({ a: 100, b: 'dead' })
    .whenTable({ a: 100, b: 100, c: 100 }).then({ a: 100, b: 'dead', c: 100 });
});

test('recording an outcome in place counts as adding it', () => {
  let added: Tally | undefined;
  const recorded: Tally = { requests: 0, failures: 0, latencyMsSum: 0 };
  for (const [failed, latencyMs] of [[false, 3], [true, 9], [false, -1], [false, 4]] as const) {
    added = addOutcome(added, failed, latencyMs);
    recordOutcome(recorded, failed, latencyMs);
  }
  assert.deepEqual(recorded, added);
  assert.deepEqual(recorded, { requests: 4, failures: 1, latencyMsSum: 7 });
});
