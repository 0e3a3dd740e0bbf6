/**
 * Runs the EventStore contract against the embedded stores, plus what only they promise:
 * refusing half-retried batches, and (SQLite) sharing one file between stores and processes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EventIdsAlreadyStored } from '../../adapters/eventstore/append-rules.ts';
import { MemoryEventLog, MemoryEventStore } from '../../adapters/eventstore/memory.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import { eventStoreContract, type EventStoreFixture } from './eventstore.contract.ts';
import { runInOtherProcesses } from './other-process.ts';
import { command, hostAdded, quickFollow, serviceCreated, tempDir, unique, waitUntil } from './support.ts';

async function sqliteFixture(): Promise<EventStoreFixture & { file: string }> {
  const temp = tempDir('msec-eventstore-');
  const file = join(temp.dir, 'msec.db');
  const opened: EventStore[] = [];
  const open = () => {
    const store = SqliteEventStore.open(file, quickFollow);
    opened.push(store);
    return store;
  };
  return {
    file,
    store: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const s of opened) await s.close();
      temp.remove();
    },
  };
}

async function memoryFixture(): Promise<EventStoreFixture> {
  const log = new MemoryEventLog();
  const opened: EventStore[] = [];
  const open = () => {
    const store = new MemoryEventStore({ ...quickFollow, log });
    opened.push(store);
    return store;
  };
  return {
    store: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const s of opened) await s.close();
    },
  };
}

eventStoreContract('SqliteEventStore', sqliteFixture);
eventStoreContract('MemoryEventStore', memoryFixture);

for (const [name, makeFixture] of [['SqliteEventStore', sqliteFixture], ['MemoryEventStore', memoryFixture]] as const) {
  describe(`${name}: embedded append rules`, () => {
    let fixture: EventStoreFixture;
    before(async () => {
      fixture = await makeFixture();
    });
    after(async () => {
      await fixture.cleanup();
    });

    test('a batch mixing stored and new event ids is refused and writes nothing', async () => {
      const service = unique('Half.s');
      const stream = `service-${service}`;
      const events = command([serviceCreated(service), hostAdded(service, '10.0.0.1')]);
      await fixture.store.append(stream, 'no_stream', events.slice(0, 1));
      const head = await fixture.store.headPosition();
      await assert.rejects(fixture.store.append(stream, 'any', events), EventIdsAlreadyStored);
      assert.equal((await fixture.store.readStream(stream)).length, 1);
      assert.equal(await fixture.store.headPosition(), head);
    });

    test('an event id already stored in another stream is refused', async () => {
      const service = unique('Moved.s');
      const events = command([serviceCreated(service)]);
      await fixture.store.append(`service-${service}`, 'no_stream', events);
      await assert.rejects(fixture.store.append(`service-${service}.copy`, 'any', events), /already stored, in stream service-/);
    });

    test('a payload that does not match its schema is refused before anything is written', async () => {
      const service = unique('Bad.s');
      const stream = `service-${service}`;
      const [good] = command([serviceCreated(service)]);
      const bad = { ...good!, id: unique('bad-'), data: { service, kind: 'standard', lang: 'cpp', port: 'not a number' } } as unknown as typeof good;
      await assert.rejects(fixture.store.append(stream, 'no_stream', [good!, bad!]), /does not match its schema/);
      assert.deepEqual(await fixture.store.readStream(stream), []);
    });

    test('an occurredAt that is not a time is refused with the fix in the message', async () => {
      const [event] = command([serviceCreated('Time.s')]);
      await assert.rejects(fixture.store.append('service-Time.s', 'any', [{ ...event!, occurredAt: 'yesterday' }]), /not an ISO-8601 time/);
    });
  });
}

describe('SqliteEventStore: one database file, several stores and processes', () => {
  let fixture: Awaited<ReturnType<typeof sqliteFixture>>;
  before(async () => {
    fixture = await sqliteFixture();
  });
  after(async () => {
    await fixture.cleanup();
  });

  test('a second store on the same file sees the first one\'s appends live', async () => {
    const second = await fixture.reopen();
    const head = await second.headPosition();
    const seen: RecordedEvent[] = [];
    const sub = second.subscribeAll(head, (batch) => void seen.push(...batch));
    try {
      const service = unique('Two.s');
      const events = command([serviceCreated(service), hostAdded(service, '10.0.0.1')]);
      await fixture.store.append(`service-${service}`, 'no_stream', events);
      await waitUntil('the second store delivered the appends', () => seen.length >= 2);
      assert.deepEqual(seen.map((e) => e.id), events.map((e) => e.id));
    } finally {
      await sub.close();
    }
  });

  test('appends made by other processes are seen by polling, with contiguous revisions and growing positions', async () => {
    const head = await fixture.store.headPosition();
    const seen: RecordedEvent[] = [];
    const sub = fixture.store.subscribeAll(head, (batch) => void seen.push(...batch));
    const stream = `service-${unique('Shared.s')}`;
    try {
      // Two writers race on one stream (expected 'any') and each on a stream of its own.
      await runInOtherProcesses([
        { action: 'appendEvents', file: fixture.file, streams: [stream, `${stream}.a`], count: 60 },
        { action: 'appendEvents', file: fixture.file, streams: [stream, `${stream}.b`], count: 60 },
      ]);
      await waitUntil('every event of the other processes arrived', () => seen.length >= 240, 10_000);
    } finally {
      await sub.close();
    }
    assert.equal(seen.length, 240);
    assert.deepEqual(seen.map((e) => e.position), Array.from({ length: 240 }, (_, i) => head + 1 + i));
    const shared = await fixture.store.readStream(stream);
    assert.deepEqual(shared.map((e) => e.revision), Array.from({ length: 120 }, (_, i) => i));
  });

  test('writers in two processes doing read-modify-write with expected revisions never both win', async () => {
    const stream = `service-${unique('Counter.s')}`;
    await runInOtherProcesses([
      { action: 'countWithExpectedRevision', file: fixture.file, stream, count: 40 },
      { action: 'countWithExpectedRevision', file: fixture.file, stream, count: 40 },
    ]);
    const events = await fixture.store.readStream(stream);
    const numbers = events.map((e) => (e.data as { ip: string }).ip);
    // Had both writers won with the same expected revision, one number would appear twice.
    assert.equal(events.length, 80);
    assert.equal(new Set(numbers).size, 80, 'every number was taken exactly once');
    assert.deepEqual(events.map((e) => e.revision), Array.from({ length: 80 }, (_, i) => i));
  });
});
