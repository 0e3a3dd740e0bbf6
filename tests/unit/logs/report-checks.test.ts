/**
 * The logs and call-edges sinks take reports from anyone who can produce to msec.reports.*:
 * forged, oversized and malformed reports are refused (counted by reason, never stored),
 * control characters from request heads are defused, and nothing a report says can make the
 * sink store more than the limits allow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { logsSink, callEdgesSink } from '../../../apps/projector/log-sinks.ts';
import { ReportRefused } from '../../../apps/projector/report-ingest.ts';
import type { ConsumedMessage } from '../../../adapters/bus/port.ts';
import type { ClickHouseLogStore } from '../../../adapters/views/clickhouse-logs.ts';
import { encodeReport, type CallEdge, type LogRecord } from '../../../schemas/reports.ts';

const now = Date.parse('2024-05-01T12:00:00Z');
// accept() never touches the store: the refusals below happen before anything is written.
const untouched = new Proxy({}, { get: () => assert.fail('accept must not reach the store') }) as ClickHouseLogStore;
const options = { store: untouched, logger: pino({ level: 'silent' }), clock: () => now, retentionDays: 14 };
const logs = logsSink(options);
const calls = callEdgesSink(options);

const record = (o: Partial<LogRecord> = {}): LogRecord => ({
  timeMs: now - 1000, level: 3, service: 'Shop.front', requestId: '42', clientIp: '10.0.0.9', serverIp: '10.0.0.1', rpcName: 'shop.Front.Order',
  caller: 'Shop.gate', coloring: 0, message: 'order taken', fieldNames: ['orderId'], fieldValues: ['42'], ...o,
});
const edge = (o: Partial<CallEdge> = {}): CallEdge => ({
  side: 'client', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', requestId: '42', err: 0, latencyMs: 1.5, atMs: now - 1000, instance: '10.0.0.2:7001', ...o,
});
const message = (value: Uint8Array): ConsumedMessage => ({ topic: 'msec.reports.logs', key: 'Shop.front', value, offset: 0, timestamp: now });
const logsMessage = (records: LogRecord[], o: { reporter?: string; droppedRecords?: number } = {}) =>
  message(encodeReport('msec.reports.logs', { reporter: o.reporter ?? 'Shop.front', records, droppedRecords: o.droppedRecords ?? 0 }));
const callsMessage = (edges: CallEdge[]) => message(encodeReport('msec.reports.calls', { reporter: 'Shop.front', calls: edges }));

function refusedAs(reason: string, run: () => unknown, detail?: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ReportRefused, `expected a refusal, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    if (detail) assert.match(err.message, detail);
    return true;
  });
}

describe('logs sink: what it accepts', () => {
  test('a good report: its records, and the drops it reports as one more item', () => {
    const items = logs.accept(logsMessage([record(), record({ requestId: '', rpcName: '', caller: '', clientIp: '' })], { droppedRecords: 7 })) as { kind: string }[];
    assert.deepEqual(items.map((i) => i.kind), ['record', 'record', 'drops']);
  });

  test('a message body ClickHouse would choke on never gets decoded: malformed and oversized are refused', () => {
    refusedAs('malformed', () => logs.accept(message(Buffer.from('not protobuf \xff\xff\xff'))));
    refusedAs('malformed', () => logs.accept(message(new Uint8Array([0x12, 0xff, 0xff, 0xff, 0x0f]))));
    refusedAs('oversized', () => logs.accept(message(new Uint8Array(4 * 1024 * 1024 + 1))));
  });

  test('forged records are refused whole, by reason', () => {
    const cases: [string, Partial<LogRecord>, RegExp][] = [
      ['bad-level', { level: 9 }, /level 9/],
      ['bad-level', { level: 0 }, /level 0/],
      ['bad-service', { service: "x'); DROP TABLE logs; --" }, /not a First\.Second name/],
      ['bad-service', { service: 'Shop' }, /First\.Second/],
      ['bad-request-id', { requestId: '42 OR 1=1' }, /not a decimal request id/],
      ['bad-request-id', { requestId: '99999999999999999999' }, /not a decimal request id/],
      ['bad-ip', { clientIp: '10.0.0.1; rm -rf /' }, /not an IP address/],
      ['bad-time', { timeMs: now + 2 * 3_600_000 }, /ahead of this projector's clock/],
      ['bad-time', { timeMs: now - 15 * 86_400_000 }, /older than the 14 days/],
      ['bad-time', { timeMs: 0 }, /older than/],
      ['bad-coloring', { coloring: 2 }, /coloring 2/],
      ['bad-text', { rpcName: 'shop.Front.Order\u001b[31m' }, /control characters/],
      ['oversized', { message: 'x'.repeat(16 * 1024 + 1) }, /at most 16384/],
      ['bad-fields', { fieldNames: ['a', 'b'], fieldValues: ['1'] }, /2 field names but 1 values/],
      ['bad-fields', { fieldNames: ['__proto__'], fieldValues: ['x'] }, /not a field name/],
      ['bad-fields', { fieldNames: ["a' OR '1"], fieldValues: ['x'] }, /not a field name/],
      ['bad-fields', { fieldNames: ['a', 'a'], fieldValues: ['1', '2'] }, /appears twice/],
      ['oversized', { fieldNames: ['a'], fieldValues: ['x'.repeat(1025)] }, /at most 1024/],
      ['oversized', { fieldNames: Array.from({ length: 33 }, (_, i) => `f${i}`), fieldValues: Array.from({ length: 33 }, () => 'v') }, /33 custom fields/],
    ];
    for (const [reason, change, detail] of cases) refusedAs(reason, () => logs.accept(logsMessage([record(), record(change)])), detail);
  });

  test('a report with too many records, a forged reporter or drop count is refused', () => {
    refusedAs('oversized', () => logs.accept(logsMessage(Array.from({ length: 1001 }, () => record()))), /1001 records/);
    refusedAs('bad-text', () => logs.accept(logsMessage([record()], { reporter: 'a\u001b]52;c;bad\u0007' })), /control characters/);
    refusedAs('oversized', () => logs.accept(logsMessage([record()], { reporter: 'r'.repeat(129) })));
  });

  test('log injection: a caller from a request head keeps its text with controls defused; a message keeps its newlines (shown escaped)', () => {
    const [item] = logs.accept(logsMessage([record({ caller: 'evil\r\n2024-05-01 INFO forged line\u001b[2J', message: 'line one\nline two\ttab' })])) as { record: LogRecord }[];
    assert.equal(item!.record.caller, 'evil\uFFFD\uFFFD2024-05-01 INFO forged line\uFFFD[2J');
    assert.equal(item!.record.message, 'line one\nline two\ttab');
  });
});

describe('call-edges sink: what it accepts', () => {
  test('good edges pass; text from request heads is defused and cut, not refused', () => {
    const items = calls.accept(callsMessage([edge(), edge({ side: 'server', caller: 'x\u0000y'.repeat(100), method: 'no.such\u001bMethod' })])) as { edge: CallEdge }[];
    assert.equal(items.length, 2);
    assert.equal(items[1]!.edge.caller.length, 128);
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f]/.test(items[1]!.edge.caller + items[1]!.edge.method));
  });

  test('forged edges are refused by reason', () => {
    const cases: [string, Partial<CallEdge>][] = [
      ['bad-side', { side: 'proxy' as 'client' }],
      ['bad-request-id', { requestId: '' }],
      ['bad-request-id', { requestId: "1'" }],
      ['bad-count', { latencyMs: -1 }],
      ['bad-count', { latencyMs: 7_200_000 }],
      ['bad-time', { atMs: now + 86_400_000 }],
      ['bad-ip', { instance: 'evil.example.com:80' }],
      ['bad-text', { callee: '' }],
    ];
    for (const [reason, change] of cases) refusedAs(reason, () => calls.accept(callsMessage([edge(), edge(change)])));
    refusedAs('oversized', () => calls.accept(callsMessage(Array.from({ length: 5001 }, () => edge()))));
  });
});
