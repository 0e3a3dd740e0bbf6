/**
 * The metric views on a real ClickHouse (18.16 server, or chdb 26.x): reports go through the
 * report ingestion (consumer group on a bus, refusals counted) into the per-minute tables, and
 * come back as curves with MSEC's semantics. Each suite gets a database of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MemoryBroker, MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import type { ClickHouse } from '../../../adapters/views/clickhouse-client.ts';
import { migrate } from '../../../adapters/views/clickhouse-migrate.ts';
import { sql } from '../../../adapters/views/clickhouse-sql.ts';
import { metricsSink } from '../../../apps/monitor/metrics-sink.ts';
import { MetricQueries } from '../../../apps/monitor/metrics-queries.ts';
import { dropExpiredDays } from '../../../apps/monitor/metrics-retention.ts';
import { ReportIngest, type ReportSink } from '../../../apps/projector/report-ingest.ts';
import { FLIGHT, eventually, gauge, hostMetric, publishReport, reportBytes, userMetric } from './reports.ts';

export interface Target {
  ch: ClickHouse;
  /** A fresh database name for one suite. */
  database(): string;
}

const silent = pino({ level: 'silent' });
const day = Date.UTC(2024, 4, 1) / 1000;
const m0 = day + 10 * 3600; // 10:00 UTC
const clockAt = (seconds: number) => () => seconds * 1000;

async function running(target: Target, options: { now?: number; hosts?: string[]; broker?: MemoryBroker; wrap?: (ch: ClickHouse) => ClickHouse } = {}) {
  const database = target.database();
  await migrate(target.ch, database);
  const bus = new MemoryMessageBus({ broker: options.broker ?? new MemoryBroker(), retryDelays: { initialMs: 5, maxMs: 20 }, pollIntervalMs: 10, logger: silent });
  const sink = metricsSink({ clickhouse: { client: options.wrap ? options.wrap(target.ch) : target.ch, database }, logger: silent, clock: clockAt(options.now ?? m0 + 120), retentionDays: 30 });
  const ingest = new ReportIngest({ bus, sinks: [sink as ReportSink<unknown>], logger: silent });
  ingest.start();
  const queries = new MetricQueries(target.ch, database, () => options.hosts ?? []);
  const stored = (n: number) => eventually(`${n} metrics stored`, () => ingest.status()[0]!.stored >= n);
  return { database, bus, sink, ingest, queries, stored, stop: () => ingest.stop() };
}

const curve = async (q: MetricQueries, name: string, extra: { ip?: string; byIp?: boolean } = {}) =>
  (await q.curves({ service: FLIGHT, from: m0, to: m0 + 180, names: [name], ...extra }));

