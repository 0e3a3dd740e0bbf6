/**
 * The logs and call-edges views on a real ClickHouse (18.16 server, chdb 26.x): reports from
 * the bus through the projector's sinks, queries as the console runs them, idempotence under
 * redelivery, retention, and hostile input: forged reports refused, hostile query text bound
 * as literals and never SQL (checked on the SQL actually sent).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { MemoryMessageBus } from '../../adapters/bus/memory.ts';
import { ClickHouseLogStore } from '../../adapters/views/clickhouse-logs.ts';
import type { ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import type { SqlFragment } from '../../adapters/views/clickhouse-sql.ts';
import { callEdgesSink, logsSink } from '../../apps/projector/log-sinks.ts';
import { ReportIngest, type ReportSink } from '../../apps/projector/report-ingest.ts';
import { parseLogQuery, type LogQueryInput } from '../../domain/logs/query.ts';
import { DomainError } from '../../domain/decider.ts';
import { buildCallGraph } from '../../projections/call-graph.ts';
import { encodeReport, type CallEdge, type LogRecord } from '../../schemas/reports.ts';

export interface LogsTarget {
  /** A view store on a fresh database of the engine under test. */
  open(database: string): Promise<ClickHouseViewStore>;
}

/** Wraps the client so the test sees every statement sent; the real engine runs them. */
function recording(ch: ClickHouse): { ch: ClickHouse; sent: string[] } {
  const sent: string[] = [];
  const wrapped: ClickHouse = {
    client: ch.client, engine: ch.engine, where: ch.where,
    command: (s: SqlFragment, doing: string) => (sent.push(s.text), ch.command(s, doing)),
    select: <T>(q: SqlFragment, doing: string) => (sent.push(q.text), ch.select<T>(q, doing)),
    insert: (table: string, rows: readonly object[], doing: string) => (sent.push(`INSERT INTO ${table} FORMAT JSONEachRow (${rows.length} rows)`), ch.insert(table, rows, doing)),
    insertTabSeparated: (table, columns, body, doing) => (sent.push(`INSERT INTO ${table} FORMAT TabSeparated (${body.split('\n').length - 1} lines)`), ch.insertTabSeparated(table, columns, body, doing)),
    close: () => ch.close(),
  };
  return { ch: wrapped, sent };
}

/** The SQL with every string literal removed: what is left is what ClickHouse parses as code. */
export function outsideLiterals(sql: string): string {
  return sql.replace(/'(?:[^'\\]|\\.)*'/g, "''");
}

const silent = pino({ level: 'silent' });
const eventually = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

