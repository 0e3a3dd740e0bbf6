/**
 * What the metric views take from msec.reports.metrics: the bus is untrusted, so forged,
 * malformed and oversized reports are refused with a reason (counted by the ingestion, which
 * skips them) and good ones pass unchanged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumedMessage } from '../../../adapters/bus/port.ts';
import { acceptMetricsReport, maxMetricsPerReport } from '../../../apps/monitor/metric-report-checks.ts';
import { ReportRefused } from '../../../apps/projector/report-ingest.ts';
import { encodeReport, type Metric, type MetricsReport } from '../../../schemas/reports.ts';

const now = Date.UTC(2024, 4, 1, 12, 0, 30);
const minute = Date.UTC(2024, 4, 1, 12, 0) / 1000;
const limits = { now: () => now, retentionDays: 30 };
const metric = (over: Partial<Metric> = {}): Metric => ({ service: 'Flight.mod_flight', method: '', side: '', attr: 'usr.orders', minute, value: 1, kind: 'add', ip: '10.0.0.1', atMs: 0, ...over });
const message = (value: Uint8Array, offset = 7): ConsumedMessage => ({ topic: 'msec.reports.metrics', partition: 2, offset, key: 'k', value, timestamp: now });
const report = (metrics: Metric[], over: Partial<MetricsReport> = {}) => message(encodeReport('msec.reports.metrics', { reporter: 'r', metrics, droppedRecords: 0, reportId: 'rep-1', ...over }));
const accept = (m: ConsumedMessage) => acceptMetricsReport(m, limits);

function refused(m: ConsumedMessage, reason: string, detail: RegExp): void {
  assert.throws(() => accept(m), (e: unknown) => {
    assert.ok(e instanceof ReportRefused, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, detail);
    return true;
  });
}

test('good reports pass: user, framework (named attribute side method) and host metrics', () => {
  const items = accept(report([
    metric(),
    metric({ attr: 'usr.queue', kind: 'set', atMs: minute * 1000 + 500, value: -3.5 }),
    metric({ attr: 'frm.latency.le_5ms', method: 'flight.flight_service.queryFlight', side: 'client', ip: '' }),
    metric({ service: 'RESERVED.monitor', attr: 'sys.cpu.busy', kind: 'set', atMs: minute * 1000, value: 37 }),
  ]));
  assert.deepEqual(items.map((i) => [i.report, i.service, i.name, i.ip, i.kind, i.at, i.value]), [
    ['rep-1', 'Flight.mod_flight', 'usr.orders', '10.0.0.1', 'add', 0, 1],
    ['rep-1', 'Flight.mod_flight', 'usr.queue', '10.0.0.1', 'set', minute * 1000 + 500, -3.5],
    ['rep-1', 'Flight.mod_flight', 'frm.client.latency.le_5ms queryFlight', '', 'add', 0, 1],
    ['rep-1', 'RESERVED.monitor', 'sys.cpu.busy', '10.0.0.1', 'set', minute * 1000, 37],
  ]);
});

test('an agent\'s host metrics without an ip are about the host named by the reporter', () => {
  const host = metric({ service: 'RESERVED.monitor', attr: 'sys.mem.used_bytes', kind: 'set', atMs: minute * 1000, ip: '' });
  const items = accept(report([host], { reporter: '10.0.0.7' }));
  assert.deepEqual(items.map((i) => [i.service, i.name, i.ip]), [['RESERVED.monitor', 'sys.mem.used_bytes', '10.0.0.7']]);
  refused(report([host], { reporter: 'agent-7' }), 'bad-field', /without the host's ip/);
  refused(report([host], { reporter: '10.0.0.300' }), 'bad-field', /without the host's ip|not an IPv4/);
});

test('a report without an id (older reporters) is known by its bus position; calls by address are skipped', () => {
  const items = accept(report([metric(), metric({ service: '10.0.0.9:7963', attr: 'frm.requests', method: 'a.B.c', side: 'client' })], { reportId: '' }));
  assert.deepEqual(items.map((i) => i.report), ['bus:msec.reports.metrics:2:7']);
});

test('forged or broken reports are refused whole, with a reason', () => {
  refused(message(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 'malformed', /not a MetricsReport/);
  refused(message(Buffer.alloc(4 * 1024 * 1024 + 1)), 'too-large', /bytes/);
  refused(report(Array.from({ length: maxMetricsPerReport + 1 }, () => metric())), 'too-large', /20001 metrics/);
  refused(report([metric()], { reporter: 'x\u001b[2J' }), 'bad-field', /reporter/);
  refused(report([metric()], { reportId: "r'; DROP TABLE msec.metrics_ip_minute; --" }), 'bad-field', /report id/);
  refused(report([metric()], { reportId: 'x'.repeat(65) }), 'bad-field', /report id/);
  refused(report([metric({ service: 'Flight' })]), 'bad-service', /only a first level/);
  refused(report([metric({ service: "A.b' OR 1=1" })]), 'bad-service', /letter/);
  refused(report([metric({ attr: 'sys.cpu' })]), 'bad-service', /come under RESERVED.monitor/);
  refused(report([metric({ attr: 'orders' })]), 'bad-name', /neither usr\.\*, sys\.\*, kv\.\* nor frm\.\*/);
  refused(report([metric({ attr: 'usr.a\u0000b' })]), 'bad-name', /control character/);
  refused(report([metric({ attr: `usr.${'x'.repeat(200)}` })]), 'bad-name', /at most 127/);
  refused(report([metric({ attr: 'frm.anything', method: 'a.B.c', side: 'server' })]), 'bad-name', /not an attribute the RPC runtime reports/);
  refused(report([metric({ attr: 'frm.requests', method: 'a.B.c; drop', side: 'server' })]), 'bad-name', /method/);
  refused(report([metric({ attr: 'frm.requests', method: 'a.B.c', side: 'sideways' as 'server' })]), 'bad-field', /side/);
  refused(report([metric({ attr: 'frm.requests', method: 'a.B.c', side: 'server', kind: 'set', atMs: minute * 1000 })]), 'bad-field', /count \(add\), not a gauge/);
  refused(report([metric({ method: 'a.B.c' })]), 'bad-field', /carries a method or side/);
  refused(report([metric({ kind: 'multiply' as 'add' })]), 'bad-field', /neither add nor set/);
  refused(report([metric({ ip: '10.0.0.256' })]), 'bad-field', /not an IPv4 address/);
  refused(report([metric({ ip: '::1' })]), 'bad-field', /not an IPv4 address/);
  refused(report([metric({ service: 'RESERVED.monitor', attr: 'sys.cpu', ip: '' })]), 'bad-field', /without the host's ip/);
  refused(report([metric({ value: Number.NaN })]), 'bad-value', /NaN/);
  refused(report([metric({ value: Number.POSITIVE_INFINITY })]), 'bad-value', /Infinity/);
  refused(report([metric({ value: 1e16 })]), 'bad-value', /10000000000000000/);
  refused(report([metric({ minute: minute + 30 })]), 'bad-time', /not a whole minute/);
  refused(report([metric({ minute: minute - 31 * 86_400 })]), 'bad-time', /older than the retention/);
  refused(report([metric({ minute: minute + 3600 })]), 'bad-time', /ahead of this clock/);
  refused(report([metric({ kind: 'set', atMs: minute * 1000 - 1 })]), 'bad-time', /not within its minute/);
  refused(report([metric({ kind: 'set', atMs: minute * 1000 + 60_000 })]), 'bad-time', /not within its minute/);
});

