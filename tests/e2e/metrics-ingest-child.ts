/**
 * A projector's metric ingestion in a process of its own, for the redelivery test: the report
 * ingestion (consumer group msec.ingest.metrics) with the metric views' sink, on the bus and the
 * ClickHouse the environment names:
 *   CHILD_BUS        kafka://… or a SQLite file (the embedded bus)
 *   CHILD_VIEWS      http://… (a ClickHouse server) or a chdb directory
 *   CHILD_PAUSE=1    after the first store succeeded, print "stored-and-paused" and never return,
 *                    so the bus offset is not committed: the parent kills this process there
 *   CHILD_RESULT_AFTER=N  once N metrics were stored, print "result <usr.orders per minute>" and exit
 * Prints "ready" once its consumer has joined.
 */
import { destination, pino } from 'pino';
import type { MessageBus } from '../../adapters/bus/port.ts';
import { openClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { migrate } from '../../adapters/views/clickhouse-migrate.ts';
import { metricsSink } from '../../apps/monitor/metrics-sink.ts';
import { MetricQueries } from '../../apps/monitor/metrics-queries.ts';
import { ReportIngest, type ReportSink } from '../../apps/projector/report-ingest.ts';

const logger = pino({ level: 'warn' }, destination(2));
const busUrl = process.env.CHILD_BUS!;
const views = process.env.CHILD_VIEWS!;
const database = 'msec_redelivery';
const minute = Number(process.env.CHILD_MINUTE);

const bus: MessageBus = busUrl.startsWith('kafka://')
  ? (await import('../../adapters/bus/kafka.ts')).KafkaBus.fromUrl(busUrl, { logger })
  : (await import('../../adapters/bus/sqlite.ts')).SqliteMessageBus.open(busUrl);
const ch = await openClickHouse(views.startsWith('http') ? { url: views } : { chdbPath: views });
await migrate(ch, database);
const sink = metricsSink({ clickhouse: { client: ch, database }, logger, clock: () => (minute + 60) * 1000, retentionDays: 30 });
const store = sink.store.bind(sink);
let stored = 0;
const resultAfter = Number(process.env.CHILD_RESULT_AFTER ?? 0);
sink.store = async (items) => {
  await store(items);
  stored += items.length;
  if (process.env.CHILD_PAUSE === '1') {
    process.stdout.write('stored-and-paused\n');
    // The offset of this batch is never committed; a timer keeps the process alive (an empty
    // event loop would end it before the parent's SIGKILL arrives).
    await new Promise(() => setInterval(() => {}, 60_000));
  }
  if (resultAfter && stored >= resultAfter) {
    const [curve] = await new MetricQueries(ch, database).curves({ service: 'Flight.mod_flight', from: minute, to: minute + 120, names: ['usr.orders'] });
    const [perIp] = await new MetricQueries(ch, database).curves({ service: 'Flight.mod_flight', from: minute, to: minute + 120, names: ['usr.orders'], ip: '10.0.0.1' });
    process.stdout.write(`result ${JSON.stringify({ service: curve?.values, ip: perIp?.values, redelivered: sink.metricsStore.stats.redelivered })}\n`);
    process.exit(0);
  }
};
const ingest = new ReportIngest({ bus, sinks: [sink as ReportSink<unknown>], logger });
ingest.start();
await ingest.ready();
process.stdout.write('ready\n');
