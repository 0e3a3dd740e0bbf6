/**
 * The EventStore contract: every adapter of adapters/eventstore/port.ts runs this suite.
 * Only what the port promises is tested here. Positions are compared by order, never by value
 * (EventStoreDB's positions are not 1, 2, 3), and every test uses its own streams and reads
 * the global log from the head it found, so a shared server works too.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { NewEvent, RecordedEvent } from '../../domain/events.ts';
import type { HostProtocol } from '../../domain/services/events.ts';
import { WrongExpectedRevision, type EventStore } from '../../adapters/eventstore/port.ts';
import { currentSchemaVersion, registerUpcaster, unregisterUpcasters } from '../../schemas/upcasters.ts';
import { command, delay, hostAdded, hostEnabled, serviceCreated, unique, waitUntil } from './support.ts';

export interface EventStoreFixture {
  store: EventStore;
  /** Another store on the same data, as after a restart. */
  reopen(): Promise<EventStore>;
  /** Closes every store the fixture opened and removes its data. */
  cleanup(): Promise<void>;
}

const ids = (events: readonly { id: string }[]) => events.map((e) => e.id);

function assertIncreasing(positions: number[]): void {
  positions.forEach((p, i) => {
    assert.ok(Number.isSafeInteger(p) && p > 0, `position ${p} must be a positive integer`);
    if (i > 0) assert.ok(p > positions[i - 1]!, `positions must grow: ${positions.join(', ')}`);
  });
}

/** Appends `count` events over several streams, `perAppend` at a time; returns them in order. */
async function appendMany(store: EventStore, count: number, perAppend: number): Promise<NewEvent[]> {
  const service = unique('Bulk.s');
  const all: NewEvent[] = [];
  for (let i = 0; i < count; i += perAppend) {
    const n = Math.min(perAppend, count - i);
    const events = command(Array.from({ length: n }, (_, k) => hostAdded(service, `10.0.${(i + k) >> 8}.${(i + k) & 255}`)));
    await store.append(`service-${service}.${i % 3}`, 'any', events);
    all.push(...events);
  }
  return all;
}

async function readAllAfter(store: EventStore, after: number): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll(out.length ? out[out.length - 1]!.position : after, 1000);
    if (page.length === 0) return out;
    out.push(...page);
  }
}

export interface EventStoreContractOptions {
  /**
   * Each fixture starts with an empty store (default true). A shared server (EventStoreDB,
   * whose $all holds every earlier test's events) sets false: the empty-store test then
   * checks what a fresh stream and the log after the current head look like.
   */
  emptyAtStart?: boolean;
}