test('a minute a few minutes ahead (clock skew) and one from the retention\'s first day are taken', () => {
  assert.equal(accept(report([metric({ minute: minute + 240 })])).length, 1);
  const firstKept = Math.floor(now / 86_400_000 - 29) * 86_400;
  assert.equal(accept(report([metric({ minute: firstKept })])).length, 1);
  refused(report([metric({ minute: firstKept - 60 })]), 'bad-time', /older than the retention/);
});

test('the KV\'s instance metrics (kv.*) pass under RESERVED.kv only, without a method or side', () => {
  const items = accept(report([metric({ service: 'RESERVED.kv', attr: 'kv.cache.7000.used_memory_mb', kind: 'set', atMs: minute * 1000, value: 12.5, ip: '10.0.0.2' })]));
  assert.deepEqual(items.map((i) => [i.service, i.name, i.ip, i.kind, i.value]), [['RESERVED.kv', 'kv.cache.7000.used_memory_mb', '10.0.0.2', 'set', 12.5]]);
  refused(report([metric({ attr: 'kv.cache.7000.keys' })]), 'bad-service', /kv\.\* come under RESERVED\.kv/);
  refused(report([metric({ service: 'RESERVED.monitor', attr: 'kv.cache.7000.keys' })]), 'bad-service', /come under RESERVED\.kv/);
  refused(report([metric({ service: 'RESERVED.kv', attr: 'kv.cache.7000.keys', method: 'a.B.c' })]), 'bad-field', /method or side/);
  refused(report([metric({ service: 'RESERVED.kv', attr: 'kv.cache\n.keys' })]), 'bad-name', /control character/);
});
