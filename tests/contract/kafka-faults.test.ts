/**
 * The fault test of issue 3: 10 000 events appended to the embedded store while the outbox
 * relay publishes them to Kafka (librdkafka's mock cluster, 3 brokers, 4 partitions) and a
 * consumer reads them back through the event feed. Halfway, every broker goes down for several
 * seconds (and a partition leader moves meanwhile), then comes back. The consumer must see
 * every event exactly once and in log order: sent 10 000, arrived 10 000 unique, 0 duplicates.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { busEventFeed } from '../../adapters/bus/event-feed.ts';
import { KafkaBus } from '../../adapters/bus/kafka.ts';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { OutboxRelay } from '../../apps/relay/outbox-relay.ts';
import { mockBusUrl, startKafkaMock, type KafkaMock } from '../services/kafka-mock.ts';
import { appendHosts, busKey, LogCounter } from './relay-support.ts';
import { delay, quickFollow, tempDir, unique, waitUntil } from './support.ts';

const silent = pino({ level: 'silent' });
const total = 10_000;
const outageMs = 4_000;

let mock: KafkaMock;
before(async () => {
  mock = await startKafkaMock({ brokers: 3 });
});
after(async () => {
  await mock?.stop();
});

test(`${total} events through relay, Kafka and event feed survive every broker going down`, async (t) => {
  const temp = tempDir('msec-kafka-faults-');
  const file = join(temp.dir, 'msec.db');
  const store = SqliteEventStore.open(file, quickFollow);
  const checkpoints = SqliteCheckpointStore.open(file);
  const topic = unique('msec.events.');
  await mock.createTopic(topic, 4);
  for (let p = 0; p < 4; p++) await mock.setLeader(topic, p, 1 + (p % 3));

  const retryDelays = { initialMs: 50, maxMs: 1_000 };
  const producerBus = KafkaBus.fromUrl(mockBusUrl(mock), { logger: silent, retryDelays });
  const consumerBus = KafkaBus.fromUrl(mockBusUrl(mock), { logger: silent, retryDelays });
  const relay = new OutboxRelay({ store, bus: producerBus, checkpoints, key: busKey, logger: silent, topic, retryDelays });
  const counter = new LogCounter();
  const group = unique('projector-');
  const feed = busEventFeed(consumerBus, { group, topic, key: busKey, logger: silent }).subscribeAll(0, counter.handler);
  const started = Date.now();
  try {
    await feed.ready!();
    await relay.start();

    // Appends go on while the brokers are away: the store does not care, the relay must catch up.
    const half = total / 2;
    await appendHosts(store, half, { services: 40, perAppend: 10 });
    await waitUntil('the relay and the consumer are under way', () => relay.status().checkpoint >= total / 4 && counter.unique > 0, 60_000);
    await mock.brokerDown('all');
    const downAt = { relayed: relay.status().checkpoint, consumed: counter.unique };
    await appendHosts(store, total / 4, { first: half, services: 40, perAppend: 10 });
    await mock.setLeader(topic, 0, 2);
    await delay(outageMs);
    await mock.brokerUp('all');
    const head = await appendHosts(store, total / 4, { first: half + total / 4, services: 40, perAppend: 10 });
    assert.equal(head, total);

    await waitUntil('the relay published everything', () => relay.status().checkpoint === head, 120_000);
    await waitUntil(`the consumer got all ${total}`, () => counter.unique >= total, 120_000);
    await waitUntil('the consumer group committed everything', async () => {
      const lag = await consumerBus.lag(topic, group);
      return lag.committed === lag.end;
    }, 30_000);
    const published = (await consumerBus.lag(topic, group)).end;

    const lines = [
      `sent ${head}, arrived ${counter.unique} unique, ${counter.duplicates} duplicates delivered, ${counter.outOfOrder} out of order (handler saw ${counter.delivered})`,
      `brokers down for ${outageMs} ms after ${downAt.relayed} relayed / ${downAt.consumed} consumed; messages on the topic ${published} (${published - head} re-sent)`,
      `relay ${JSON.stringify(relay.status())}`,
      `whole run ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ];
    for (const line of lines) {
      t.diagnostic(line);
      console.log(`kafka-faults: ${line}`);
    }
    assert.equal(counter.unique, total);
    assert.equal(counter.duplicates, 0);
    assert.equal(counter.outOfOrder, 0);
    assert.equal(counter.delivered, total);
  } finally {
    await mock.brokerUp('all');
    await feed.close();
    await relay.stop();
    await producerBus.close();
    await consumerBus.close();
    await store.close();
    checkpoints.close();
    temp.remove();
  }
});
