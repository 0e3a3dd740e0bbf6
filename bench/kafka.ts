/**
 * Kafka figures for `npm run bench` (bench/run.ts calls these):
 *   rawProduceRate  messages/s of a bare kafkajs producer (acks=all, ~100-byte messages,
 *                   batches of 500): the baseline
 *   relayRate       events/s the outbox relay moves from an embedded store into the broker
 *                   (protobuf envelopes, headers, idempotent producer, checkpoint per batch)
 * Against librdkafka's mock broker keep volumes under its per-partition limits (5 MiB or
 * 100 000 message sets): up to ~100 000 messages per call.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { KafkaBus } from '../adapters/bus/kafka.ts';
import { SqliteCheckpointStore } from '../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../adapters/eventstore/sqlite.ts';
import { OutboxRelay } from '../apps/relay/outbox-relay.ts';
import { BusKey } from '../adapters/signing/bus-key.ts';
import { eventIdFor } from '../domain/event-ids.ts';
import type { NewEvent } from '../domain/events.ts';
import { startKafkaMock } from '../tests/services/kafka-mock.ts';

const silent = pino({ level: 'silent' });
const batch = 500;

/** Messages/s produced by a bare kafkajs producer to a new topic on `bootstrap`. */
export async function rawProduceRate(bootstrap: string, n: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'msec-bench', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const topic = `msec.bench.raw-${randomUUID().slice(0, 8)}`;
  const value = Buffer.alloc(100, 'x');
  await producer.connect();
  try {
    // The first send creates the topic (auto-creation); not timed.
    await producer.send({ topic, acks: -1, messages: [{ key: 'warm-up', value }] });
    const started = performance.now();
    for (let sent = 0; sent < n; sent += batch) {
      const size = Math.min(batch, n - sent);
      await producer.send({ topic, acks: -1, messages: Array.from({ length: size }, (_, i) => ({ key: `k${(sent + i) % 64}`, value })) });
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    await producer.disconnect();
  }
}

/** Events/s the outbox relay publishes from an embedded store holding `events` events. */
export async function relayRate(bootstrap: string, events: number, options: { streams?: number } = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-relay-'));
  const file = join(dir, 'msec.db');
  const store = SqliteEventStore.open(file, { logger: silent });
  const checkpoints = SqliteCheckpointStore.open(file);
  const bus = KafkaBus.fromUrl(`kafka://${bootstrap}?clientId=msec-bench`, { logger: silent });
  const topic = `msec.bench.events-${randomUUID().slice(0, 8)}`;
  try {
    const head = await fillStore(store, events, options.streams ?? 64);
    await bus.publish(topic, [{ key: 'warm-up', value: Buffer.alloc(1) }]); // creates the topic and connects; not timed
    const relay = new OutboxRelay({ store, bus, checkpoints, key: BusKey.generate(), logger: silent, topic });
    const started = performance.now();
    await relay.start();
    while (relay.status().checkpoint < head) await new Promise((resolve) => setTimeout(resolve, 5));
    const seconds = (performance.now() - started) / 1000;
    await relay.stop();
    return events / seconds;
  } finally {
    await bus.close();
    await store.close();
    checkpoints.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both figures on a fresh mock broker (3 brokers), for machines without a Kafka cluster. */
export async function kafkaOnMock(n: number): Promise<{ rawMessagesPerSecond: number; relayEventsPerSecond: number }> {
  const mock = await startKafkaMock({ brokers: 3 });
  try {
    return { rawMessagesPerSecond: await rawProduceRate(mock.bootstrap, n), relayEventsPerSecond: await relayRate(mock.bootstrap, n) };
  } finally {
    await mock.stop();
  }
}

export async function fillStore(store: SqliteEventStore, count: number, streams: number, idPrefix = 'bench-relay'): Promise<number> {
  const at = new Date().toISOString();
  let head = 0;
  for (let i = 0; i < count; i += 10) {
    const service = `Bench.svc${(i / 10) % streams}`;
    const batchEvents = Array.from({ length: Math.min(10, count - i) }, (_, k): NewEvent => {
      const n = i + k;
      return {
        type: 'HostAdded',
        data: { service, ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port: 7963, protocol: 'tcp', weight: 100 },
        id: eventIdFor(`${idPrefix}-${n}`, 0), occurredAt: at, actor: 'bench', reason: '', correlationId: `bench-${n}`, causationId: `bench-${n}`,
      } as NewEvent;
    });
    head = (await store.append(`service-${service}`, 'any', batchEvents)).position;
  }
  return head;
}
