/** Long polls wake on a change of what they wait for, not on a timer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eitherOf, waitUntil, type Wakeups } from '../../../apps/console/long-poll.ts';

/** A change source the test fires by hand, counting who listens. */
function changes() {
  const listeners = new Set<() => void>();
  const listen: Wakeups = (wake) => {
    listeners.add(wake);
    return () => listeners.delete(wake);
  };
  return { listen, fire: () => [...listeners].forEach((wake) => wake()), get listening() { return listeners.size; } };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test('looks again on each change, and only then', async () => {
  const source = changes();
  const model: { value?: string } = {};
  let looks = 0;
  const waiting = waitUntil(() => (looks++, model.value), 10_000, undefined, source.listen);
  await tick(150); // past what the old 100 ms timer would have looked
  assert.equal(looks, 1, 'no look without a change');
  source.fire();
  await tick();
  assert.equal(looks, 2);
  model.value = 'changed';
  const started = Date.now();
  source.fire();
  assert.equal(await waiting, 'changed');
  assert.ok(Date.now() - started < 50);
  assert.equal(source.listening, 0, 'stops listening once answered');
});

test('a change while it looks is not lost', async () => {
  const source = changes();
  let looks = 0;
  const waiting = waitUntil(async () => {
    looks++;
    if (looks === 1) {
      source.fire(); // the read model moved while the first look was under way
      return undefined;
    }
    return 'seen';
  }, 10_000, undefined, source.listen);
  assert.equal(await waiting, 'seen');
  assert.equal(looks, 2);
});

test('gives up at the deadline or when the client goes away, and stops listening', async () => {
  const source = changes();
  const started = Date.now();
  assert.equal(await waitUntil(() => undefined, 40, undefined, source.listen), undefined);
  assert.ok(Date.now() - started >= 35);
  const gone = new AbortController();
  const waiting = waitUntil(() => undefined, 10_000, gone.signal, source.listen);
  await tick(5);
  const aborted = Date.now();
  gone.abort();
  assert.equal(await waiting, undefined);
  assert.ok(Date.now() - aborted < 50, 'the abort ends the wait at once');
  assert.equal(source.listening, 0);
});

test('either of two sources wakes it; without a source it looks on a timer', async () => {
  const a = changes();
  const b = changes();
  const model: { value?: number } = {};
  const waiting = waitUntil(() => model.value, 10_000, undefined, eitherOf(a.listen, b.listen));
  await tick(5);
  model.value = 7;
  b.fire();
  assert.equal(await waiting, 7);
  assert.equal(a.listening + b.listening, 0);

  let looks = 0;
  assert.equal(await waitUntil(() => (++looks >= 3 ? 'third' : undefined), 10_000, undefined, { everyMs: 5 }), 'third');
});