export function logsContract(name: string, target: LogsTarget): void {
  describe(`logs and call edges on ${name}`, () => {
    let views: ClickHouseViewStore;
    let store: ClickHouseLogStore;
    let sent: string[];
    let bus: MemoryMessageBus;
    let ingest: ReportIngest;
    let sinks: ReportSink<unknown>[];
    const now = Date.now();
    const t0 = now - 60_000;

    const record = (o: Partial<LogRecord>): LogRecord => ({
      timeMs: t0, level: 3, service: 'Shop.front', requestId: '', clientIp: '10.0.0.9', serverIp: '10.0.0.1', rpcName: 'shop.Front.Order',
      caller: 'shop-client', coloring: 0, message: '', fieldNames: [], fieldValues: [], ...o,
    });
    const publishLogs = (records: LogRecord[], droppedRecords = 0, reporter = 'Shop.front') =>
      bus.publish('msec.reports.logs', [{ key: reporter, value: encodeReport('msec.reports.logs', { reporter, records, droppedRecords }) }]);
    const publishEdges = (calls: CallEdge[]) => bus.publish('msec.reports.calls', [{ key: 'x', value: encodeReport('msec.reports.calls', { reporter: 'Shop.front', calls }) }]);
    const stored = () => ingest.status().reduce((n, s) => n + s.stored, 0);
    const query = (input: LogQueryInput, declared?: Map<string, 'int' | 'string'>) => store.query(parseLogQuery(input, Date.now(), declared));

    before(async () => {
      views = await target.open(`msec_logs_${Math.random().toString(36).slice(2, 8)}`);
      const rec = recording(views.client);
      sent = rec.sent;
      store = new ClickHouseLogStore(rec.ch, views.database);
      bus = new MemoryMessageBus({ retryDelays: { initialMs: 5, maxMs: 20 } });
      sinks = [logsSink({ store, logger: silent }) as ReportSink<unknown>, callEdgesSink({ store, logger: silent }) as ReportSink<unknown>];
      ingest = new ReportIngest({ bus, sinks, logger: silent });
      ingest.start();

      // One request (42) through front and back, another (43) only on front, noise elsewhere.
      await publishLogs([
        record({ timeMs: t0, level: 2, requestId: '42', message: 'front got the order', fieldNames: ['orderId', 'user'], fieldValues: ['7', 'bison'] }),
        record({ timeMs: t0 + 5, level: 3, requestId: '42', message: "front: it's \\ tricky\nsecond line\u001b[31m", fieldNames: ['orderId'], fieldValues: ['7'] }),
        record({ timeMs: t0 + 30, level: 4, requestId: '43', message: 'front failed', clientIp: '10.0.0.77' }),
        record({ timeMs: t0 + 40, level: 5, requestId: '', rpcName: '', caller: '', clientIp: '', message: 'front fatal, no request' }),
      ], 3);
      await publishLogs([
        record({ timeMs: t0 + 10, level: 3, service: 'Shop.back', requestId: '42', serverIp: '10.0.0.2', rpcName: 'shop.Back.Stock', caller: 'Shop.front', clientIp: '10.0.0.1', coloring: 1, message: 'back checks stock', fieldNames: ['sku'], fieldValues: ['A-1'] }),
      ], 0, 'Shop.back');
      await publishEdges([
        { side: 'server', caller: 'shop-client', callee: 'Shop.front', method: 'shop.Front.Order', requestId: '42', err: 0, latencyMs: 40, atMs: t0 + 40, instance: '10.0.0.1:7000' },
        { side: 'client', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', requestId: '42', err: 0, latencyMs: 12.5, atMs: t0 + 20, instance: '10.0.0.2:7001' },
        { side: 'server', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', requestId: '42', err: 0, latencyMs: 10, atMs: t0 + 19, instance: '10.0.0.2:7001' },
      ]);
      await eventually('the reports are stored', () => stored() === 9);
    });
    after(async () => {
      await ingest?.stop();
      await views?.close();
    });

    test('every record of a request, across services, oldest first, every header and field as sent', async () => {
      const { records, truncated } = await query({ requestId: '42' });
      assert.equal(truncated, false);
      assert.deepEqual(records.map((r) => ({ ...r, id: typeof r.id })), [
        { id: 'string', reporter: 'Shop.front', timeMs: t0, level: 2, service: 'Shop.front', requestId: '42', clientIp: '10.0.0.9', serverIp: '10.0.0.1', rpcName: 'shop.Front.Order', caller: 'shop-client', coloring: 0, message: 'front got the order', fieldNames: ['orderId', 'user'], fieldValues: ['7', 'bison'] },
        { id: 'string', reporter: 'Shop.front', timeMs: t0 + 5, level: 3, service: 'Shop.front', requestId: '42', clientIp: '10.0.0.9', serverIp: '10.0.0.1', rpcName: 'shop.Front.Order', caller: 'shop-client', coloring: 0, message: "front: it's \\ tricky\nsecond line\u001b[31m", fieldNames: ['orderId'], fieldValues: ['7'] },
        { id: 'string', reporter: 'Shop.back', timeMs: t0 + 10, level: 3, service: 'Shop.back', requestId: '42', clientIp: '10.0.0.1', serverIp: '10.0.0.2', rpcName: 'shop.Back.Stock', caller: 'Shop.front', coloring: 1, message: 'back checks stock', fieldNames: ['sku'], fieldValues: ['A-1'] },
      ]);
      assert.deepEqual((await query({ service: 'Shop.back', requestId: '42' })).records.map((r) => r.service), ['Shop.back']);
      assert.deepEqual((await query({ requestId: '999' })).records, []);
    });

    test('a service\'s records by level, time, IP, field, header and text; the newest `limit`, with the drops it reported', async () => {
      const texts = async (input: LogQueryInput) => (await query({ service: 'Shop.front', since: '10m', ...input })).records.map((r) => r.message);
      assert.deepEqual(await texts({}), ['front got the order', "front: it's \\ tricky\nsecond line\u001b[31m", 'front failed', 'front fatal, no request']);
      assert.deepEqual(await texts({ level: 'ERROR' }), ['front failed', 'front fatal, no request']);
      assert.deepEqual(await texts({ level: 'fatal' }), ['front fatal, no request']);
      assert.deepEqual(await texts({ ip: '10.0.0.77' }), ['front failed']);
      assert.deepEqual(await texts({ fields: ['orderId=7'] }), ['front got the order', "front: it's \\ tricky\nsecond line\u001b[31m"]);
      assert.deepEqual(await texts({ fields: ['orderId=7', 'user=bison'] }), ['front got the order']);
      assert.deepEqual(await texts({ fields: ['RPCName=shop.Front.Order', 'Caller=shop-client', 'ClientIP=10.0.0.77'] }), ['front failed']);
      assert.deepEqual(await texts({ grep: 'FAIL' }), ['front failed']);
      assert.deepEqual(await texts({ grep: "it's \\ tr" }), ["front: it's \\ tricky\nsecond line\u001b[31m"]);
      assert.deepEqual(await texts({ until: new Date(t0 + 10).toISOString() }), ['front got the order', "front: it's \\ tricky\nsecond line\u001b[31m"]);
      const limited = await query({ service: 'Shop.front', since: '10m', limit: 2 });
      assert.deepEqual([limited.truncated, limited.records.map((r) => r.message)], [true, ['front failed', 'front fatal, no request']]);
      assert.equal(limited.dropped, 3, 'the drops Shop.front reported');
      assert.deepEqual(await texts({ since: '1s' }), []);
    });

    test('a batch delivered twice is stored twice and shown once', async () => {
      const [sink] = sinks;
      const message = { topic: 'msec.reports.logs', key: 'k', offset: 0, timestamp: Date.now(),
        value: encodeReport('msec.reports.logs', { reporter: 'Shop.dup', records: [record({ service: 'Shop.dup', message: 'once', requestId: '55' })], droppedRecords: 2 }) };
      const items = (await sink!.accept(message)).map((item, i) => ({ id: `9-123-${i}`, item, message }));
      await sink!.store(items);
      await sink!.store(items);
      const shown = await query({ service: 'Shop.dup', since: '10m' });
      assert.deepEqual([shown.records.map((r) => r.message), shown.dropped], [['once'], 2]);
      assert.deepEqual((await query({ requestId: '55' })).records.length, 1);
    });

    test('the call graph of a request from its edges and records', async () => {
      const g = buildCallGraph('42', await store.requestEdges('42'), await store.requestSummaries('42'));
      assert.deepEqual(g.edges.map((e) => [e.seq, e.from, e.to, e.method, e.latencyMs, e.serverLatencyMs, e.instance]), [
        [1, 'shop-client', 'Shop.front', 'shop.Front.Order', 40, 40, '10.0.0.1:7000'],
        [2, 'Shop.front', 'Shop.back', 'shop.Back.Stock', 12.5, 10, '10.0.0.2:7001'],
      ]);
      assert.deepEqual(g.nodes.map((n) => [n.id, n.kind, n.records, n.instances]), [
        ['shop-client', 'caller', 0, []], ['Shop.front', 'service', 2, ['10.0.0.1:7000']], ['Shop.back', 'service', 1, ['10.0.0.2:7001']],
      ]);
    });

    test('hostile query text is bound as literals: it matches as text and never reaches ClickHouse as SQL', async () => {
      const hostile = ["'; DROP TABLE logs; --", "\\'; SELECT 1; --", "') OR 1=1 OR ('", '%_*?', '"; SHOW TABLES', '`x`', '∑ 漢字 😀'];
      const from = sent.length;
      for (const text of hostile) {
        assert.deepEqual((await query({ service: 'Shop.front', since: '10m', grep: text })).records, [], text);
        assert.deepEqual((await query({ service: 'Shop.front', since: '10m', fields: [`user=${text}`] })).records, [], text);
        assert.deepEqual((await query({ service: 'Shop.front', since: '10m', fields: [`Caller=${text}`] })).records, [], text);
      }
      const queries = sent.slice(from);
      assert.ok(queries.length >= hostile.length * 3);
      for (const q of queries) {
        const code = outsideLiterals(q);
        for (const fragment of ['DROP', 'SHOW', 'SELECT 1', 'OR 1=1', '--', '"', '`', '😀']) assert.ok(!code.includes(fragment), `"${fragment}" outside a literal in: ${q}`);
      }
      assert.equal((await query({ service: 'Shop.front', since: '10m' })).records.length, 4, 'the table is still there, whole');
    });

    test('input that does not pass the checks sends nothing at all', async () => {
      const from = sent.length;
      const bad: LogQueryInput[] = [
        { service: 'Shop.front', level: "INFO' OR 1=1 --" }, { service: "Shop.front' --" }, { requestId: '1; DROP TABLE logs' },
        { service: 'Shop.front', since: '2000-01-01T00:00:00Z' }, { service: 'Shop.front', limit: 100_000 }, { service: 'Shop.front', fields: ['x) OR (1=1'] },
        { service: 'Shop.front', ip: "1.2.3.4' OR '1'='1" },
      ];
      for (const input of bad) await assert.rejects(async () => query(input), DomainError, JSON.stringify(input));
      assert.equal(sent.length, from);
    });

    test('forged, oversized and malformed reports on the bus are refused and counted; nothing of them is stored', async () => {
      const before = (await query({ service: 'Shop.front', since: '10m' })).records.length;
      const refusedBefore = ingest.status().reduce((n, s) => n + s.refused.total, 0);
      await bus.publish('msec.reports.logs', [
        { key: 'x', value: Buffer.from('garbage that is not protobuf \xff\xff') },
        { key: 'x', value: encodeReport('msec.reports.logs', { reporter: 'Shop.front', records: [record({ message: 'forged', level: 9 })], droppedRecords: 0 }) },
        { key: 'x', value: encodeReport('msec.reports.logs', { reporter: 'Shop.front', records: [record({ message: 'forged', timeMs: 1 })], droppedRecords: 0 }) },
        { key: 'x', value: encodeReport('msec.reports.logs', { reporter: 'Shop.front', records: [record({ message: 'forged', fieldNames: ['a'], fieldValues: ['x'.repeat(5000)] })], droppedRecords: 0 }) },
        { key: 'x', value: encodeReport('msec.reports.logs', { reporter: 'Shop.front', records: [record({ message: 'y'.repeat(20_000) })], droppedRecords: 0 }) },
      ]);
      await bus.publish('msec.reports.calls', [{ key: 'x', value: encodeReport('msec.reports.calls', { reporter: 'x', calls: [{ side: 'client', caller: 'a', callee: 'b', method: 'm', requestId: '1 OR 1', err: 0, latencyMs: 1, atMs: now, instance: '' }] }) }]);
      await publishLogs([record({ message: 'good after the bad', requestId: '44' })]);
      await eventually('the good report after the bad ones is stored', async () => (await query({ requestId: '44' })).records.length === 1);
      assert.equal(ingest.status().reduce((n, s) => n + s.refused.total, 0) - refusedBefore, 6);
      const messages = (await query({ service: 'Shop.front', since: '10m' })).records.map((r) => r.message);
      assert.equal(messages.length, before + 1);
      assert.ok(!messages.some((m) => m === 'forged' || m.startsWith('yyy')));
    });

    test('retention drops whole days older than the setting, from every table', async () => {
      const old = Date.now() - 20 * 86_400_000;
      await store.insertRecords([{ id: 'old-1', reporter: 'Shop.old', record: record({ service: 'Shop.old', timeMs: old, requestId: '77', message: 'ancient' }) }]);
      await store.insertEdges([{ id: 'old-e', reporter: 'x', edge: { side: 'client', caller: 'a', callee: 'Shop.old', method: 'm', requestId: '77', err: 0, latencyMs: 1, atMs: old, instance: '' } }]);
      assert.equal((await store.requestEdges('77')).length, 1);
      const dropped = await store.dropExpired(Date.now(), 14);
      assert.ok(dropped.length >= 1, 'the old day was dropped');
      assert.equal((await store.requestEdges('77')).length, 0);
      assert.deepEqual(await store.requestSummaries('77'), []);
      assert.equal((await query({ requestId: '42' })).records.length, 3, 'recent days stay');
      assert.deepEqual(await store.dropExpired(Date.now(), 14), [], 'nothing more to drop');
    });
  });
}
