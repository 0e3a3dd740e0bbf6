/** Closing the console answers pending long polls instead of waiting for them to time out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleHarness } from './harness.ts';

test('a pending 60 s long poll is answered when the console closes', async () => {
  const h = await consoleHarness();
  const head = await h.store.headPosition();
  const poll = h.call({ method: 'GET', url: `/api/events?after=${head}&wait=60` });
  const route = await h.call({ method: 'GET', url: '/api/routes/RESERVED.log' });
  const routePoll = h.call({ method: 'GET', url: '/api/routes/RESERVED.log?wait=60', headers: { 'if-none-match': String(route.headers.etag) } });
  await new Promise((r) => setTimeout(r, 200)); // both polls are waiting now
  const started = Date.now();
  await h.app.close();
  const [events, routes] = await Promise.all([poll, routePoll]);
  await h.close();
  assert.equal(events.statusCode, 200);
  assert.deepEqual((events.json() as { events: unknown[] }).events, []);
  assert.equal(routes.statusCode, 304);
  assert.ok(Date.now() - started < 30_000, 'closed long before the polls would have timed out');
});
