/** Circuit breaker specs: consecutive failures open it, a cool-down, one half-open trial. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { breakerBlocks, breakerOnCall, breakerOnResult, closedBreaker, type BreakerSettings, type BreakerState } from '../../../domain/nlb/index.ts';

const settings: BreakerSettings = { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 3000 };
const results = (state: BreakerState, outcomes: boolean[], now: number) =>
  outcomes.reduce((s, failed) => breakerOnResult(s, failed, now, settings), state);

test('consecutive failures up to the threshold open the breaker for the cool-down', () => {
  const two = results(closedBreaker, [true, true], 0);
  assert.deepEqual(two, { phase: 'closed', failures: 2 });
  assert.equal(breakerBlocks(two, 0, settings), false);
  const open = results(two, [true], 100);
  assert.deepEqual(open, { phase: 'open', until: 1100, cooldownMs: 1000 });
  assert.equal(breakerBlocks(open, 1099, settings), true);
  assert.equal(breakerBlocks(open, 1100, settings), false);
});

test('a success in between resets the count', () => {
  assert.deepEqual(results(closedBreaker, [true, true, false, true, true], 0), { phase: 'closed', failures: 2 });
});

test('after the cool-down one trial goes through; other calls wait for it', () => {
  const open = results(closedBreaker, [true, true, true], 0);
  const trial = breakerOnCall(open, 1000);
  assert.deepEqual(trial, { phase: 'half-open', trialSince: 1000, cooldownMs: 1000 });
  assert.equal(breakerBlocks(trial, 1001, settings), true);
  assert.equal(breakerOnCall(closedBreaker, 5), closedBreaker);
});

test('a good trial closes the breaker; a bad one opens it again for twice as long, up to the maximum', () => {
  const open = results(closedBreaker, [true, true, true], 0);
  assert.deepEqual(breakerOnResult(breakerOnCall(open, 1000), false, 1010, settings), closedBreaker);
  const again = breakerOnResult(breakerOnCall(open, 1000), true, 1010, settings);
  assert.deepEqual(again, { phase: 'open', until: 3010, cooldownMs: 2000 });
  const third = breakerOnResult(breakerOnCall(again, 3010), true, 3020, settings);
  assert.deepEqual(third, { phase: 'open', until: 6020, cooldownMs: 3000 });
});

test('late answers while open change nothing', () => {
  const open = results(closedBreaker, [true, true, true], 0);
  assert.equal(breakerOnResult(open, false, 10, settings), open);
  assert.equal(breakerOnResult(open, true, 10, settings), open);
});
