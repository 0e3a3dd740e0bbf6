/**
 * The outbox relay (store -> msec.events) and the event feed (msec.events -> a store-shaped
 * subscribeAll) with the embedded SQLite store, bus and checkpoints: the checkpoint moves only
 * after the bus acknowledged, an outage is retried and logged once, a restart resumes without
 * loss, re-sent and redelivered events reach the handler once, in log order.
 * relay.kafka.test.ts runs the same paths through Kafka (the mock broker).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { busEventFeed } from '../../adapters/bus/event-feed.ts';
import { eventHeaders, eventMessage } from '../../adapters/bus/event-message.ts';
import type { BusMessage, ConsumedMessage, MessageBus } from '../../adapters/bus/port.ts';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import { decodeEnvelope } from '../../schemas/codec.ts';
import { OutboxRelay } from '../../apps/relay/outbox-relay.ts';
import { appendHosts, busKey, LogCounter } from './relay-support.ts';
import { quickFollow, tempDir, unique, waitUntil } from './support.ts';

const silent = pino({ level: 'silent' });
const quickRetry = { initialMs: 10, maxMs: 100 };

/** A real bus whose publish can be held (ack pending) or made to fail, as a broker would. */
class GatedBus implements MessageBus {
  failing = false;
  attempts = 0;
  waiting = 0;
  private release: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  constructor(private readonly inner: MessageBus) {}
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.gate = undefined;
    this.release?.();
  }
  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    this.attempts += 1;
    if (this.failing) throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
    if (this.gate) {
      this.waiting += 1;
      await this.gate;
      this.waiting -= 1;
    }
    await this.inner.publish(topic, messages);
  }
  subscribe(...args: Parameters<MessageBus['subscribe']>) { return this.inner.subscribe(...args); }
  lag(topic: string, group: string) { return this.inner.lag(topic, group); }
  close() { return this.inner.close(); }
}

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40), infos: () => lines.filter((l) => l.level === 30) };
}

