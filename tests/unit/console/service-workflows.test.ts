/**
 * The service-tree workflows through the API: requests that stopped half-way, logs written
 * before claims, replayed and borrowed Idempotency-Keys, and a request that never gets a quiet
 * moment on its first level.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { consoleHarness, type Harness } from './harness.ts';
import { createCommandBus } from '../../../apps/console/command-bus.ts';
import { createService } from '../../../apps/console/service-workflows.ts';
import { MemoryEventLog, MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import type { EventStore } from '../../../adapters/eventstore/port.ts';
import { DomainError } from '../../../domain/decider.ts';
import { eventIdFor } from '../../../domain/event-ids.ts';
import type { ServiceEvent } from '../../../domain/services/events.ts';
import { firstLevelDecider } from '../../../domain/services/index.ts';

let h: Harness;
before(async () => {
  h = await consoleHarness();
});
after(() => h.close());

const meta = (commandId: string) => ({ commandId, actor: 'admin', reason: '', at: Date.now() });
const streamTypes = async (stream: string) => (await h.store.readStream(stream)).map((e) => e.type);
const create = (name: string, headers: Record<string, string> = {}, body: object = {}) =>
  h.call({ method: 'POST', url: '/api/services', headers, payload: { name, ...body } });
const remove = (name: string, headers: Record<string, string> = {}) => h.call({ method: 'DELETE', url: `/api/services/${name}`, headers });

/** Appends events as a console without claims (or one that died) left them. */
async function appendRaw(stream: string, events: ServiceEvent[]) {
  const at = new Date().toISOString();
  await h.store.append(stream, 'any', events.map((e, i) => ({
    ...e, id: eventIdFor(`raw-${stream}-${Date.now()}`, i), occurredAt: at, actor: 'admin', reason: '', correlationId: 'raw', causationId: 'raw',
  })));
}

test('a creation that stopped after its claim is finished by sending it again, with a new key', async () => {
  await h.ctx.commands.execute('service-Half', firstLevelDecider,
    { type: 'ClaimChildService', parent: 'Half', child: 'svc', kind: 'standard', lang: 'typescript', port: 7963 }, meta('01900000-0000-7000-8000-0000000c1a11'));
  const blocked = await remove('Half.svc');
  assert.equal(blocked.statusCode, 409);
  assert.match(blocked.json().detail, /being created; .*send the same creation again/);
  const parent = await remove('Half');
  assert.equal(parent.statusCode, 409);
  assert.match(parent.json().detail, /Half\.svc \(being created\)/);

  const again = await create('Half.svc');
  assert.equal(again.statusCode, 201, again.body);
  assert.deepEqual(again.json().events, ['ServiceCreated', 'ChildServiceLinked']);
  assert.deepEqual(await streamTypes('service-Half'), ['FirstLevelServiceCreated', 'ChildServiceClaimed', 'ChildServiceLinked']);
  assert.equal((await h.call({ method: 'GET', url: '/api/services/Half.svc' })).statusCode, 200);
});

test('a creation with other settings than the one in progress is refused and writes nothing', async () => {
  await h.ctx.commands.execute('service-Other', firstLevelDecider,
    { type: 'ClaimChildService', parent: 'Other', child: 'svc', kind: 'standard', lang: 'go', port: 7963 }, meta('01900000-0000-7000-8000-0000000c1a12'));
  const at = await h.store.headPosition();
  const r = await create('Other.svc', {}, { lang: 'python' });
  assert.equal(r.statusCode, 409);
  assert.match(r.json().detail, /being created by another request with other settings \(standard, go, port 7963\)/);
  assert.equal(await h.store.headPosition(), at);
});

test('logs from before claims: a link whose creation died is finished over, a link whose delete died is removed', async () => {
  // Created by a console without claims that died between its two steps: linked, never created.
  await appendRaw('service-Legacy', [
    { type: 'FirstLevelServiceCreated', data: { name: 'Legacy', kind: 'standard' } },
    { type: 'ChildServiceLinked', data: { parent: 'Legacy', child: 'born' } },
    { type: 'ChildServiceLinked', data: { parent: 'Legacy', child: 'gone' } },
  ]);
  const born = await create('Legacy.born');
  assert.equal(born.statusCode, 201, born.body);
  assert.deepEqual(born.json().events, ['ChildServiceUnlinked', 'ChildServiceClaimed', 'ServiceCreated', 'ChildServiceLinked']);
  const gone = await remove('Legacy.gone');
  assert.equal(gone.statusCode, 200, gone.body);
  assert.deepEqual(gone.json().events, ['ChildServiceUnlinked']);
  const tree = (await h.call({ method: 'GET', url: '/api/services/Legacy' })).json() as { children: { name: string; exists: boolean }[] };
  assert.deepEqual(tree.children.map((c) => [c.name, c.exists]), [['born', true]]);
});

