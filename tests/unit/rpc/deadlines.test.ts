/**
 * One timer for many call deadlines: everything due expires, nothing finished does, and
 * more distinct timeouts than buckets still expire (on timers of their own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineQueue } from '../../../adapters/rpc/deadlines.ts';

interface Call {
  name: string;
  deadline: number;
  timeoutMs: number;
}

function queue() {
  const expired: string[] = [];
  let wake: (() => void) | null = null;
  const q = new DeadlineQueue<Call>((c) => {
    expired.push(c.name);
    wake?.();
  });
  const add = (name: string, timeoutMs: number) => {
    const call = { name, deadline: Date.now() + timeoutMs, timeoutMs };
    q.add(call, timeoutMs);
    return call;
  };
  const until = (count: number) => new Promise<void>((resolve) => {
    wake = () => { if (expired.length >= count) resolve(); };
    wake();
  });
  return { q, add, expired, until };
}

test('calls expire in deadline order across timeouts; finished ones never expire', async () => {
  const { q, add, expired, until } = queue();
  add('a30', 30);
  const done = add('b5', 5);
  add('c10', 10);
  add('d1', 1);
  q.delete(done, done.timeoutMs);
  await until(3);
  assert.deepEqual(expired, ['d1', 'c10', 'a30']);
  q.clear();
});

test('more distinct timeouts than buckets: every one still expires, finished ones do not', async () => {
  const { q, add, expired, until } = queue();
  const calls = Array.from({ length: 60 }, (_, i) => add(`t${i}`, 1 + i));
  for (const c of calls.filter((_, i) => i % 3 === 0)) q.delete(c, c.timeoutMs);
  await until(40);
  assert.deepEqual(new Set(expired), new Set(calls.filter((_, i) => i % 3 !== 0).map((c) => c.name)));
  q.clear();
});

test('clear() forgets everything: nothing expires afterwards', async () => {
  const { q, add, expired } = queue();
  for (let i = 0; i < 40; i++) add(`t${i}`, 1 + i);
  q.clear();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(expired, []);
});