describe('outbox relay and event feed on the embedded store and bus', () => {
  let temp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let sqliteBus: SqliteMessageBus;
  let bus: GatedBus;
  let checkpoints: SqliteCheckpointStore;
  const relays: OutboxRelay[] = [];
  const relay = (options: { name?: string; batchSize?: number; logger?: pino.Logger } = {}) => {
    const r = new OutboxRelay({ store, bus, checkpoints, key: busKey, logger: silent, retryDelays: quickRetry, ...options });
    relays.push(r);
    return r;
  };
  beforeEach(() => {
    temp = tempDir('msec-relay-');
    const file = join(temp.dir, 'msec.db');
    store = SqliteEventStore.open(file, quickFollow);
    sqliteBus = SqliteMessageBus.open(file, quickFollow);
    bus = new GatedBus(sqliteBus);
    checkpoints = SqliteCheckpointStore.open(file);
  });
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.stop();
    await bus.close();
    await store.close();
    checkpoints.close();
    temp.remove();
  });

  test('every event goes to msec.events keyed by stream, as its envelope, with id, type, position, prev-position and signature', async () => {
    const head = await appendHosts(store, 30, { services: 3, perAppend: 2 });
    const r = relay({ batchSize: 7 });
    await r.start();
    await waitUntil('the relay caught up', () => r.status().checkpoint === head);
    assert.equal(await checkpoints.load('outbox-relay'), head);

    const received: ConsumedMessage[] = [];
    const sub = bus.subscribe({ topic: 'msec.events', group: unique('raw-'), fromBeginning: true }, (batch) => void received.push(...batch));
    await waitUntil('all 30 arrived', () => received.length >= 30);
    await sub.close();
    const stored = await store.readAll(0, 100);
    assert.equal(received.length, 30);
    received.forEach((m, i) => {
      const event = stored[i]!;
      assert.equal(m.key, event.stream);
      assert.deepEqual(decodeEnvelope(m.value), event);
      const prev = String(i === 0 ? 0 : stored[i - 1]!.position);
      assert.deepEqual(m.headers, {
        [eventHeaders.id]: event.id,
        [eventHeaders.type]: 'HostAdded',
        [eventHeaders.position]: String(event.position),
        [eventHeaders.prevPosition]: prev,
        [eventHeaders.signature]: busKey.sign(prev, m.value),
      });
      assert.equal(busKey.check(m.headers[eventHeaders.signature], prev, m.value), 'valid');
    });
    assert.deepEqual(r.status(), { name: 'outbox-relay', running: true, checkpoint: head, head, published: 30 });
  });

  test('the checkpoint moves only after the bus acknowledged', async () => {
    const first = await appendHosts(store, 5);
    const r = relay();
    await r.start();
    await waitUntil('the first events were relayed', () => r.status().checkpoint === first);
    bus.hold();
    const head = await appendHosts(store, 5, { first: 5 });
    await waitUntil('a publish waits for its acknowledgement', () => bus.waiting === 1);
    assert.equal(r.status().checkpoint, first);
    assert.ok(r.status().head! > first, 'the relay read the next events');
    assert.equal(await checkpoints.load('outbox-relay'), first);
    bus.open();
    await waitUntil('the checkpoint moved after the acknowledgement', () => r.status().checkpoint === head);
    assert.equal(await checkpoints.load('outbox-relay'), head);
  });

  test('while the bus is down the relay retries the same batch, logs the outage once, and loses nothing', async () => {
    const { logger, warnings, infos } = capturingLogger();
    const r = relay({ logger });
    await r.start();
    bus.failing = true;
    const head = await appendHosts(store, 20);
    await waitUntil('the relay tried several times', () => bus.attempts >= 5);
    const during = r.status();
    assert.equal(during.checkpoint, 0);
    assert.match(during.lastError ?? '', /ECONNREFUSED/);
    assert.ok(during.outageSince, 'the status shows the outage');
    bus.failing = false;
    await waitUntil('the relay caught up after the outage', () => r.status().checkpoint === head);
    assert.equal(r.status().outageSince, undefined);
    assert.equal(warnings().length, 1, JSON.stringify(warnings()));
    assert.match(warnings()[0]!.msg, /cannot hand events after position 0 to the bus: .*ECONNREFUSED.*Check that the brokers/);
    assert.equal(infos().filter((l) => /answers again/.test(l.msg)).length, 1);

    const counter = new LogCounter();
    const feed = busEventFeed(bus, { group: unique('feed-'), key: busKey, logger: silent }).subscribeAll(0, counter.handler);
    await waitUntil('the feed got everything', () => counter.unique >= 20);
    await feed.close();
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [20, 0, 0]);
  });

  test('a restarted relay resumes at its checkpoint; what it sends again reaches the feed handler once', async () => {
    const counter = new LogCounter();
    const group = unique('projector-');
    const feed = busEventFeed(bus, { group, key: busKey, logger: silent }).subscribeAll(0, counter.handler);
    let head = await appendHosts(store, 40, { perAppend: 4 });
    const r1 = relay({ batchSize: 10 });
    await r1.start();
    await waitUntil('relayed', () => r1.status().checkpoint === head);
    await r1.stop();
    // As if the relay had crashed after publishing position 10.. but before its checkpoint.
    const firstBatch = (await store.readAll(0, 10)).at(-1)!.position;
    await checkpoints.save('outbox-relay', firstBatch);
    head = await appendHosts(store, 20, { first: 40 });
    const r2 = relay({ batchSize: 10 });
    await r2.start();
    await waitUntil('the feed got every event', () => counter.unique >= 60);
    await waitUntil('relayed after the restart', () => r2.status().checkpoint === head);
    await feed.close();
    const resent = (await bus.lag('msec.events', group)).end - 60;
    assert.equal(resent, 30, 'positions 11..40 were published twice');
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [60, 0, 0]);
  });

  // Across batches only a partitioned bus can reorder (the Kafka tests below): an embedded bus
  // hands a refused batch back as it was, so the missing event would never join it.
  test('the feed puts the events of a batch back in log order, drops repeats, and starts after `after`', async () => {
    const head = await appendHosts(store, 6);
    const events = await store.readAll(0, 10);
    const message = (i: number) => eventMessage(events[i]!, i === 0 ? 0 : events[i - 1]!.position, busKey);
    const delivered: RecordedEvent[] = [];
    const feed = busEventFeed(bus, { group: unique('feed-'), key: busKey, logger: silent }).subscribeAll(events[0]!.position, (batch) => void delivered.push(...batch));
    // The first event lies at `after` (dropped); the second comes twice.
    await bus.publish('msec.events', [message(2), message(0), message(5), message(1), message(4), message(3), message(1)]);
    await waitUntil('events 2..6 were delivered', () => delivered.at(-1)?.position === head);
    await feed.close();
    assert.deepEqual(delivered.map((e) => e.position), events.slice(1).map((e) => e.position));
  });

  test('a feed handler that throws gets the same events again; a new subscription resumes after its `after`', async () => {
    const head = await appendHosts(store, 10);
    const r = relay();
    await r.start();
    const group = unique('feed-');
    const tries: number[][] = [];
    const first = busEventFeed(bus, { group, key: busKey, logger: silent }).subscribeAll(0, (batch) => {
      tries.push(batch.map((e) => e.position));
      if (tries.length === 1) throw new Error('view store unavailable');
    });
    await waitUntil('handled after one failure', () => tries.length >= 2 && tries.flat().includes(head));
    await first.close();
    assert.deepEqual(tries[1]!.slice(0, tries[0]!.length), tries[0]);

    const more = await appendHosts(store, 5, { first: 10 });
    const counter = new LogCounter();
    const second = busEventFeed(bus, { group, key: busKey, logger: silent }).subscribeAll(head, counter.handler);
    await waitUntil('the new events arrived', () => counter.last === more);
    await second.close();
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [5, 0, 0]);
  });
});
