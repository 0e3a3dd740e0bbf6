/** The per-minute budget of refusals (domain/per-minute-budget.ts): nothing lost, only moved. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PerMinuteBudget } from '../../../domain/per-minute-budget.ts';

const t0 = 1_000_000;

describe('PerMinuteBudget', () => {
  test('given 3 a minute, when 5 come, then 3 pass and 2 are held; the next to pass after the minute carries them', () => {
    const b = new PerMinuteBudget(3);
    assert.deepEqual([1, 2, 3, 4, 5].map((i) => b.take('k', t0 + i)), [0, 0, 0, undefined, undefined]);
    assert.equal(b.take('k', t0 + 59_000), undefined, 'still the same minute (from the first of the window)');
    assert.equal(b.take('k', t0 + 60_001), 3, 'a new window: this one carries the 3 held');
    assert.equal(b.take('other', t0 + 5), 0, 'each key has its own budget');
  });

  test('given held counts and nothing more coming, then due takes them out once the minute is over, and the window starts again', () => {
    const b = new PerMinuteBudget(1);
    b.take('k', t0);
    b.take('k', t0 + 1);
    b.take('k', t0 + 2);
    assert.deepEqual(b.due(t0 + 30_000), []);
    assert.deepEqual(b.due(t0 + 60_000), [{ key: 'k', held: 2 }]);
    assert.deepEqual(b.due(t0 + 200_000), []);
    assert.equal(b.take('k', t0 + 60_001), undefined, 'the summary counted as the one of its new window');
  });

  test('given a write that failed, when its count is held again, then the next to pass carries it', () => {
    const b = new PerMinuteBudget(10);
    assert.equal(b.take('k', t0), 0);
    b.hold('k', 1, t0);
    assert.equal(b.take('k', t0 + 1), 1);
  });

  test('windows that are over and hold nothing are forgotten past maxKeys; held counts are kept', () => {
    const b = new PerMinuteBudget(0, 3);
    b.take('held', t0);
    for (let i = 0; i < 5; i++) b.take(`k${i}`, t0 + 1);
    assert.equal(b.take('x', t0 + 120_000), undefined);
    assert.deepEqual(b.due(t0 + 120_000).find((d) => d.key === 'held'), { key: 'held', held: 1 });
  });
});
