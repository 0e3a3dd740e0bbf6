/** Closing the console answers pending long polls instead of waiting for them to time out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { adminPassword, consoleHarness } from './harness.ts';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';

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

/** A raw HTTP/1.1 keep-alive connection: sends `request`, resolves with the first answer's head; `closed` when the server ends it. */
function keepAlive(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (d) => (received += d));
  socket.on('error', () => undefined);
  return {
    closed,
    send: (text: string) => socket.write(text),
    answered: async () => {
      while (!/\r\n\r\n/.test(received)) await new Promise((r) => setTimeout(r, 20));
      return received;
    },
  };
}
const basic = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

test('given a keep-alive connection whose long poll is answered as the console stops, when the console closes, then the idle connection does not hold the stop (it would for the 72 s keep-alive)', async () => {
  const h = await consoleHarness();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as AddressInfo).port;
  const head = await h.store.headPosition();
  const client = keepAlive(port);
  client.send(`GET /api/events?after=${head}&wait=60 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: ${basic}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 300)); // the poll waits
  const started = Date.now();
  await h.close();
  assert.match(await client.answered(), /^HTTP\/1\.1 200 /, 'the poll was answered');
  await client.closed;
  assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms, not after the keep-alive timeout`);
});

test('given a request still arriving and a connection that never sent a byte when the console stops, when the drain time is over, then both are cut and the stop ends (Node stops checking header timeouts once closing: they would hold it for ever)', async () => {
  const store = new MemoryEventStore(); // outlives the console, to be read after
  const h = await consoleHarness({ store, extend: (ctx) => void (ctx.drainMs = 500) });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as AddressInfo).port;
  const client = keepAlive(port);
  // Headers announce a body that never comes: the request is never idle.
  client.send(`POST /api/services HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na`);
  const silent = keepAlive(port); // connects, sends nothing
  await new Promise((r) => setTimeout(r, 300));
  const head = await h.store.headPosition();
  const started = Date.now();
  await h.close();
  await Promise.all([client.closed, silent.closed]);
  const took = Date.now() - started;
  assert.ok(took >= 400 && took < 5000, `cut after the drain time (500 ms), in ${took} ms`);
  assert.equal(await store.headPosition(), head, 'the cut request wrote nothing');
  await store.close();
});