test('a creation replayed with its Idempotency-Key answers as before and writes nothing', async () => {
  const key = { 'idempotency-key': '01900000-0000-7000-8000-0000000c1a13' };
  const first = await create('Replay.svc', key);
  assert.equal(first.statusCode, 201, first.body);
  const at = await h.store.headPosition();
  const replay = await create('Replay.svc', key);
  assert.equal(replay.statusCode, 201, replay.body);
  assert.deepEqual(replay.json().events, first.json().events);
  assert.equal(await h.store.headPosition(), at);
  const fresh = await create('Replay.svc');
  assert.equal(fresh.statusCode, 409, 'a new request for an existing service is a conflict');
});

test("another user's Idempotency-Key does not let a request pass as theirs", async () => {
  const u = await h.call({ method: 'POST', url: '/api/users', payload: { name: 'mallory', password: 'mallory password 1', role: 'operator' } });
  assert.equal(u.statusCode, 201, u.body);
  const key = '01900000-0000-7000-8000-0000000c1a14';
  assert.equal((await create('Borrow.svc', { 'idempotency-key': key })).statusCode, 201);
  const at = await h.store.headPosition();
  const mallory = { authorization: `Basic ${Buffer.from('mallory:mallory password 1').toString('base64')}`, 'idempotency-key': key };
  const replayed = await create('Borrow.svc', mallory);
  assert.equal(replayed.statusCode, 409);
  assert.match(replayed.json().detail, /Idempotency-Key .* was used for a different request/);
  const deleted = await remove('Borrow.svc', mallory);
  assert.equal(deleted.statusCode, 409);
  assert.equal(await h.store.headPosition(), at);
});

test('If-Match on a delete names the service revision; a stale one is refused before any step', async () => {
  assert.equal((await create('Match.svc')).statusCode, 201);
  const { revision } = (await h.call({ method: 'GET', url: '/api/services/Match.svc' })).json() as { revision: number };
  const at = await h.store.headPosition();
  const stale = await remove('Match.svc', { 'if-match': `"${revision + 1}"` });
  assert.equal(stale.statusCode, 409);
  assert.match(stale.json().detail, /revision/);
  assert.equal(await h.store.headPosition(), at);
  assert.equal((await remove('Match.svc', { 'if-match': `"${revision}"` })).statusCode, 200);
});

test('a request whose first level never stands still gives up with 409 after its retries, having written nothing', async () => {
  const log = new MemoryEventLog();
  const busy = new MemoryEventStore({ log });
  await busy.append('service-Busy', 'no_stream', [{
    type: 'FirstLevelServiceCreated', data: { name: 'Busy', kind: 'standard' },
    id: eventIdFor('busy', 0), occurredAt: new Date().toISOString(), actor: 'other', reason: '', correlationId: 'busy', causationId: 'busy',
  }]);
  // Another console claims a sibling each time this one has read the service stream.
  let sibling = 0;
  const inner = new MemoryEventStore({ log });
  const racing: EventStore = {
    append: (stream, expected, events) => inner.append(stream, expected, events),
    readStream: async (stream, from) => {
      const read = await inner.readStream(stream, from);
      if (stream === 'service-Busy.svc') {
        const n = sibling++;
        await busy.append('service-Busy', 'any', [{
          type: 'ChildServiceClaimed', data: { parent: 'Busy', child: `s${n}`, kind: 'standard', lang: 'go', port: 1 },
          id: eventIdFor('busy', n + 1), occurredAt: new Date().toISOString(), actor: 'other', reason: '', correlationId: `other-${n}`, causationId: 'busy',
        }]);
      }
      return read;
    },
    readAll: (after, limit) => inner.readAll(after, limit),
    headPosition: () => inner.headPosition(),
    subscribeAll: (after, handler) => inner.subscribeAll(after, handler),
    close: () => inner.close(),
  };
  const pauses: number[] = [];
  await assert.rejects(
    createService(createCommandBus({ store: racing }), { name: 'Busy.svc', kind: 'standard', lang: 'go', port: 7963 }, meta('busy-request'), {
      maxConflicts: 5, pause: async (n) => { pauses.push(n); },
    }),
    (e: unknown) => e instanceof DomainError && e.code === 'conflict' && /being changed by other requests .*send the request again/.test(e.message),
  );
  assert.deepEqual(pauses, [1, 2, 3, 4, 5]);
  assert.ok((await inner.readStream('service-Busy')).every((e) => e.correlationId !== 'busy-request'), 'nothing written by the request');
});
