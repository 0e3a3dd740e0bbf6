/**
 * The MessageBus contract against the Kafka bus on a Kafka-protocol broker (librdkafka's mock
 * cluster, tests/services/kafka-mock.ts), plus what only the Kafka adapter promises: settings
 * from MSEC_BUS, topics on a cluster without CreateTopics, partitions consumed independently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { KafkaBus } from '../../adapters/bus/kafka.ts';
import { describeKafkaSettings, parseKafkaUrl } from '../../adapters/bus/kafka-settings.ts';
import type { ConsumedMessage, MessageBus } from '../../adapters/bus/port.ts';
import { mockBusUrl, startKafkaMock, type KafkaMock } from '../services/kafka-mock.ts';
import { busContract, type BusFixture } from './bus.contract.ts';
import { delay, unique, waitUntil } from './support.ts';

const silent = pino({ level: 'silent' });
const quickRetry = { initialMs: 20, maxMs: 200 };

let mock: KafkaMock;
before(async () => {
  mock = await startKafkaMock({ brokers: 3 });
});
after(async () => {
  await mock?.stop();
});

const mockBus = (kafka: KafkaMock) => KafkaBus.fromUrl(mockBusUrl(kafka), { logger: silent, retryDelays: quickRetry });

async function kafkaFixture(): Promise<BusFixture> {
  const opened: MessageBus[] = [];
  const open = () => {
    const bus = mockBus(mock);
    opened.push(bus);
    return bus;
  };
  return {
    bus: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const b of opened) await b.close();
    },
    patienceMs: 20_000,
  };
}

busContract('KafkaBus (librdkafka mock cluster, 3 brokers)', kafkaFixture);

describe('KafkaBus: settings from MSEC_BUS', () => {
  test('brokers, options and defaults (acks=all, idempotent) are read from the URL', () => {
    const s = parseKafkaUrl('kafka://k1:9093,k2,[::1]:9094?clientId=console&compression=gzip&partitions=8&replication=3', {});
    assert.deepEqual(s.brokers, ['k1:9093', 'k2:9092', '[::1]:9094']);
    assert.equal(s.clientId, 'console');
    assert.equal(s.acks, -1);
    assert.equal(s.idempotent, true);
    assert.equal(s.compression, 'gzip');
    assert.equal(s.partitions, 8);
    assert.equal(s.replicationFactor, 3);
    assert.equal(s.tls, false);
    assert.equal(s.sasl, undefined);
  });

  test('the SASL password comes from MSEC_KAFKA_PASSWORD and is left out of the printable settings', () => {
    const s = parseKafkaUrl('kafka://k1:9092?tls=true&sasl=scram-sha-512&username=msec', { MSEC_KAFKA_PASSWORD: 's3cret-pw' });
    assert.deepEqual(s.sasl, { mechanism: 'scram-sha-512', username: 'msec', password: 's3cret-pw' });
    assert.equal(s.tls, true);
    const printable = JSON.stringify(describeKafkaSettings(s));
    assert.ok(!printable.includes('s3cret-pw'), printable);
    assert.match(printable, /"sasl":"scram-sha-512"/);
  });

  test('mistakes are refused with what to do instead', () => {
    const refused = (url: string, pattern: RegExp, env: NodeJS.ProcessEnv = {}) => assert.throws(() => parseKafkaUrl(url, env), pattern);
    refused('http://k1:9092', /does not start with kafka:\/\//);
    refused('kafka://k1:9092?acks=2', /acks must be all, 1 or 0/);
    refused('kafka://k1:9092?acks=1&idempotent=true', /idempotent=true needs acks=all/);
    refused('kafka://k1:9092?sasl=plain&username=u', /MSEC_KAFKA_PASSWORD/);
    refused('kafka://u:pw@k1:9092', /MSEC_KAFKA_PASSWORD, not in the URL/);
    refused('kafka://k1:9092?colour=blue', /unknown option "colour"/);
    refused('kafka://k1:99999', /out of range/);
    assert.doesNotMatch(String((() => { try { parseKafkaUrl('kafka://u:hunter2@k1', {}); } catch (e) { return (e as Error).message; } })()), /hunter2/);
    // acks=1 turns the idempotent default off instead of failing.
    assert.equal(parseKafkaUrl('kafka://k1?acks=1', {}).idempotent, false);
  });
});

describe('KafkaBus on a cluster without CreateTopics', () => {
  let bus: KafkaBus;
  before(() => {
    bus = mockBus(mock);
  });
  after(async () => {
    await bus.close();
  });

  test('the helper set the controller id, so the idempotent producer can publish', async () => {
    assert.equal(mock.controllerSet, true, 'kafka-mock.c could not set the controller id: the idempotent producer will fail with "Broker 0 not found"');
    assert.equal(bus.settings.idempotent, true);
    const topic = unique('msec.test.idempotent.');
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('one') }]);
    assert.deepEqual(await bus.lag(topic, 'nobody'), { committed: -1, end: 1 });
  });

  test('a topic the cluster cannot create and does not auto-create is refused with a clear message', async () => {
    const topic = unique('msec.test.forbidden.');
    await mock.setTopicError(topic, 3); // UNKNOWN_TOPIC_OR_PART: no auto-creation for it
    try {
      await assert.rejects(bus.publish(topic, [{ key: 'k', value: Buffer.from('x') }]),
        (err: Error) => err.message.includes(`Kafka topic ${topic} does not exist and this client cannot create it`) && err.message.includes('kafka-topics.sh --create'));
    } finally {
      // Listing topics fails for every topic while one answers an error.
      await mock.setTopicError(topic, 0);
    }
  });

  test('a failing partition waits alone: the other partitions keep flowing meanwhile, each key in order', async () => {
    const topic = unique('msec.test.partitions.');
    await mock.createTopic(topic, 3);
    const keys = ['agent-a', 'agent-b', 'agent-c', 'agent-d', 'agent-e', 'agent-f'];
    const messagesOf = (key: string) => [0, 1, 2].map((i) => ({ key, value: Buffer.from(`${key}:${i}`) }));
    await bus.publish(topic, messagesOf('agent-a'));
    const received: ConsumedMessage[] = [];
    // agent-a's partition fails until every message of the other partitions was handled: a bus
    // that retried it in place (blocking the rest) would never get there.
    const poisonedKeys = new Set<string>();
    let failures = 0;
    const subscription = bus.subscribe({ topic, group: unique('g-'), fromBeginning: true }, (batch) => {
      if (batch.some((m) => m.key === 'agent-a')) {
        for (const m of batch) poisonedKeys.add(m.key);
        const others = received.filter((m) => !poisonedKeys.has(m.key)).length;
        if (others < 3 * (keys.length - poisonedKeys.size)) {
          failures += 1;
          throw new Error('dispatch failed');
        }
      }
      received.push(...batch);
    });
    try {
      await waitUntil('agent-a\'s partition failed', () => failures >= 1, 20_000);
      await bus.publish(topic, keys.slice(1).flatMap(messagesOf));
      await waitUntil('every message was handled', () => received.length >= 18, 20_000);
    } finally {
      await subscription.close();
    }
    for (const key of keys) {
      assert.deepEqual(received.filter((m) => m.key === key).map((m) => Buffer.from(m.value).toString()), [0, 1, 2].map((i) => `${key}:${i}`));
    }
    assert.ok(poisonedKeys.size < keys.length, 'the keys spread over more than one partition');
  });
});

describe('KafkaBus: partitions handled at once', () => {
  test('with concurrency 4, batches of several partitions are in the handler at once; each key in order, nothing lost', async () => {
    const bus = mockBus(mock);
    const topic = unique('msec.test.concurrent.');
    await mock.createTopic(topic, 6);
    const keys = Array.from({ length: 12 }, (_, i) => `host-${i}`);
    await bus.publish(topic, keys.flatMap((key) => [0, 1, 2, 3].map((i) => ({ key, value: Buffer.from(`${key}:${i}`) }))));
    const received: ConsumedMessage[] = [];
    let inHandler = 0;
    let most = 0;
    const group = unique('g-');
    const subscription = bus.subscribe({ topic, group, fromBeginning: true, concurrency: 4 }, async (batch) => {
      most = Math.max(most, ++inHandler);
      await delay(150);
      received.push(...batch);
      inHandler--;
    });
    try {
      await waitUntil('every message was handled', () => received.length >= keys.length * 4, 20_000);
      await waitUntil('every offset committed', async () => {
        const { committed, end } = await bus.lag(topic, group);
        return committed === end;
      }, 20_000);
    } finally {
      await subscription.close();
      await bus.close();
    }
    assert.ok(most > 1 && most <= 4, `${most} batches at once`);
    for (const key of keys) {
      assert.deepEqual(received.filter((m) => m.key === key).map((m) => Buffer.from(m.value).toString()), [0, 1, 2, 3].map((i) => `${key}:${i}`));
    }
  });
});

describe('KafkaBus through broker outages', () => {
  let bus: KafkaBus;
  before(() => {
    bus = mockBus(mock);
  });
  after(async () => {
    await mock.brokerUp('all');
    await bus.close();
  });

  test('a subscription made while every broker is down starts consuming once they are back', async () => {
    const topic = unique('msec.test.outage.');
    await mock.createTopic(topic, 2);
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('before the outage') }]);
    await mock.brokerDown('all');
    const received: ConsumedMessage[] = [];
    const subscription = bus.subscribe({ topic, group: unique('g-'), fromBeginning: true }, (batch) => void received.push(...batch));
    try {
      await delay(1_000);
      await mock.brokerUp('all');
      await subscription.ready!();
      await bus.publish(topic, [{ key: 'k', value: Buffer.from('after the outage') }]);
      await waitUntil('both messages arrived', () => received.length >= 2, 30_000);
    } finally {
      await mock.brokerUp('all');
      await subscription.close();
    }
    assert.deepEqual(received.map((m) => Buffer.from(m.value).toString()), ['before the outage', 'after the outage']);
  });
});