export function metricViewsContract(label: string, target: () => Target) {
  describe(`metric views: ${label}`, () => {
    it('Add sums across reports and processes per minute; per ip and for the whole service', async () => {
      const r = await running(target());
      try {
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 3, '10.0.0.1'), userMetric(m0 + 60, 'usr.orders', 1, '10.0.0.1')]);
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 4, '10.0.0.1')]);
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 10, '10.0.0.2'), userMetric(m0, 'usr.orders', 100)]);
        await r.stored(5);
        assert.deepEqual((await curve(r.queries, 'usr.orders'))[0]!.values, [117, 1, null]);
        assert.deepEqual((await curve(r.queries, 'usr.orders', { ip: '10.0.0.1' }))[0]!.values, [7, 1, null]);
        assert.deepEqual((await curve(r.queries, 'usr.orders', { byIp: true })).map((c) => [c.ip, c.values]),
          [['10.0.0.1', [7, 1, null]], ['10.0.0.2', [10, null, null]]], 'a value without an ip is in the service view only');
      } finally {
        await r.stop();
      }
    });

    it('Set: the first Set of a minute wins per ip, whatever order reports arrive in; the service sums its ips (MSEC)', async () => {
      const r = await running(target());
      try {
        await publishReport(r.bus, [gauge(m0, 'usr.queue', 9, '10.0.0.1', 20_000)]);
        await publishReport(r.bus, [gauge(m0, 'usr.queue', 5, '10.0.0.1', 1_000), gauge(m0 + 60, 'usr.queue', 6, '10.0.0.1', 0)]);
        await publishReport(r.bus, [gauge(m0, 'usr.queue', 2, '10.0.0.2', 59_000)]);
        await r.stored(4);
        assert.deepEqual((await curve(r.queries, 'usr.queue', { ip: '10.0.0.1' }))[0]!.values, [5, 6, null]);
        assert.deepEqual((await curve(r.queries, 'usr.queue'))[0]!.values, [7, 6, null]);
      } finally {
        await r.stop();
      }
    });

    it('names come back exactly as reported: quotes, backslashes, spaces, other scripts', async () => {
      const r = await running(target());
      try {
        const names = ['usr.a\\b', 'usr.it\'s "quoted"', 'usr.订单 成功', 'usr.\\t not a tab', 'usr.x\\', 'usr.😀'];
        await publishReport(r.bus, names.map((n, i) => userMetric(m0, n, i + 1, '10.0.0.1')));
        await r.stored(names.length);
        assert.deepEqual(await r.queries.names(FLIGHT, m0, m0 + 60), [...names].sort());
        const byName = await r.queries.curves({ service: FLIGHT, from: m0, to: m0 + 60, names, ip: '10.0.0.1' });
        assert.deepEqual(byName.map((c) => [c.name, c.values[0]]).sort(), names.map((n, i) => [n, i + 1]).sort());
      } finally {
        await r.stop();
      }
    });

    it('host metrics (sys.* of RESERVED.monitor, as agents report them) show in every service on that ip, for its catalog hosts only', async () => {
      const r = await running(target(), { hosts: ['10.0.0.1', '10.0.0.3'] });
      try {
        // 10.0.0.7 reported a metric of the service (anyone may name an ip) but is not its host
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 1, '10.0.0.1'), userMetric(m0, 'usr.orders', 1, '10.0.0.7')]);
        await publishReport(r.bus, [
          hostMetric(m0, 'sys.cpu.busy_percent', 30, '10.0.0.1'), hostMetric(m0, 'sys.cpu.busy_percent', 50, '10.0.0.3'),
          hostMetric(m0, 'sys.cpu.busy_percent', 70, '10.0.0.7'), hostMetric(m0, 'sys.cpu.busy_percent', 90, '10.0.0.9'),
        ]);
        await r.stored(6);
        const names = await r.queries.names(FLIGHT, m0, m0 + 180);
        assert.deepEqual(names, ['sys.cpu.busy_percent', 'usr.orders']);
        assert.deepEqual(await r.queries.ips(FLIGHT, m0, m0 + 180), ['10.0.0.1', '10.0.0.3', '10.0.0.7'], 'ips that reported and hosts of the catalog');
        assert.deepEqual((await curve(r.queries, 'sys.cpu.busy_percent', { ip: '10.0.0.1' }))[0]!.values, [30, null, null]);
        assert.deepEqual(await curve(r.queries, 'sys.cpu.busy_percent', { ip: '10.0.0.7' }), [], 'not a host of the service: its figures stay closed');
        assert.deepEqual((await curve(r.queries, 'sys.cpu.busy_percent'))[0]!.values, [80, null, null], 'summed over the service\'s hosts, 10.0.0.7 and 10.0.0.9 not among them');
        assert.deepEqual((await curve(r.queries, 'sys.cpu.busy_percent', { byIp: true })).map((c) => c.ip), ['10.0.0.1', '10.0.0.3']);
        assert.deepEqual((await r.queries.curves({ service: 'RESERVED.monitor', from: m0, to: m0 + 60, byIp: true })).map((c) => c.ip), ['10.0.0.1', '10.0.0.3', '10.0.0.7', '10.0.0.9']);
      } finally {
        await r.stop();
      }
    });

    it('a report delivered twice counts once: the same message again, the same report in two messages, one batch or two', async () => {
      const r = await running(target());
      try {
        const bytes = reportBytes([userMetric(m0, 'usr.orders', 5, '10.0.0.1')], 'report-A');
        await r.bus.publish('msec.reports.metrics', [{ key: FLIGHT, value: bytes }, { key: FLIGHT, value: bytes }]);
        await r.stored(2);
        await r.bus.publish('msec.reports.metrics', [{ key: FLIGHT, value: bytes }]);
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 1, '10.0.0.1')]);
        await r.stored(4);
        assert.deepEqual((await curve(r.queries, 'usr.orders'))[0]!.values, [6, null, null]);
        assert.deepEqual((await curve(r.queries, 'usr.orders', { ip: '10.0.0.1' }))[0]!.values, [6, null, null]);
        assert.ok(r.sink.metricsStore.stats.redelivered >= 2, 'the later copy was found by its receipts in both tables');
      } finally {
        await r.stop();
      }
    });

    it('a crash between the two tables, or after both and before the offset moved: the batch delivered again counts once', async () => {
      let failIpInsert = 1;
      let failAfterStore = 1;
      const wrap = (ch: ClickHouse): ClickHouse => ({
        ...ch,
        client: new Proxy(ch.client, {
          get(target, prop, receiver) {
            if (prop !== 'insert') return Reflect.get(target, prop, receiver);
            return async (params: { table: string }) => {
              if (params.table.endsWith('metrics_ip_minute') && failIpInsert-- > 0) throw new Error('crash before the per-ip insert');
              return target.insert(params as Parameters<typeof target.insert>[0]);
            };
          },
        }),
      });
      const r = await running(target(), { wrap });
      const store = r.sink.store.bind(r.sink);
      r.sink.store = async (items) => {
        await store(items);
        if (failIpInsert < 0 && failAfterStore-- > 0) throw new Error('crash after both inserts, before the commit');
      };
      try {
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 5, '10.0.0.1'), gauge(m0, 'usr.queue', 3, '10.0.0.1', 10)]);
        await eventually('stored after the two crashes', () => r.ingest.status()[0]!.stored >= 2 && failAfterStore < 0);
        assert.deepEqual((await curve(r.queries, 'usr.orders'))[0]!.values, [5, null, null]);
        assert.deepEqual((await curve(r.queries, 'usr.orders', { ip: '10.0.0.1' }))[0]!.values, [5, null, null]);
        assert.deepEqual((await curve(r.queries, 'usr.queue'))[0]!.values, [3, null, null]);
      } finally {
        await r.stop();
      }
    });

    it('forged, malformed and oversized reports on the bus are refused and counted; the good ones around them are stored; nothing stalls', async () => {
      const r = await running(target());
      try {
        await r.bus.publish('msec.reports.metrics', [
          { key: 'x', value: Buffer.from('not protobuf at all \u00ff\u00fe') },
          { key: 'x', value: reportBytes([userMetric(m0, 'usr.orders', 2, '10.0.0.1')]) },
          { key: 'x', value: reportBytes([userMetric(m0, "usr.x'); DROP TABLE metrics_ip_minute; --", 1, "1' OR '1'='1")]) },
          { key: 'x', value: reportBytes([userMetric(m0, 'usr.orders', Number.NaN)]) },
          { key: 'x', value: reportBytes([userMetric(m0 - 40 * 86_400, 'usr.orders', 1)]) },
          { key: 'x', value: reportBytes([userMetric(m0 + 7 * 86_400, 'usr.orders', 1)]) },
          { key: 'x', value: reportBytes([{ ...userMetric(m0, 'usr.orders', 1), service: 'NoSuch' }]) },
          { key: 'x', value: Buffer.alloc(4 * 1024 * 1024 + 10, 1) },
          { key: 'x', value: reportBytes([userMetric(m0, 'usr.orders', 3, '10.0.0.1')], 'id with spaces') },
          { key: 'x', value: reportBytes([userMetric(m0, 'usr.orders', 4, '10.0.0.1')]) },
        ]);
        await r.stored(2);
        await eventually('every message looked at', () => r.ingest.status()[0]!.refused.total >= 8);
        assert.deepEqual((await curve(r.queries, 'usr.orders'))[0]!.values, [6, null, null]);
        const { byReason } = r.ingest.status()[0]!.refused;
        assert.deepEqual(byReason, { malformed: 1, 'bad-field': 2, 'bad-value': 1, 'bad-time': 2, 'bad-service': 1, 'too-large': 1 });
        await publishReport(r.bus, [userMetric(m0, 'usr.orders', 10, '10.0.0.1')]);
        await r.stored(3);
        assert.deepEqual((await curve(r.queries, 'usr.orders'))[0]!.values, [16, null, null], 'later reports still flow');
        const tables = await target().ch.select<{ n: string | number }>(
          sql`SELECT count() AS n FROM system.tables WHERE database = ${r.database} AND name LIKE 'metrics_%'`, 'counting tables');
        assert.equal(Number(tables[0]!.n), 2, 'both tables are still there');
      } finally {
        await r.stop();
      }
    });

    it('retention drops whole days older than the setting; reports about them are refused', async () => {
      const t = target();
      const r = await running(t, { now: m0 + 120 });
      try {
        await publishReport(r.bus, [userMetric(m0 - 20 * 86_400, 'usr.orders', 1), userMetric(m0 - 29 * 86_400, 'usr.orders', 2), userMetric(m0, 'usr.orders', 3)]);
        await r.stored(3);
        const dropped = await dropExpiredDays(t.ch, r.database, (m0 + 5 * 86_400) * 1000, 30);
        assert.deepEqual(dropped, [Math.floor((m0 - 29 * 86_400) / 86_400)]);
        const left = await r.queries.curves({ service: FLIGHT, from: day - 30 * 86_400, to: day + 86_400 });
        assert.equal(left[0]!.values.filter((v) => v !== null).length, 2);
        assert.deepEqual(await dropExpiredDays(t.ch, r.database, (m0 + 5 * 86_400) * 1000, 30), [], 'nothing more to drop');
      } finally {
        await r.stop();
      }
    });
  });
}