export function eventStoreContract(name: string, makeStore: () => Promise<EventStoreFixture>, options: EventStoreContractOptions = {}): void {
  const emptyAtStart = options.emptyAtStart ?? true;
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    if (emptyAtStart) {
      test('an empty store has head position 0 and reads nothing', async () => {
        assert.equal(await store.headPosition(), 0);
        assert.deepEqual(await store.readAll(0, 10), []);
        assert.deepEqual(await store.readStream(unique('service-Nothing')), []);
      });
    } else {
      test('a shared store: the log ends at the head, and a fresh stream reads nothing', async () => {
        const head = await store.headPosition();
        assert.ok(Number.isSafeInteger(head) && head >= 0, `head position ${head} must be a whole number ≥ 0`);
        assert.deepEqual(await store.readAll(head, 10), []);
        assert.deepEqual(await store.readStream(unique('service-Nothing')), []);
        if (head > 0) {
          const [first] = await store.readAll(0, 1);
          assert.ok(first && first.position > 0 && first.position <= head, 'the log before the head reads back');
        }
      });
    }

    test('append then read returns every metadata field and the payload', async () => {
      const service = unique('Flight.mod_');
      const stream = `service-${service}`;
      const head = await store.headPosition();
      const events = command([serviceCreated(service, 8001), hostAdded(service, '10.1.2.3', 8001)], {
        actor: 'alice',
        reason: 'new flight search backend',
        causationId: 'cmd-parent-1',
        at: Date.parse('2026-03-04T05:06:07.089Z'),
      });
      const result = await store.append(stream, 'no_stream', events);
      assert.equal(result.nextRevision, 1);

      const read = await store.readStream(stream);
      assert.equal(read.length, 2);
      assertIncreasing(read.map((e) => e.position));
      assert.ok(read[0]!.position > head);
      assert.equal(result.position, read[1]!.position);
      read.forEach((got, i) => {
        assert.deepEqual(got, { ...events[i], stream, revision: i, position: got.position, schemaVersion: 1 });
      });
      assert.equal(read[0]!.occurredAt, '2026-03-04T05:06:07.089Z');
      assert.equal(read[1]!.causationId, 'cmd-parent-1');
      assert.deepEqual(await store.readAll(head, 10), read);
      assert.equal(await store.headPosition(), result.position);
    });

    test('readStream starts at the given revision', async () => {
      const service = unique('Flight.mod_');
      const stream = `service-${service}`;
      await store.append(stream, 'no_stream', command([serviceCreated(service), hostAdded(service, '10.0.0.1'), hostEnabled(service, '10.0.0.1')]));
      const tail = await store.readStream(stream, 1);
      assert.deepEqual(tail.map((e) => [e.revision, e.type]), [[1, 'HostAdded'], [2, 'HostEnabled']]);
      assert.deepEqual(await store.readStream(stream, 3), []);
    });

    test('expected no_stream: the first append succeeds, a second is refused and writes nothing', async () => {
      const service = unique('Flight.mod_');
      const stream = `service-${service}`;
      await store.append(stream, 'no_stream', command([serviceCreated(service)]));
      const head = await store.headPosition();
      await assert.rejects(store.append(stream, 'no_stream', command([serviceCreated(service)])), (err: unknown) => {
        assert.ok(err instanceof WrongExpectedRevision);
        assert.equal(err.stream, stream);
        assert.equal(err.expected, 'no_stream');
        assert.equal(err.actual, 0);
        return true;
      });
      assert.equal((await store.readStream(stream)).length, 1);
      assert.equal(await store.headPosition(), head);
    });

    test('expected revision: the matching revision appends, a stale one is refused and writes nothing', async () => {
      const service = unique('Flight.mod_');
      const stream = `service-${service}`;
      const first = await store.append(stream, 'no_stream', command([serviceCreated(service)]));
      assert.equal(first.nextRevision, 0);
      const second = await store.append(stream, 0, command([hostAdded(service, '10.0.0.1'), hostAdded(service, '10.0.0.2')]));
      assert.equal(second.nextRevision, 2);
      assert.ok(second.position > first.position);

      const head = await store.headPosition();
      await assert.rejects(store.append(stream, 0, command([hostEnabled(service, '10.0.0.1')])), (err: unknown) => {
        assert.ok(err instanceof WrongExpectedRevision);
        assert.deepEqual([err.stream, err.expected, err.actual], [stream, 0, 2]);
        return true;
      });
      const missing = `service-${unique('Nobody.x')}`;
      await assert.rejects(store.append(missing, 4, command([serviceCreated('Nobody.x')])), (err: unknown) => {
        assert.ok(err instanceof WrongExpectedRevision);
        assert.equal(err.actual, 'no_stream');
        return true;
      });
      assert.equal((await store.readStream(stream)).length, 3);
      assert.deepEqual(await store.readStream(missing), []);
      assert.equal(await store.headPosition(), head);
    });

    test('expected any appends at whatever revision the stream is', async () => {
      const service = unique('Flight.mod_');
      const stream = `service-${service}`;
      assert.equal((await store.append(stream, 'any', command([serviceCreated(service)]))).nextRevision, 0);
      assert.equal((await store.append(stream, 'any', command([hostAdded(service, '10.0.0.1')]))).nextRevision, 1);
      assert.deepEqual((await store.readStream(stream)).map((e) => e.revision), [0, 1]);
    });

    test('a retried append (same event ids) writes nothing and returns the first result', async () => {
      const service = unique('Flight.mod_');
      const stream = `service-${service}`;
      const events = command([serviceCreated(service), hostAdded(service, '10.0.0.1')], { commandId: unique('cmd-') });
      const first = await store.append(stream, 'no_stream', events);
      const head = await store.headPosition();
      // The retry carries the expected revision of the first try, which is stale by now.
      const retried = await store.append(stream, 'no_stream', events.map((e) => ({ ...e })));
      assert.deepEqual(retried, first);
      assert.deepEqual(ids(await store.readStream(stream)), ids(events));
      assert.equal(await store.headPosition(), head);
    });

    test('appends to different streams share one global order', async () => {
      const a = unique('Order.a');
      const b = unique('Order.b');
      const head = await store.headPosition();
      const appended: NewEvent[] = [];
      for (let i = 0; i < 4; i++) {
        const [service, ip] = i % 2 === 0 ? [a, `10.0.0.${i}`] : [b, `10.0.1.${i}`];
        const events = command([hostAdded(service, ip)]);
        await store.append(`service-${service}`, 'any', events);
        appended.push(...events);
      }
      const all = await store.readAll(head, 100);
      assert.deepEqual(ids(all), ids(appended));
      assertIncreasing(all.map((e) => e.position));
      assert.deepEqual((await store.readStream(`service-${a}`)).map((e) => e.revision), [0, 1]);
      assert.deepEqual((await store.readStream(`service-${b}`)).map((e) => e.revision), [0, 1]);
    });

    test('readAll pages with after + limit', async () => {
      const head = await store.headPosition();
      const appended = await appendMany(store, 7, 1);
      const pages: RecordedEvent[][] = [];
      let after = head;
      for (;;) {
        const page = await store.readAll(after, 3);
        pages.push(page);
        if (page.length === 0) break;
        after = page[page.length - 1]!.position;
      }
      assert.deepEqual(pages.map((p) => p.length), [3, 3, 1, 0]);
      assert.deepEqual(ids(pages.flat()), ids(appended));
      assert.equal(await store.headPosition(), after);
      assert.deepEqual(await store.readAll(head, 0), []);
    });

    test('concurrent appends with one expected revision: exactly one wins', async () => {
      const service = unique('Race.s');
      const stream = `service-${service}`;
      await store.append(stream, 'no_stream', command([serviceCreated(service)]));
      const attempts = Array.from({ length: 8 }, (_, i) => store.append(stream, 0, command([hostAdded(service, `10.0.0.${i}`)])));
      const outcomes = await Promise.allSettled(attempts);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.equal(won.length, 1);
      for (const o of lost) assert.ok(o.reason instanceof WrongExpectedRevision, String(o.reason));
      assert.equal((await store.readStream(stream)).length, 2);
    });

    test('upcasters lift old payloads on read; events written at the current version are left alone', async () => {
      const service = unique('Upcast.s');
      const stream = `service-${service}`;
      // Version 1 of HostAdded (in this story) spelled the protocol in upper case.
      const old = hostAdded(service, '10.0.0.1');
      const v1 = { ...old, data: { ...old.data, protocol: 'TCP' as HostProtocol } } as typeof old;
      const head = await store.headPosition();
      await store.append(stream, 'no_stream', command([v1], { schemaVersion: 1 }));
      registerUpcaster('HostAdded', 1, (data) => ({ ...data, protocol: String(data.protocol).toLowerCase() }));
      try {
        assert.equal(currentSchemaVersion('HostAdded'), 2);
        const fresh = hostAdded(service, '10.0.0.2');
        const freshUdp = { ...fresh, data: { ...fresh.data, protocol: 'udp' as HostProtocol } } as typeof fresh;
        await store.append(stream, 0, command([freshUdp]));
        const read = await store.readStream(stream);
        assert.deepEqual(read.map((e) => [e.schemaVersion, (e.data as { protocol: string }).protocol]), [[2, 'tcp'], [2, 'udp']]);
        assert.deepEqual((await store.readAll(head, 10)).map((e) => (e.data as { protocol: string }).protocol), ['tcp', 'udp']);
        const seen: RecordedEvent[] = [];
        const sub = store.subscribeAll(head, (batch) => void seen.push(...batch));
        await waitUntil('the subscription delivered both events', () => seen.length >= 2);
        await sub.close();
        assert.deepEqual(seen.map((e) => (e.data as { protocol: string }).protocol), ['tcp', 'udp']);
      } finally {
        unregisterUpcasters('HostAdded');
      }
    });

    test('subscribeAll catches up, then follows live appends: in order, one batch at a time, no gaps or repeats', async () => {
      const head = await store.headPosition();
      const before = await appendMany(store, 1203, 10);
      const seen: RecordedEvent[] = [];
      let running = 0;
      let overlapped = false;
      const sub = store.subscribeAll(head, async (batch) => {
        running += 1;
        if (running > 1) overlapped = true;
        assert.ok(batch.length > 0, 'a batch is never empty');
        await delay(1);
        seen.push(...batch);
        running -= 1;
      });
      try {
        await waitUntil('the subscription caught up', () => seen.length >= before.length);
        const live: NewEvent[] = [];
        for (let i = 0; i < 5; i++) {
          live.push(...(await appendMany(store, 3, 3)));
          await delay(i * 3);
        }
        await waitUntil('the live appends arrived', () => seen.length >= before.length + live.length);
        await delay(50);
      } finally {
        await sub.close();
      }
      assert.equal(overlapped, false, 'the handler must never run twice at once');
      assert.equal(seen.length, 1203 + 15);
      assert.deepEqual(ids(seen), ids(await readAllAfter(store, head)));
      assertIncreasing(seen.map((e) => e.position));
    });

    test('a subscription closed and reopened from its checkpoint continues exactly where it stopped', async () => {
      const head = await store.headPosition();
      await appendMany(store, 10, 2);
      const firstRun: RecordedEvent[] = [];
      const first = store.subscribeAll(head, (batch) => void firstRun.push(...batch));
      await waitUntil('the first subscription caught up', () => firstRun.length >= 10);
      await first.close();
      const checkpoint = firstRun[firstRun.length - 1]!.position;

      await appendMany(store, 6, 3);
      const secondRun: RecordedEvent[] = [];
      const second = store.subscribeAll(checkpoint, (batch) => void secondRun.push(...batch));
      await waitUntil('the second subscription caught up', () => secondRun.length >= 6);
      await appendMany(store, 2, 1);
      await waitUntil('the live events arrived', () => secondRun.length >= 8);
      await second.close();

      assert.deepEqual(ids([...firstRun, ...secondRun]), ids(await readAllAfter(store, head)));
    });

    test('after a restart, the store keeps its events and a subscription resumes from its checkpoint', async () => {
      const head = await store.headPosition();
      const service = unique('Restart.s');
      const stream = `service-${service}`;
      await store.append(stream, 'no_stream', command([serviceCreated(service), hostAdded(service, '10.0.0.1')]));
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeAll(head, (batch) => void seen.push(...batch));
      await waitUntil('the subscription caught up', () => seen.length >= 2);
      await sub.close();
      await store.close();

      const reopened = await fixture.reopen();
      assert.deepEqual(ids(await reopened.readStream(stream)), ids(seen));
      await reopened.append(stream, 1, command([hostEnabled(service, '10.0.0.1')]));
      const after: RecordedEvent[] = [];
      const resumed = reopened.subscribeAll(seen[1]!.position, (batch) => void after.push(...batch));
      await waitUntil('the resumed subscription got the new event', () => after.length >= 1);
      await delay(30);
      await resumed.close();
      assert.deepEqual(after.map((e) => [e.type, e.revision]), [['HostEnabled', 2]]);
    });

    test('a failing handler gets the same batch again; nothing is skipped', async () => {
      const head = await store.headPosition();
      const appended = await appendMany(store, 5, 5);
      const calls: string[][] = [];
      let failures = 0;
      const sub = store.subscribeAll(head, (batch) => {
        calls.push(ids(batch));
        if (failures < 2) {
          failures += 1;
          throw new Error('projection sink is down');
        }
      });
      // Once the first batch succeeded, every later call carries new events only.
      const delivered = () => (calls.length >= 3 ? [...calls[0]!, ...calls.slice(3).flat()] : []);
      try {
        await waitUntil('the batch was delivered three times', () => calls.length >= 3);
        await appendMany(store, 2, 2);
        await waitUntil('the next events arrived', () => delivered().length >= 5 + 2);
      } finally {
        await sub.close();
      }
      // A pushing store (EventStoreDB) may cut the first batch before the append's last event:
      // the port promises redelivery of the same batch, not that a batch is one append.
      assert.ok(calls[0]!.length > 0);
      assert.deepEqual(calls[0], ids(appended).slice(0, calls[0]!.length));
      assert.deepEqual(calls[1], calls[0]);
      assert.deepEqual(calls[2], calls[0]);
      assert.deepEqual(ids(await readAllAfter(store, head)), delivered());
    });

    test('close() waits for the running handler, and nothing is delivered after it', async () => {
      const head = await store.headPosition();
      await appendMany(store, 2, 2);
      let calls = 0;
      let handlerRunning = false;
      const sub = store.subscribeAll(head, async () => {
        calls += 1;
        handlerRunning = true;
        await delay(80);
        handlerRunning = false;
      });
      await waitUntil('the handler started', () => handlerRunning);
      await sub.close();
      assert.equal(handlerRunning, false, 'close() resolved while the handler was still running');
      const callsAtClose = calls;
      await appendMany(store, 2, 2);
      await delay(100);
      assert.equal(calls, callsAtClose);
    });
  });
}
