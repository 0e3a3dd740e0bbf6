/**
 * The console's metric and alarm API on a real ClickHouse, with the report ingestion running on
 * the console's bus: what scripts report comes back in the curves; bad query input is a 400
 * problem+json that never carries SQL; webhooks may not point at the console; viewers scoped to
 * another service read nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import { MemoryCheckpointStore } from '../../../adapters/checkpoints/memory.ts';
import { migrate } from '../../../adapters/views/clickhouse-migrate.ts';
import { startConsoleMonitor } from '../../../apps/monitor/console-monitor.ts';
import { metricsSink } from '../../../apps/monitor/metrics-sink.ts';
import { WebhookSigner } from '../../../apps/monitor/webhook-signing.ts';
import { ReportIngest, type ReportSink } from '../../../apps/projector/report-ingest.ts';
import { consoleHarness, type Harness } from '../../unit/console/harness.ts';
import type { Target } from './views.contract.ts';
import { eventually } from './reports.ts';
import { encodeReport, type Metric } from '../../../schemas/reports.ts';

const silent = pino({ level: 'silent' });
const S = 'Flight.mod_flight';

// The receivers of these tests listen on loopback: a private network an admin allows.
process.env.MSEC_WEBHOOK_ALLOW = '127.0.0.0/8';

async function consoleWithViews(target: Target) {
  const database = target.database();
  await migrate(target.ch, database);
  const bus = new MemoryMessageBus({ pollIntervalMs: 10, retryDelays: { initialMs: 5, maxMs: 20 }, logger: silent });
  const ingest = new ReportIngest({ bus, sinks: [metricsSink({ clickhouse: { client: target.ch, database }, logger: silent, retentionDays: 30 }) as ReportSink<unknown>], logger: silent });
  ingest.start();
  let stopMonitor = async () => {};
  const h: Harness = await consoleHarness({
    extend: async (ctx, runner) => {
      const monitor = await startConsoleMonitor({
        commands: ctx.commands, backends: { store: ctx.store, checkpoints: new MemoryCheckpointStore(), clickhouse: { client: target.ch, database }, home: '/nonexistent' },
        reads: ctx.reads, projections: runner, settings: { retentionDays: 30, alarmGraceMs: 30_000 }, logger: silent, clock: Date.now,
        signer: WebhookSigner.generate(), pollMs: 3_600_000,
      });
      monitor.setConsoleAddress({ hosts: ['127.0.0.1'], port: 8080 });
      ctx.monitor = monitor;
      ctx.bus = bus;
      stopMonitor = () => monitor.stop();
    },
  });
  const json = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await h.call({ method: method as 'GET', url, ...(body !== undefined ? { payload: body as object } : {}), headers });
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body: res.json() as Record<string, unknown> };
  };
  const ok = async (method: string, url: string, body?: unknown) => {
    const r = await json(method, url, body);
    assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await ok('POST', '/api/services', { name: S });
  return { h, json, ok, ingest, bus, close: async () => { await stopMonitor(); await ingest.stop(); await h.close(); } };
}

const noSql = /\bSELECT\b|\bFROM\b|\bWHERE\b|metrics_(service|ip)_minute|argMin|Code: \d+/;

export function metricApiContract(label: string, target: () => Target) {
  describe(`metric and alarm API: ${label}`, () => {
    it('a value reported by a script comes back in the curves; a retried request (same Idempotency-Key) counts once', async () => {
      const c = await consoleWithViews(target());
      try {
        const key = '01900000-0000-7000-8000-000000000001';
        for (let i = 0; i < 2; i++) {
          const res = await c.h.call({ method: 'POST', url: `/api/services/${S}/metrics`, payload: { name: 'orders', value: 4, ip: '10.0.0.1' }, headers: { 'idempotency-key': key } });
          assert.equal(res.statusCode, 202, res.body);
        }
        await c.ok('POST', `/api/services/${S}/metrics`, { name: 'usr.queue', value: 7, kind: 'set' });
        await eventually('stored', () => c.ingest.status()[0]!.stored >= 3);
        const curves = await c.ok('GET', `/api/services/${S}/metrics/curves`) as { series: { name: string; values: (number | null)[] }[] };
        const total = (name: string) => curves.series.find((s) => s.name === name)!.values.reduce<number>((a, v) => a + (v ?? 0), 0);
        assert.equal(total('usr.orders'), 4);
        assert.equal(total('usr.queue'), 7);
        const listing = await c.ok('GET', `/api/services/${S}/metrics`) as { names: string[]; ips: string[] };
        assert.deepEqual(listing.names, ['usr.orders', 'usr.queue']);
        assert.deepEqual(listing.ips, ['10.0.0.1']);
      } finally {
        await c.close();
      }
    });

    it('bad query input is a 400 problem+json that says what to fix and never shows SQL', async () => {
      const c = await consoleWithViews(target());
      try {
        const bad: [string, RegExp][] = [
          [`/api/services/${S}/metrics/curves?name=(`, /not a regular expression in RE2 syntax/],
          [`/api/services/${S}/metrics/curves?name=${encodeURIComponent('(?<=a)b')}`, /RE2 syntax/],
          [`/api/services/${S}/metrics/curves?ip=${encodeURIComponent("1' OR '1'='1")}`, /not an IPv4 address/],
          [`/api/services/${S}/metrics/curves?day=2024-05-01`, /day/],
          [`/api/services/${S}/metrics/curves?day=20240230`, /not a date/],
          [`/api/services/${S}/metrics/curves?tz=100000`, /tz/],
          [`/api/services/${S}/metrics/curves?days=0`, /days/],
          [`/api/services/${S}/metrics/curves?days=32`, /days/],
          [`/api/services/${S}/metrics/curves?days=3&compare=20240501`, /use one of them/],
          [`/api/services/${S}/metrics/curves?ip=10.0.0.1&byIp=true`, /not both/],
          [`/api/services/${S}/metrics/curves?name=${'a'.repeat(300)}`, /name/],
          [`/api/services/${S}/metrics/curves?select=1`, /additional properties/],
          [`/api/services/${encodeURIComponent("A.b' OR 1=1")}/metrics/curves`, /must start with a letter/],
          [`/api/services/${S}/alarms?since=yesterday`, /neither an ISO-8601 time/],
        ];
        for (const [url, detail] of bad) {
          const r = await c.json('GET', url);
          assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
          assert.match(r.type, /application\/problem\+json/);
          assert.match(String(r.body.detail), detail, url);
          assert.doesNotMatch(String(r.body.detail), noSql, url);
        }
        const injected = await c.json('GET', `/api/services/${S}/metrics/curves?name=${encodeURIComponent("' OR 1=1 OR name LIKE '%")}`);
        assert.equal(injected.status, 200, 'a name filter is a value, never SQL: it matches nothing');
        assert.deepEqual(injected.body.series, []);
        assert.equal((await c.json('GET', '/api/services/No.such/metrics/curves')).status, 404);
      } finally {
        await c.close();
      }
    });

    it('an answer holds at most 1000 curves: more asks for a narrower filter', async () => {
      const c = await consoleWithViews(target());
      try {
        const minute = Math.floor(Date.now() / 60_000) * 60;
        const metrics = Array.from({ length: 1001 }, (_, i): Metric => ({ service: S, method: '', side: '', attr: `usr.m${i}`, minute, value: 1, kind: 'add' as const, ip: '', atMs: 0 }));
        await c.bus.publish('msec.reports.metrics', [{ key: S, value: encodeReport('msec.reports.metrics', { reporter: 't', metrics, droppedRecords: 0, reportId: 'many-names' }) }]);
        await eventually('stored', () => c.ingest.status()[0]!.stored >= 1001);
        const many = await c.json('GET', `/api/services/${S}/metrics/curves`);
        assert.equal(many.status, 400);
        assert.match(String(many.body.detail), /more than 1000 curves .* narrow the name filter/);
        const some = await c.json('GET', `/api/services/${S}/metrics/curves?name=${encodeURIComponent('^usr\\.m1[0-9]$')}`);
        assert.equal(some.status, 200);
        assert.equal((some.body.series as unknown[]).length, 10);
      } finally {
        await c.close();
      }
    });

    it('reporting refuses what it cannot store, with a 400 and nothing published', async () => {
      const c = await consoleWithViews(target());
      try {
        const bad: [unknown, RegExp][] = [
          [{ name: 'frm.requests', value: 1 }, /reserved/],
          [{ name: 'a\u0000b', value: 1 }, /control character/],
          [{ name: 'orders', value: 'NaN' }, /value/],
          [{ name: 'orders', value: 1e300 }, /finite number within/],
          [{ name: 'orders', value: 1, kind: 'multiply' }, /kind/],
          [{ name: 'orders', value: 1, ip: '10.0.0.999' }, /above 255/],
          [{ name: 'orders', value: 1, ip: '::1' }, /not an IPv4 address/],
          [{ name: 'orders', value: 1, extra: true }, /additional properties/],
          [{ name: 'x'.repeat(201), value: 1 }, /name/],
        ];
        for (const [body, detail] of bad) {
          const r = await c.json('POST', `/api/services/${S}/metrics`, body);
          assert.equal(r.status, 400, JSON.stringify(body));
          assert.match(String(r.body.detail), detail, JSON.stringify(body));
        }
        assert.equal((await c.json('POST', '/api/services/No.such/metrics', { name: 'orders', value: 1 })).status, 404);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(c.ingest.status()[0]!.stored, 0, 'nothing was published');
      } finally {
        await c.close();
      }
    });

    it('webhooks: malformed URLs and URLs of the console itself are refused; a good one answers the signing key', async () => {
      const c = await consoleWithViews(target());
      try {
        for (const [url, detail] of [
          ['ftp://alerts/x', /http:\/\/ or https:\/\//], ['alerts.example.com/x', /not a URL/], ['http://u:p@alerts/x', /user name or password/],
          ['http://127.0.0.1:8080/api/users', /is this console/], ['http://localhost:8080/', /is this console/], ['http://[::1]:8080/', /is this console/],
          ['http://2130706433:8080/', /is this console/], [`http://a/${'x'.repeat(2050)}`, /url/],
          // inside the network, and not allowed (MSEC_WEBHOOK_ALLOW is 127.0.0.0/8 here)
          ['http://169.254.169.254/latest/meta-data', /private address/], ['http://10.0.0.5:2113/admin/shutdown', /private address/],
          ['http://[::ffff:a9fe:a9fe]/', /private address/], ['http://0x0a000005/', /private address/],
        ] as const) {
          const r = await c.json('POST', `/api/services/${S}/alarm-webhooks`, { url });
          assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
          assert.match(String(r.body.detail), detail, url);
        }
        const good = await c.ok('POST', `/api/services/${S}/alarm-webhooks`, { url: 'http://127.0.0.1:9999/hook' }) as { signingKey: { keyId: string; publicKey: string } };
        assert.match(good.signingKey.publicKey, /BEGIN PUBLIC KEY/);
        const rules = await c.ok('GET', `/api/services/${S}/alarm-rules`) as { webhooks: { url: string }[] };
        assert.deepEqual(rules.webhooks.map((w) => w.url), ['http://127.0.0.1:9999/hook']);
      } finally {
        await c.close();
      }
    });

    it('alarm rules refuse what cannot be judged, with a 400 saying what to fix; a good rule is listed', async () => {
      const c = await consoleWithViews(target());
      try {
        const bad: [unknown, RegExp][] = [
          [{ name: 'usr.orders' }, /every check .* is 0/],
          [{ name: 'usr.orders', max: -1 }, /max/],
          [{ name: 'usr.orders', max: 'lots' }, /max/],
          [{ name: 'usr.orders', max: 1e16 }, /max must be a number from 0/],
          [{ name: 'usr.orders', max: 5, forMinutes: 0 }, /forMinutes/],
          [{ name: 'usr.orders', max: 5, forMinutes: 2.5 }, /forMinutes/],
          [{ name: 'usr.orders', max: 5, scope: 'everywhere' }, /scope/],
          [{ name: 'usr.orders', max: 5, min: 9 }, /min \(9\) is not below max \(5\)/],
          [{ name: 'sys.cpu', max: 90 }, /RESERVED.monitor/],
          [{ name: 'usr.\u0007bell', max: 1 }, /control character/],
          [{ name: 'usr.orders', max: 1, sql: "'; DROP" }, /additional properties/],
        ];
        for (const [body, detail] of bad) {
          const r = await c.json('PUT', `/api/services/${S}/alarm-rules`, body);
          assert.equal(r.status, 400, JSON.stringify(body));
          assert.match(String(r.body.detail), detail, JSON.stringify(body));
        }
        assert.equal((await c.json('PUT', '/api/services/No.such/alarm-rules', { name: 'usr.orders', max: 1 })).status, 404);
        assert.equal((await c.json('DELETE', `/api/services/${S}/alarm-rules`, { name: 'usr.none' })).status, 404);
        await c.ok('PUT', `/api/services/${S}/alarm-rules`, { name: 'frm.requests queryFlight', min: 1, forMinutes: 5, scope: 'host' });
        const rules = await c.ok('GET', `/api/services/${S}/alarm-rules`) as { rules: { name: string; min: number; forMinutes: number; scope: string }[] };
        assert.deepEqual(rules.rules.map((r) => [r.name, r.min, r.forMinutes, r.scope]), [['frm.requests queryFlight', 1, 5, 'host']]);
      } finally {
        await c.close();
      }
    });

    it('roles: a viewer reads, only an operator reports or sets rules; a viewer of another first level reads nothing', async () => {
      const c = await consoleWithViews(target());
      try {
        await c.ok('POST', '/api/users', { name: 'vera', password: 'vera-password-1', role: 'viewer', service: 'Other' });
        await c.ok('POST', '/api/users', { name: 'olga', password: 'olga-password-1', role: 'viewer', service: 'Flight' });
        const as = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
        const get = (url: string, user: string, password: string) => c.h.call({ method: 'GET', url, headers: as(user, password) });
        assert.equal((await get(`/api/services/${S}/metrics/curves`, 'vera', 'vera-password-1')).statusCode, 403);
        assert.equal((await get(`/api/services/${S}/alarm-rules`, 'vera', 'vera-password-1')).statusCode, 403);
        assert.equal((await get(`/api/services/${S}/metrics/curves`, 'olga', 'olga-password-1')).statusCode, 200);
        const post = await c.h.call({ method: 'POST', url: `/api/services/${S}/metrics`, payload: { name: 'orders', value: 1 }, headers: as('olga', 'olga-password-1') });
        assert.equal(post.statusCode, 403);
        const rule = await c.h.call({ method: 'PUT', url: `/api/services/${S}/alarm-rules`, payload: { name: 'usr.orders', max: 1 }, headers: as('olga', 'olga-password-1') });
        assert.equal(rule.statusCode, 403);
        await c.ok('PUT', `/api/services/${S}/alarm-rules`, { name: 'usr.orders', max: 1 });
        const list = (await get('/api/alarms', 'vera', 'vera-password-1')).json() as { rows: unknown[]; open: unknown[] };
        assert.deepEqual(list, { rows: [], open: [] });
      } finally {
        await c.close();
      }
    });
  });
}
