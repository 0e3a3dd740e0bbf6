/**
 * Alarm webhooks delivered from the event log to a real local HTTP receiver: signed, retried on
 * failure with the same delivery id, given up after the last delay, never sent to the console
 * itself (by name or by what the name resolves to), resumed from the checkpoint after a restart,
 * and only for alarms that came after the webhook was added.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryCheckpointStore } from '../../../adapters/checkpoints/memory.ts';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { WebhookDeliverer } from '../../../apps/monitor/webhook-deliverer.ts';
import { checkWebhookSignature, WebhookSigner } from '../../../apps/monitor/webhook-signing.ts';
import { WebhookTargets } from '../../../apps/monitor/webhook-targets.ts';
import { eventIdFor } from '../../../domain/event-ids.ts';
import type { NewEvent } from '../../../domain/events.ts';
import type { WebhookRecord } from '../../../projections/monitoring.ts';

const S = 'Flight.mod_flight';
const silent = pino({ level: 'silent' });
let n = 0;

interface Received { headers: IncomingHttpHeaders; body: string }

async function receiver(answers: number[] = []): Promise<{ server: Server; url: string; port: number; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, port, got };
}

async function raise(store: MemoryEventStore, value = 12): Promise<number> {
  const id = `cmd-${++n}`;
  const event: NewEvent = {
    type: 'AlarmRaised', data: { service: S, name: 'usr.orders', alarmType: 'max', ip: '', minute: 1_700_000_040, value, threshold: 10, previous: 0, forMinutes: 1 },
    id: eventIdFor(id, 0), occurredAt: new Date().toISOString(), actor: 'alarm-evaluator', reason: '', correlationId: id, causationId: id,
  } as NewEvent;
  return (await store.append(`alarms-${S}`, 'any', [event])).position;
}

const eventually = async (what: string, check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function deliverer(store: MemoryEventStore, checkpoints: MemoryCheckpointStore, webhooks: WebhookRecord[], signer: WebhookSigner, over: Partial<ConstructorParameters<typeof WebhookDeliverer>[0]> = {}) {
  return new WebhookDeliverer({
    store, checkpoints, signer, logger: silent, webhooks: () => webhooks, consoleAddress: () => undefined, retryDelaysMs: [30, 30], timeoutMs: 2000,
    // the receivers of these tests listen on loopback, a private address an admin has to allow
    targets: WebhookTargets.allowing('127.0.0.0/8'), ...over,
  });
}

test('an alarm is POSTed signed; a failed attempt is retried with the same delivery id; a 2xx ends it', async () => {
  const r = await receiver([503, 500]);
  const store = new MemoryEventStore();
  const signer = WebhookSigner.generate();
  const d = deliverer(store, new MemoryCheckpointStore(), [{ url: r.url, since: 0, addedAt: '' }], signer);
  await d.start();
  try {
    const position = await raise(store);
    await eventually('delivered on the third attempt', () => d.status().delivered === 1);
    assert.equal(r.got.length, 3);
    assert.equal(new Set(r.got.map((g) => g.headers['x-msec-delivery'])).size, 1);
    const last = r.got[2]!;
    assert.equal(checkWebhookSignature({ signature: String(last.headers['x-msec-signature']), timestamp: String(last.headers['x-msec-timestamp']), delivery: String(last.headers['x-msec-delivery']) }, last.body, signer.publicKeyPem, Date.now()), 'valid');
    assert.equal(last.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(last.body).value, 12);
    await eventually('checkpoint past the alarm', () => d.status().checkpoint === position);
    assert.deepEqual({ ...d.status(), lastError: undefined }, { checkpoint: position, inFlight: 0, delivered: 1, failedAttempts: 2, givenUp: 0, lastError: undefined });
  } finally {
    await d.stop();
    r.server.close();
  }
});

test('a receiver that never takes it: given up after the last delay, counted, and the log moves on', async () => {
  const r = await receiver([500, 500, 500, 500]);
  const store = new MemoryEventStore();
  const d = deliverer(store, new MemoryCheckpointStore(), [{ url: r.url, since: 0, addedAt: '' }], WebhookSigner.generate());
  await d.start();
  try {
    const position = await raise(store);
    await eventually('given up', () => d.status().givenUp === 1);
    assert.equal(r.got.length, 3, 'the first attempt and two retries');
    await eventually('checkpoint past it', () => d.status().checkpoint === position);
    assert.match(d.status().lastError!, /answered 500/);
  } finally {
    await d.stop();
    r.server.close();
  }
});

test('never to the console itself: a URL whose name resolves to the console is refused at connect, without a retry', async () => {
  const consoleSide = await receiver();
  const store = new MemoryEventStore();
  const d = deliverer(store, new MemoryCheckpointStore(), [{ url: `http://localhost:${consoleSide.port}/api/users`, since: 0, addedAt: '' }], WebhookSigner.generate(), {
    consoleAddress: () => ({ hosts: ['127.0.0.1'], port: consoleSide.port }),
  });
  await d.start();
  try {
    await raise(store);
    await eventually('given up', () => d.status().givenUp === 1);
    assert.equal(consoleSide.got.length, 0, 'nothing reached the console');
    assert.match(d.status().lastError!, /the console itself/);
  } finally {
    await d.stop();
    consoleSide.server.close();
  }
});

test('never to a private address an admin did not allow: refused before connecting, by address and by what a name resolves to', async () => {
  const inside = await receiver();
  const store = new MemoryEventStore();
  const d = deliverer(store, new MemoryCheckpointStore(), [
    { url: `http://127.0.0.1:${inside.port}/admin`, since: 0, addedAt: '' },
    { url: `http://localhost:${inside.port}/admin`, since: 0, addedAt: '' },
  ], WebhookSigner.generate(), { targets: WebhookTargets.allowing('') });
  await d.start();
  try {
    await raise(store);
    await eventually('both given up', () => d.status().givenUp === 2);
    assert.equal(inside.got.length, 0, 'nothing reached the private receiver');
    assert.match(d.status().lastError!, /private address.*MSEC_WEBHOOK_ALLOW/);
  } finally {
    await d.stop();
    inside.server.close();
  }
});

test('a receiver answering a byte at a time is cut at the time limit: it holds no delivery slot', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const trickle = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(timer));
  });
  trickle.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', r));
  const store = new MemoryEventStore();
  const url = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}/slow`;
  const d = deliverer(store, new MemoryCheckpointStore(), [{ url, since: 0, addedAt: '' }], WebhookSigner.generate(), { timeoutMs: 300, retryDelaysMs: [] });
  await d.start();
  try {
    const started = Date.now();
    await raise(store);
    await eventually('given up at the time limit', () => d.status().givenUp === 1, 3000);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.match(d.status().lastError!, /no whole answer within 300 ms/);
    assert.equal(d.status().inFlight, 0);
  } finally {
    await d.stop();
    for (const s of sockets) s.destroy();
    trickle.close();
  }
});

test('a restart resumes from the checkpoint: what was in flight is sent again; history before the first start and alarms before a webhook existed are not sent', async () => {
  const store = new MemoryEventStore();
  await raise(store, 1); // before the deliverer ever ran: not sent
  const checkpoints = new MemoryCheckpointStore();
  const signer = WebhookSigner.generate();
  const down = await receiver([503, 503, 503, 503, 503]);
  const first = deliverer(store, checkpoints, [{ url: down.url, since: 0, addedAt: '' }], signer, { retryDelaysMs: [60_000] });
  await first.start();
  const inFlight = await raise(store, 2);
  await eventually('first attempt made', () => down.got.length === 1);
  await first.stop();
  assert.ok((await checkpoints.load('alarm-webhooks'))! < inFlight, 'the checkpoint stays before the undelivered alarm');
  down.server.close();

  const up = await receiver();
  const laterHook = { url: `${up.url}?late`, since: inFlight + 1, addedAt: '' };
  const second = deliverer(store, checkpoints, [{ url: up.url, since: 0, addedAt: '' }, laterHook], signer);
  await second.start();
  try {
    await eventually('delivered after the restart', () => second.status().delivered === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(up.got.map((g) => [g.headers['x-msec-delivery'] === down.got[0]!.headers['x-msec-delivery'], JSON.parse(g.body).value]), [[true, 2]],
      'the same delivery id, only the alarm that was in flight, not to the webhook added after it');
  } finally {
    await second.stop();
    up.server.close();
  }
});

test('events without alarms cost no checkpoint write each: the checkpoint is stored every 1 000 of them and at stop', async () => {
  const store = new MemoryEventStore();
  const checkpoints = new MemoryCheckpointStore();
  let saves = 0;
  const counted = Object.assign(Object.create(checkpoints) as MemoryCheckpointStore, {
    save: (name: string, position: number) => (saves++, checkpoints.save(name, position)),
  });
  const d = deliverer(store, counted, [], WebhookSigner.generate());
  await d.start();
  saves = 0;
  let last = 0;
  for (let i = 0; i < 30; i++) {
    const id = `other-${++n}`;
    last = (await store.append(`user-u${i}`, 'any', [{
      type: 'UserCreated', data: { name: `u${i}`, passwordHash: 'x' }, id: eventIdFor(id, 0), occurredAt: new Date().toISOString(),
      actor: 'admin', reason: '', correlationId: id, causationId: id,
    } as NewEvent])).position;
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(saves, 0);
  await d.stop();
  assert.equal(await checkpoints.load('alarm-webhooks'), last);
  assert.equal(saves, 1);
});
