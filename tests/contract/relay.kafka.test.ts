/**
 * The outbox relay and the event feed through the Kafka bus on librdkafka's mock cluster
 * (2 brokers, 4 partitions with pinned leaders): events cross partitions out of log order and
 * the feed puts them back; brokers down hold the relay's checkpoint; relay and consumer
 * restarts lose nothing and hand nothing to the handler twice.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { busEventFeed } from '../../adapters/bus/event-feed.ts';
import { KafkaBus } from '../../adapters/bus/kafka.ts';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { OutboxRelay } from '../../apps/relay/outbox-relay.ts';
import { mockBusUrl, startKafkaMock, type KafkaMock } from '../services/kafka-mock.ts';
import { appendHosts, busKey, LogCounter } from './relay-support.ts';
import { quickFollow, tempDir, unique, waitUntil } from './support.ts';

const silent = pino({ level: 'silent' });
const quickRetry = { initialMs: 10, maxMs: 100 };

describe('outbox relay and event feed on Kafka (librdkafka mock cluster)', () => {
  let mock: KafkaMock;
  let temp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let checkpoints: SqliteCheckpointStore;
  let producerBus: KafkaBus;
  let consumerBus: KafkaBus;
  let topic: string;
  const relays: OutboxRelay[] = [];
  const relayTo = (bus: KafkaBus, batchSize?: number) => {
    const r = new OutboxRelay({ store, bus, checkpoints, key: busKey, logger: silent, topic, retryDelays: quickRetry, ...(batchSize ? { batchSize } : {}) });
    relays.push(r);
    return r;
  };
  before(async () => {
    mock = await startKafkaMock({ brokers: 2 });
  });
  after(async () => {
    await mock?.stop();
  });
  beforeEach(async () => {
    temp = tempDir('msec-relay-kafka-');
    const file = join(temp.dir, 'msec.db');
    store = SqliteEventStore.open(file, quickFollow);
    checkpoints = SqliteCheckpointStore.open(file);
    producerBus = KafkaBus.fromUrl(mockBusUrl(mock), { logger: silent, retryDelays: quickRetry });
    consumerBus = KafkaBus.fromUrl(mockBusUrl(mock), { logger: silent, retryDelays: quickRetry });
    topic = unique('msec.events.');
    await mock.createTopic(topic, 4);
    for (let p = 0; p < 4; p++) await mock.setLeader(topic, p, 1 + (p % 2));
  });
  afterEach(async () => {
    await mock.brokerUp('all');
    for (const r of relays.splice(0)) await r.stop();
    await producerBus.close();
    await consumerBus.close();
    await store.close();
    checkpoints.close();
    temp.remove();
  });

  test('every event once and in log order across 4 partitions; brokers down hold the checkpoint until they acknowledge', async () => {
    const relay = relayTo(producerBus);
    const counter = new LogCounter();
    const group = unique('projector-');
    const feed = busEventFeed(consumerBus, { group, topic, key: busKey, logger: silent }).subscribeAll(0, counter.handler);
    await feed.ready!();
    await relay.start();
    const first = await appendHosts(store, 200, { services: 16, perAppend: 5 });
    await waitUntil('the first 200 arrived', () => counter.unique >= 200, 20_000);
    await waitUntil('the relay checkpointed them', () => relay.status().checkpoint === first);

    await mock.brokerDown('all');
    const head = await appendHosts(store, 100, { first: 200, services: 16 });
    await waitUntil('the relay read new events', () => relay.status().head! > first);
    assert.equal(relay.status().checkpoint, first, 'nothing acknowledged while every broker is down');
    assert.equal(await checkpoints.load('outbox-relay'), first);
    await mock.brokerUp('all');
    await waitUntil('the relay caught up', () => relay.status().checkpoint === head, 60_000);
    await waitUntil('all 300 arrived', () => counter.unique >= 300, 60_000);
    await waitUntil('the group committed everything', async () => {
      const lag = await consumerBus.lag(topic, group);
      return lag.committed === lag.end;
    }, 20_000);
    await feed.close();
    await relay.stop();
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [300, 0, 0]);
  });

  test('relay and consumer restarts: nothing lost, what is sent or delivered again reaches the handler once', async () => {
    const group = unique('projector-');
    const counter = new LogCounter();
    let head = await appendHosts(store, 100, { services: 16 });
    const relay1 = relayTo(producerBus, 25);
    await relay1.start();
    await waitUntil('relayed', () => relay1.status().checkpoint === head, 20_000);
    await relay1.stop();
    await checkpoints.save('outbox-relay', 50); // as if it crashed after publishing 51..100 unacknowledged
    const feed1 = busEventFeed(consumerBus, { group, topic, key: busKey, logger: silent }).subscribeAll(0, counter.handler);
    await waitUntil('half arrived', () => counter.unique >= 50, 20_000);
    await feed1.close();

    head = await appendHosts(store, 50, { first: 100, services: 16 });
    const relay2 = relayTo(producerBus, 25);
    await relay2.start();
    // The consumer restarts from the position it had handled, in the same group.
    const feed2 = busEventFeed(consumerBus, { group, topic, key: busKey, logger: silent }).subscribeAll(counter.last, counter.handler);
    await waitUntil('everything arrived', () => counter.unique >= 150, 30_000);
    await waitUntil('relayed after the restart', () => relay2.status().checkpoint === head, 20_000);
    await feed2.close();
    await relay2.stop();
    const published = (await consumerBus.lag(topic, group)).end;
    assert.equal(published, 200, '51..100 were published twice');
    assert.deepEqual([counter.unique, counter.duplicates, counter.outOfOrder], [150, 0, 0]);
  });
});
