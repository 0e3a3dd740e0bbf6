/**
 * EsdbEventStore over a SIMULATED EventStoreDB client (simulated-esdb.ts): the shared contract
 * suite plus the cases only a shared, noisy, dropping server has. This checks the adapter's own
 * logic here, where no server exists; it does not verify the adapter against EventStoreDB
 * (tests/contract/eventstore.esdb.test.ts does, when MSEC_TEST_ESDB_URL is set).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { EsdbEventStore } from '../../../adapters/eventstore/esdb.ts';
import { toEsdbEvent } from '../../../adapters/eventstore/esdb-mapping.ts';
import type { EventStore } from '../../../adapters/eventstore/port.ts';
import type { RecordedEvent } from '../../../domain/events.ts';
import { eventStoreContract, type EventStoreFixture } from '../../contract/eventstore.contract.ts';
import { command, delay, hostAdded, quickFollow, serviceCreated, unique, waitUntil } from '../../contract/support.ts';
import { SimulatedEsdbServer } from './simulated-esdb.ts';

// One server for the whole file, as a real one is shared by every test.
const server = new SimulatedEsdbServer();

async function simulatedFixture(): Promise<EventStoreFixture> {
  const opened: EventStore[] = [];
  const open = () => {
    const store = new EsdbEventStore(server.client(), { ...quickFollow, readPageSize: 7 });
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

eventStoreContract('EsdbEventStore over a simulated EventStoreDB client', simulatedFixture, { emptyAtStart: false });

describe('EsdbEventStore over a simulated EventStoreDB client: what a shared server adds', () => {
  const open = () => new EsdbEventStore(server.client(), { ...quickFollow, readPageSize: 5 });

  test('system events and other applications\' events stay out of readAll, headPosition and subscriptions', async () => {
    const store = open();
    try {
      const head = await store.headPosition();
      const service = unique('Noise.s');
      const events = command([serviceCreated(service), hostAdded(service, '10.0.0.1')]);
      await store.append(`service-${service}`, 'no_stream', events);
      const last = await store.headPosition();
      for (let i = 0; i < 40; i++) server.writeForeign(i % 3 ? 'system' : 'application');
      assert.equal(await store.headPosition(), last, 'the head is the last msec event, however many others follow it');
      const read = await store.readAll(head, 100);
      assert.deepEqual(read.map((e) => e.id), events.map((e) => e.id));
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeAll(head, (batch) => void seen.push(...batch));
      await waitUntil('the subscription delivered both events', () => seen.length >= 2);
      await delay(30);
      await sub.close();
      assert.deepEqual(seen.map((e) => e.id), events.map((e) => e.id));
    } finally {
      await store.close();
    }
  });

  test('a dropped subscription is opened again from the last delivered event: no gap, no repeat', async () => {
    const store = open();
    try {
      const head = await store.headPosition();
      const service = unique('Drop.s');
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeAll(head, async (batch) => {
        await delay(2);
        seen.push(...batch);
      });
      const appended: string[] = [];
      for (let i = 0; i < 12; i++) {
        const events = command([hostAdded(service, `10.0.0.${i}`), hostAdded(service, `10.0.1.${i}`)]);
        await store.append(`service-${service}`, 'any', events);
        appended.push(...events.map((e) => e.id));
        if (i % 4 === 1) server.dropSubscriptions();
        await delay(3);
      }
      await waitUntil('every event arrived', () => seen.length >= appended.length);
      await delay(50);
      await sub.close();
      assert.deepEqual(seen.map((e) => e.id), appended);
      assert.equal(server.liveSubscriptions, 0, 'close() ends the server-side subscription');
    } finally {
      await store.close();
    }
  });

  test('a server that repeats the start event of a subscription does not make the handler see it twice', async () => {
    const repeating = new SimulatedEsdbServer({ subscriptionsIncludeStart: true });
    const store = new EsdbEventStore(repeating.client(), quickFollow);
    try {
      const service = unique('Again.s');
      const first = command([serviceCreated(service), hostAdded(service, '10.0.0.1')]);
      await store.append(`service-${service}`, 'no_stream', first);
      const checkpoint = await store.headPosition();
      const later = command([hostAdded(service, '10.0.0.2')]);
      await store.append(`service-${service}`, 1, later);
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeAll(checkpoint, (batch) => void seen.push(...batch));
      await waitUntil('the later event arrived', () => seen.length >= 1);
      repeating.dropSubscriptions();
      await delay(60);
      await sub.close();
      assert.deepEqual(seen.map((e) => e.id), later.map((e) => e.id));
    } finally {
      await store.close();
    }
  });

  test('a slow handler holds the subscription back instead of buffering the whole log', async () => {
    const store = new EsdbEventStore(server.client(), { ...quickFollow, batchSize: 10 });
    try {
      const head = await store.headPosition();
      const service = unique('Slow.s');
      for (let i = 0; i < 30; i++) await store.append(`service-${service}`, 'any', command(Array.from({ length: 10 }, (_, k) => hostAdded(service, `10.${i}.0.${k}`))));
      let calls = 0;
      let received = 0;
      let largest = 0;
      const pushesBefore = server.subscriptionPushes;
      const sub = store.subscribeAll(head, async (batch) => {
        calls += 1;
        received += batch.length;
        largest = Math.max(largest, batch.length);
        await delay(5);
      });
      await waitUntil('some batches ran', () => calls >= 3);
      await delay(20);
      const ahead = server.subscriptionPushes - pushesBefore - received;
      await sub.close();
      assert.ok(largest <= 10, `batches hold at most batchSize events, saw ${largest}`);
      // Buffer (64) + the readable's own (16) + one batch being taken: far below the 300 written.
      assert.ok(ahead <= 100, `the subscription ran ${ahead} events ahead of the handler`);
    } finally {
      await store.close();
    }
  });

  test('a stream holding an event msec did not write is refused with the reason', async () => {
    const store = open();
    try {
      const stream = `service-${unique('Foreign.s')}`;
      const [mine] = command([serviceCreated('Foreign.s')]);
      await server.client().appendToStream(stream, [{ ...toEsdbEvent(mine!) }], { expectedRevision: 'no_stream' });
      await server.client().appendToStream(stream, [{ id: crypto.randomUUID(), type: 'SomethingElse', contentType: 'application/json', data: { a: 1 }, metadata: undefined }]);
      await assert.rejects(store.readStream(stream), /was not written by msec/);
    } finally {
      await store.close();
    }
  });

  test('a store that is closed refuses work, and closing twice is fine', async () => {
    const store = new EsdbEventStore(server.client(), { logger: pino({ level: 'silent' }) });
    await store.close();
    await store.close();
    await assert.rejects(store.readAll(0, 1), /closed/);
    assert.throws(() => store.subscribeAll(0, () => {}), /closed/);
  });
});
