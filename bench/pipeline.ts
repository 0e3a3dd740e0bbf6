/**
 * The distributed pipeline's throughput (issue 3): events in the store → outbox relay →
 * Kafka `msec.events` → the projector's consumer group → the audit projection → ClickHouse,
 * from the relay's start (the events already appended, the path warmed up) to the moment the
 * audit view's checkpoint reaches the store's head. Appending is the command path's cost,
 * measured by the spine suite, so it is not in this figure.
 * Baselines in the same run, on the same servers: a bare kafkajs producer (bench/kafka.ts),
 * and ClickHouse's recommended practice for inserts, 100 000 audit-like rows per INSERT in
 * TabSeparated (bench/clickhouse.ts); the ratio is to the slower of the two.
 * Servers: librdkafka's mock cluster and Debian's ClickHouse 18.16, started here on loopback
 * (tests/services/), as the test suite runs them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { KafkaBus } from '../adapters/bus/kafka.ts';
import { busEventFeed } from '../adapters/bus/event-feed.ts';
import { SqliteCheckpointStore } from '../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../adapters/eventstore/sqlite.ts';
import { ClickHouseViewStore } from '../adapters/views/clickhouse.ts';
import { OutboxRelay } from '../apps/relay/outbox-relay.ts';
import { BusKey } from '../adapters/signing/bus-key.ts';
import { ProjectionRunner } from '../apps/projector/runner.ts';
import { auditProjection } from '../projections/audit.ts';
import { startClickHouse } from '../tests/services/clickhouse.ts';
import { mockBusUrl, startKafkaMock } from '../tests/services/kafka-mock.ts';
import { fillStore, rawProduceRate } from './kafka.ts';
import { rawInsertRate } from './clickhouse.ts';

const silent = pino({ level: 'silent' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function benchPipeline(events = Number(process.env.BENCH_PIPELINE_EVENTS ?? 20_000)): Promise<void> {
  const [mock, ch] = await Promise.all([startKafkaMock({ brokers: 1, topics: [{ name: 'msec.events', partitions: 3 }] }), startClickHouse()]);
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-pipeline-'));
  try {
    const produce = await rawProduceRate(mock.bootstrap, events);
    const insert = await rawInsertRate({ url: ch.url }, 200_000);

    const file = join(dir, 'msec.db');
    const store = SqliteEventStore.open(file, { logger: silent });
    const bus = KafkaBus.fromUrl(mockBusUrl(mock, { clientId: 'msec-bench-pipeline' }), { logger: silent });
    const views = await ClickHouseViewStore.open({ url: ch.url });
    const checkpoints = SqliteCheckpointStore.open(file);
    const key = BusKey.generate();
    const relay = new OutboxRelay({ store, bus, checkpoints, key, logger: silent });
    const runner = new ProjectionRunner({
      store, views, projections: [auditProjection], logger: silent,
      feed: () => busEventFeed(bus, { group: 'msec.bench.audit', key, logger: silent, catchUpFrom: store }), // as the projector runs it
    });
    // Warm-up, not timed: one event through the whole path (the mock's first group join takes ~3 s).
    const warm = await fillStore(store, 1, 1, 'warm-up');
    await relay.start();
    await runner.start();
    if (!(await runner.waitFor(warm, 60_000))) throw new Error('the warm-up event never reached the audit view');

    await relay.stop();
    const head = await fillStore(store, events, 64);
    const started = performance.now();
    await relay.start();
    const reached = await runner.waitFor(head, 600_000);
    const seconds = (performance.now() - started) / 1000;
    await runner.stop();
    await relay.stop();
    await bus.close();
    await views.close();
    checkpoints.close();
    await store.close();
    if (!reached) throw new Error(`the audit view did not reach position ${head}`);
    const pipeline = events / seconds;
    const slower = Math.min(produce, insert);
    console.log(`pipeline.events_per_s=${fmt(pipeline)} baseline.kafka_produce.per_s=${fmt(produce)} baseline.clickhouse_insert.rows_per_s=${fmt(insert)} ratio=${(pipeline / slower).toFixed(3)} ratio_to_insert=${(pipeline / insert).toFixed(3)}`
      + `  (${events} events already in the store: relay → Kafka mock (3 partitions) → consumer group → audit projection → ClickHouse 18.16, after a warm-up event;`
      + ' produce: bare kafkajs, 500 messages of 100 B per send, acks=all; insert: ClickHouse\'s advice, 100 000 rows per INSERT in TabSeparated; ratio against the slower)');
  } finally {
    await Promise.allSettled([mock.stop(), ch.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
