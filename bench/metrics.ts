/**
 * `npm run bench -- metrics`: the monitoring views on ClickHouse 18.16 (Debian's server) and
 * librdkafka's mock Kafka cluster, started here on loopback; each figure beside its baseline
 * measured in the same run on the same server.
 *   ingest   metrics/s from published reports (Kafka) through the report ingestion (checks,
 *            receipts, per-minute rows in both tables) to ClickHouse, at MSEC's sizing (500 hosts
 *            × 200 attributes, one report per host and minute)
 *            baseline: raw inserts of the rows those reports make, 100 000 rows per insert
 *            (ClickHouse's advice: batches of 10 000 to 100 000 rows), the faster of JSONEachRow
 *            and TabSeparated (what the store sends)
 *   query    one service's day of curves (50 names × 1440 minutes) with 100 000 series loaded
 *            baseline: a plain SELECT of the same rows, without the Add/Set merge
 *   alarms   one minute judged for 10 000 rules (200 services × 50), 5 % firing, AlarmRaised
 *            appended to the SQLite event store
 *            baseline: the read of the rules' values alone
 * and the bytes a stored row takes (system.parts), for the sizing check in the README.
 * BENCH_METRICS_ONLY=ingest,query,alarms picks some.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { KafkaBus } from '../adapters/bus/kafka.ts';
import type { MessageBus } from '../adapters/bus/port.ts';
import { SqliteEventStore } from '../adapters/eventstore/sqlite.ts';
import { openClickHouse, type ClickHouse } from '../adapters/views/clickhouse-client.ts';
import { migrate } from '../adapters/views/clickhouse-migrate.ts';
import { sql, sqlIdentifier } from '../adapters/views/clickhouse-sql.ts';
import { AlarmEvaluator } from '../apps/monitor/alarm-evaluator.ts';
import { createCommandBus } from '../apps/console/command-bus.ts';
import { MetricQueries } from '../apps/monitor/metrics-queries.ts';
import { metricsSink } from '../apps/monitor/metrics-sink.ts';
import { ReportIngest, type ReportSink } from '../apps/projector/report-ingest.ts';
import type { AlarmRuleData } from '../domain/monitoring/events.ts';
import { encodeReport, type Metric } from '../schemas/reports.ts';
import { startClickHouse } from '../tests/services/clickhouse.ts';
import { mockBusUrl, startKafkaMock } from '../tests/services/kafka-mock.ts';

const silent = pino({ level: 'silent' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(1)} ms`;
const day = Math.floor(Date.now() / 86_400_000) * 86_400;
const attr = (i: number) => `usr.attr_${String(i).padStart(3, '0')}`;
const hostIp = (h: number) => `10.1.${h >> 8}.${h & 255}`;

export async function benchMetrics(): Promise<void> {
  const [ch, mock] = await Promise.all([startClickHouse(), startKafkaMock({ brokers: 1, topics: [{ name: 'msec.reports.metrics', partitions: 12 }] })]);
  const client = await openClickHouse({ url: ch.url });
  try {
    const only = (process.env.BENCH_METRICS_ONLY ?? 'ingest,query,alarms').split(',');
    if (only.includes('ingest')) {
      const url = mockBusUrl(mock, { clientId: 'msec-bench-metrics' });
      await ingest(client, () => KafkaBus.fromUrl(url, { logger: silent }), 'Kafka (mock, 12 partitions)', 'ClickHouse 18.16');
    }
    if (only.includes('query')) await query(client);
    if (only.includes('alarms')) await alarms(client);
  } finally {
    await client.close();
    await Promise.allSettled([ch.stop(), mock.stop()]);
  }
  // The same on one machine, as `msec up` runs it: the embedded bus (SQLite) and chdb.
  if ((process.env.BENCH_METRICS_ONLY ?? 'ingest').split(',').includes('ingest')) {
    const dir = mkdtempSync(join(tmpdir(), 'msec-bench-metrics-chdb-'));
    const chdb = await openClickHouse({ chdbPath: join(dir, 'views') });
    try {
      const { SqliteMessageBus } = await import('../adapters/bus/sqlite.ts');
      await ingest(chdb, () => SqliteMessageBus.open(join(dir, 'msec.db')), 'the embedded bus (SQLite)', 'chdb (ClickHouse 26.x)');
    } finally {
      await chdb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function fresh(ch: ClickHouse, name: string): Promise<string> {
  await ch.command(sql`DROP DATABASE IF EXISTS ${sqlIdentifier(name)}`, 'clearing a bench database');
  await migrate(ch, name);
  return name;
}

async function ingest(ch: ClickHouse, openBus: () => MessageBus, where: string, engine: string): Promise<void> {
  const hosts = Number(process.env.BENCH_METRICS_HOSTS ?? 500);
  const attrs = Number(process.env.BENCH_METRICS_ATTRS ?? 200);
  const minutes = Number(process.env.BENCH_METRICS_MINUTES ?? 3);
  const services = 50;
  const first = Math.floor(Date.now() / 60_000) * 60 - minutes * 60;
  const messages = [];
  for (let m = 0; m < minutes; m++) {
    for (let h = 0; h < hosts; h++) {
      const service = `Bench.svc${h % services}`;
      const metrics: Metric[] = Array.from({ length: attrs }, (_, a) => ({
        service, method: '', side: '', attr: attr(a), minute: first + m * 60, value: (h * 7 + a + m) % 100, kind: 'add', ip: hostIp(h), atMs: 0,
      }));
      messages.push({ key: service, value: encodeReport('msec.reports.metrics', { reporter: service, metrics, droppedRecords: 0, reportId: randomUUID() }) });
    }
  }
  const total = hosts * attrs * minutes;

  const database = await fresh(ch, 'msec_bench_ingest');
  const bus = openBus();
  // The reports wait on the bus first, then the ingestion takes the backlog: its capacity, timed
  // from its first message to the last stored. Sent 1 320 at a time (110 per Kafka partition,
  // ~1 MiB): the mock broker answers a fetch with one record batch per partition, where a real
  // broker fills each partition's fetch up to 1 MiB (kafkajs' maxBytesPerPartition).
  for (let i = 0; i < messages.length; i += 1320) await bus.publish('msec.reports.metrics', messages.slice(i, i + 1320));
  const sink = metricsSink({ clickhouse: { client: ch, database }, logger: silent, retentionDays: 30 });
  let started = 0;
  const accept = sink.accept.bind(sink);
  sink.accept = (message) => {
    started ||= performance.now();
    return accept(message);
  };
  const group = new ReportIngest({ bus, sinks: [sink as ReportSink<unknown>], logger: silent, groupPrefix: `bench-${randomUUID().slice(0, 8)}.` });
  group.start();
  // A stall (nothing stored for 60 s) ends the bench with the ingestion's status, not a hang.
  for (let last = 0, movedAt = performance.now(); group.status()[0]!.stored < total; await new Promise((r) => setTimeout(r, 5))) {
    const status = group.status()[0]!;
    if (status.stored !== last) [last, movedAt] = [status.stored, performance.now()];
    else if (performance.now() - movedAt > 60_000) throw new Error(`metric ingestion stalled at ${status.stored} of ${total} metrics: ${JSON.stringify(status)}; lag ${JSON.stringify(await bus.lag('msec.reports.metrics', status.group))} of ${messages.length} messages (on the mock broker, a partition keeping over 5 MiB loses its oldest messages: fewer BENCH_METRICS_MINUTES)`);
  }
  const seconds = (performance.now() - started) / 1000;
  await group.stop();
  await bus.close();
  const [{ n }] = await ch.select<{ n: string }>(sql`SELECT sum(value) AS n FROM ${sqlIdentifier(database)}.metrics_ip_minute WHERE kind = 0`, 'checking the bench');
  const expected = messages.length === 0 ? 0 : Array.from({ length: minutes }, (_, m) => Array.from({ length: hosts }, (_, h) => Array.from({ length: attrs }, (_, a) => (h * 7 + a + m) % 100).reduce((x, y) => x + y, 0)).reduce((x, y) => x + y, 0)).reduce((x, y) => x + y, 0);
  if (Number(n) !== expected) throw new Error(`the ingested values sum to ${n}, not ${expected}`);

  // Baseline: the rows those reports make (per ip, and per service and minute), inserted raw,
  // 100 000 per insert, as JSONEachRow and as TabSeparated: the faster of the two counts.
  const ipRows: RawRow[] = [];
  const serviceRows = new Map<string, RawRow>();
  for (let m = 0; m < minutes; m++) {
    for (let h = 0; h < hosts; h++) {
      const service = `Bench.svc${h % services}`;
      for (let a = 0; a < attrs; a++) {
        const value = (h * 7 + a + m) % 100;
        ipRows.push({ service, ip: hostIp(h), name: attr(a), minute: first + m * 60, kind: 0, at: 0, origin: 0, value });
        const key = `${service} ${a} ${m}`;
        const row = serviceRows.get(key);
        if (row) row.value += value;
        else serviceRows.set(key, { service, name: attr(a), minute: first + m * 60, kind: 0, ip: '', at: 0, origin: 0, value });
      }
    }
  }
  const rows = [...serviceRows.values()];
  const rowsWritten = ipRows.length + rows.length;
  const baselines: Record<string, number> = {};
  for (const format of ['JSONEachRow', 'TabSeparated'] as const) {
    const raw = await fresh(ch, 'msec_bench_raw');
    const rawStarted = performance.now();
    for (const [table, list] of [['metrics_ip_minute', ipRows], ['metrics_service_minute', rows]] as const) {
      for (let i = 0; i < list.length; i += 100_000) await rawInsert(ch, `${raw}.${table}`, list.slice(i, i + 100_000), format);
    }
    baselines[format] = total / ((performance.now() - rawStarted) / 1000);
    await ch.command(sql`DROP DATABASE IF EXISTS ${sqlIdentifier(raw)}`, 'dropping the bench database');
  }
  const baseline = Math.max(...Object.values(baselines));
  const ingestRate = total / seconds;
  console.log(`metrics.ingest.per_s=${fmt(ingestRate)} baseline.raw_insert.per_s=${fmt(baseline)} ratio=${(ingestRate / baseline).toFixed(3)}`
    + `  (${fmt(total)} metrics in ${messages.length} reports = ${hosts} hosts × ${attrs} attributes × ${minutes} minutes waiting on ${where} → consumer group → checks → receipts → ${fmt(rowsWritten)} rows in both tables of ${engine};`
    + ` baseline: those rows inserted raw, 100 000 per insert, the faster of JSONEachRow ${fmt(baselines.JSONEachRow!)}/s and TabSeparated ${fmt(baselines.TabSeparated!)}/s; goal ratio ≥ 0.5)`);
}

interface RawRow { service: string; ip: string; name: string; minute: number; kind: number; at: number; origin: number; value: number }

async function rawInsert(ch: ClickHouse, table: string, rows: RawRow[], format: 'JSONEachRow' | 'TabSeparated'): Promise<void> {
  if (format === 'JSONEachRow') return ch.insert(table, rows, 'raw bench insert');
  const text = rows.map((r) => `${r.service}\t${r.ip}\t${r.name}\t${r.minute}\t${r.kind}\t${r.at}\t${r.origin}\t${r.value}\n`).join('');
  await ch.client.insert({ table, values: Readable.from([Buffer.from(text)], { objectMode: false }), format: 'TabSeparated', columns: ['service', 'ip', 'name', 'minute', 'kind', 'at', 'origin', 'value'] });
}

async function query(ch: ClickHouse): Promise<void> {
  const services = 2_000;
  const names = 50;
  const minutes = Number(process.env.BENCH_METRICS_SERIES_MINUTES ?? 30);
  const database = await fresh(ch, 'msec_bench_query');
  const from = day + 12 * 3600;
  let chunk: object[] = [];
  let ipChunk: object[] = [];
  const flush = async () => {
    await ch.insert(`${database}.metrics_service_minute`, chunk, 'loading bench series');
    await ch.insert(`${database}.metrics_ip_minute`, ipChunk, 'loading bench series');
    chunk = [];
    ipChunk = [];
  };
  // Counts of 0 to 9 999, pseudo-random (an honest figure for the bytes a row takes on disk).
  let seed = 42;
  const count = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % 10_000;
  const loadStarted = performance.now();
  for (let s = 0; s < services; s++) {
    const service = `Query.svc${s}`;
    for (let n = 0; n < names; n++) {
      for (let m = 0; m < minutes; m++) {
        const value = count();
        chunk.push({ service, name: attr(n), minute: from + m * 60, kind: 0, ip: '', at: 0, origin: 0, value });
        ipChunk.push({ service, ip: hostIp(s % 500), name: attr(n), minute: from + m * 60, kind: 0, at: 0, origin: 0, value });
      }
    }
    if (chunk.length >= 100_000) await flush();
  }
  if (chunk.length) await flush();
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const queries = new MetricQueries(ch, database);
  const db = sqlIdentifier(database);
  const runs = 30;
  const timings: number[] = [];
  const rawTimings: number[] = [];
  for (let i = 0; i < runs; i++) {
    const service = `Query.svc${(i * 37) % services}`;
    let t = performance.now();
    const curves = await queries.curves({ service, from: day, to: day + 86_400 });
    timings.push(performance.now() - t);
    if (curves.length !== names) throw new Error(`${curves.length} curves, not ${names}`);
    t = performance.now();
    await ch.select(sql`SELECT name, minute, value FROM ${db}.metrics_service_minute WHERE service = ${service} AND minute >= ${day} AND minute < ${day + 86_400}`, 'raw bench read');
    rawTimings.push(performance.now() - t);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
  console.log(`metrics.query.service_day.median=${ms(median(timings))} p90=${ms(p90(timings))} baseline.plain_select.median=${ms(median(rawTimings))}`
    + `  (${fmt(services * names)} series loaded (${services} services × ${names} names, ${minutes} minutes each, ${fmt(services * names * minutes * 2)} rows in ${loadSeconds.toFixed(1)} s);`
    + ` one service's day: ${names} curves × 1440 minutes through MetricQueries.curves (Add/Set merge, the service's ips and their host metrics in the same query), ${runs} runs; goal < 50 ms)`);
  const parts = await ch.select<{ table: string; rows: string; bytes: string }>(
    sql`SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE database = ${database} AND active AND table LIKE 'metrics_%' GROUP BY table ORDER BY table`, 'measuring storage');
  for (const p of parts) console.log(`metrics.storage.${p.table}.bytes_per_row=${(Number(p.bytes) / Number(p.rows)).toFixed(2)}  (${fmt(Number(p.rows))} rows, ${fmt(Number(p.bytes))} bytes compressed)`);
}

async function alarms(ch: ClickHouse): Promise<void> {
  const services = 200;
  const perService = 50;
  const database = await fresh(ch, 'msec_bench_alarms');
  const minute = Math.floor(Date.now() / 60_000) * 60 - 120;
  const rules: AlarmRuleData[] = [];
  const rows: object[] = [];
  for (let s = 0; s < services; s++) {
    const service = `Alarm.svc${s}`;
    for (let r = 0; r < perService; r++) {
      const firing = (s * perService + r) % 20 === 0;
      rules.push({ service, name: attr(r), max: 100, min: 0, diff: 0, diffPercent: r % 4 === 0 ? 500 : 0, forMinutes: 1, scope: 'service' });
      rows.push({ service, name: attr(r), minute, kind: 0, ip: '', at: 0, origin: 0, value: firing ? 150 : 50 });
      rows.push({ service, name: attr(r), minute: minute - 86_400, kind: 0, ip: '', at: 0, origin: 0, value: 40 });
    }
  }
  await ch.insert(`${database}.metrics_service_minute`, rows, 'loading alarm bench values');
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-alarms-'));
  const store = SqliteEventStore.open(join(dir, 'msec.db'), { logger: silent });
  try {
    const queries = new MetricQueries(ch, database);
    const evaluator = new AlarmEvaluator({
      commands: createCommandBus({ store }), queries, rules: () => rules, openAlarms: () => [], servicesWithOpenAlarms: () => [], hostsOf: () => [],
      clock: Date.now, graceMs: 30_000, logger: silent,
    });
    const series = rules.map((r) => ({ service: r.service, name: r.name, perHost: false }));
    let t = performance.now();
    await queries.valuesAt(series, [[minute, minute], [minute - 86_400, minute - 86_400]]);
    const readMs = performance.now() - t;
    t = performance.now();
    const result = await evaluator.evaluate(minute);
    const evalMs = performance.now() - t;
    console.log(`metrics.alarms.evaluation=${ms(evalMs)} baseline.read_values=${ms(readMs)}`
      + `  (${fmt(result.rules)} rules on ${services} services, ${fmt(result.checks)} checks, ${result.events} AlarmRaised appended to SQLite by ${result.services} services' commands; goal < 1000 ms per minute)`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
