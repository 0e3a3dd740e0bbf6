/** How an agent reports refusals under a flood (apps/agent/refusal-limiter.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RefusalLimiter } from '../../../apps/agent/refusal-limiter.ts';

const t0 = 1_000_000;
const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('RefusalLimiter', () => {
  test('given a flood of forgeries of one reason, then 10 a minute are reported and the rest counted into one report after the minute', () => {
    const limiter = new RefusalLimiter(10);
    const reported = Array.from({ length: 100 }, (_, i) => limiter.take('bad-signature', sha(i), t0 + i)).filter((d) => d.report);
    assert.equal(reported.length, 10);
    assert.deepEqual(limiter.due(t0 + 30_000), [], 'not before the minute is over');
    assert.deepEqual(limiter.due(t0 + 60_000), [{ reason: 'bad-signature', similar: 89 }], 'one report for the 90 held');
    assert.deepEqual(limiter.due(t0 + 120_000), []);
    // another reason has its own budget
    assert.equal(limiter.take('unsigned', '', t0 + 1).report, true);
  });

  test('given the budget of a reason spent by forgeries, when the control plane\'s own bytes are refused for it, then that refusal is reported at once', () => {
    const limiter = new RefusalLimiter(10);
    // an attacker replaying one old command over and over: reported once, then within the budget
    const flood = Array.from({ length: 50 }, () => limiter.take('expired', sha(1), t0)).filter((d) => d.report);
    assert.equal(flood.length, 1 + 10);
    assert.equal(limiter.take('expired', sha(999), t0).report, true, 'a genuinely signed command refused for the first time');
    assert.equal(limiter.take('expired', sha(999), t0).report, false, 'the same bytes again are limited like anything else');
    // a forgery's reason (its signature did not verify) is never exempt, nor another host's command, nor a replay
    for (const reason of ['bad-signature', 'wrong-target', 'replayed'] as const) {
      for (let i = 0; i < 10; i++) limiter.take(reason, sha(i), t0);
      assert.equal(limiter.take(reason, sha(1000), t0).report, false, reason);
    }
  });

  test('the remembered genuine refusals are bounded (oldest forgotten first)', () => {
    const limiter = new RefusalLimiter(0, 3);
    for (let i = 0; i < 4; i++) assert.equal(limiter.take('expired', sha(i), t0).report, true);
    assert.equal(limiter.take('expired', sha(3), t0).report, false);
    assert.equal(limiter.take('expired', sha(0), t0).report, true, 'forgotten, so reported again');
  });
});
