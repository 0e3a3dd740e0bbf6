/**
 * The log routes over HTTP, as an attacker and as each role would use them: hostile query
 * input is a 400 before anything reaches a database; log settings are commands (audited,
 * refused with what to do), long-polled with ETag by running services holding a route-read
 * token; who may read and change what.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { consoleHarness, type Harness } from './harness.ts';

let h: Harness;
let routeToken = '';
before(async () => {
  h = await consoleHarness();
  // This harness folds the projections in memory; the log-settings read model is the runner's, as under msec up.
  h.ctx.logSettings = () => (h.ctx.projections as ProjectionRunner).state('log-settings');
  for (const name of ['Shop.front', 'Other.svc']) assert.equal((await h.call({ method: 'POST', url: '/api/services', payload: { name } })).statusCode, 201);
  for (const [name, role, service] of [['vera', 'viewer', ''], ['sam', 'viewer', 'Other']] as const) {
    const r = await h.call({ method: 'POST', url: '/api/users', payload: { name, password: `${name}-password`, role, ...(service ? { service } : {}) } });
    assert.equal(r.statusCode, 201, r.body);
  }
  routeToken = ((await h.call({ method: 'POST', url: '/api/tokens', payload: { scope: 'routes', label: 'shop service' } })).json() as { token: string }).token;
});
after(() => h.close());

const as = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}` });
const detail = (r: { json(): unknown }) => (r.json() as { detail: string }).detail;
const settingsUrl = '/api/services/Shop.front/log-settings';

test('hostile query input is 400 problem+json, before any database is asked (this console has none: valid input gets 503)', async () => {
  const hostile = [
    "service=Shop.front&level=INFO'%20OR%201=1%20--", 'service=Shop.front&level=WARN', "service=Shop.front'%20--", 'service=Shop.front&since=2000-01-01T00:00:00Z',
    'service=Shop.front&since=30d', 'service=Shop.front&until=9999-01-01', 'requestId=1%3BDROP%20TABLE%20logs', 'requestId=-1', 'service=Shop.front&limit=100000',
    'service=Shop.front&limit=abc', 'service=Shop.front&field=orderId', 'service=Shop.front&field=nope%3D1', `service=Shop.front&grep=${'x'.repeat(201)}`,
    'service=Shop.front&grep=a%0Ab', 'service=Shop.front&ip=1.2.3.4%27', `service=Shop.front&${Array.from({ length: 9 }, () => 'field=a%3D1').join('&')}`,
    'service=Shop.front&sql=SELECT%201', 'service=Shop.front&where=1%3D1', '', 'level=INFO',
  ];
  for (const q of hostile) {
    const r = await h.call({ method: 'GET', url: `/api/logs?${q}` });
    assert.equal(r.statusCode, 400, `${q}: ${r.body}`);
    assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
    assert.ok(detail(r).length > 10);
  }
  const fine = await h.call({ method: 'GET', url: "/api/logs?service=Shop.front&grep=it's%20'%3B%20DROP" });
  assert.equal(fine.statusCode, 503);
  assert.match(detail(fine), /business logs are kept in ClickHouse .* MSEC_VIEWS=embedded/);
  assert.equal((await h.call({ method: 'GET', url: '/api/callgraph/abc' })).statusCode, 400);
});

test('log settings: commands with reasons, refused with what to do, audited', async () => {
  const field = await h.call({ method: 'POST', url: `${settingsUrl}/fields`, payload: { name: 'orderId', type: 'int', reason: 'trace orders' } });
  assert.equal(field.statusCode, 201, field.body);
  assert.equal((await h.call({ method: 'POST', url: `${settingsUrl}/color-rules`, payload: { field: 'orderId', value: '42' } })).statusCode, 201);
  assert.equal((await h.call({ method: 'PUT', url: `${settingsUrl}/level`, payload: { level: 'debug' } })).statusCode, 200);
  const bad: [string, string, object, RegExp][] = [
    ['POST', `${settingsUrl}/fields`, { name: 'Caller', type: 'string' }, /header every record has/],
    ['POST', `${settingsUrl}/fields`, { name: 'x', type: 'float' }, /int or string/],
    ['POST', `${settingsUrl}/color-rules`, { field: 'nope', value: '1' }, /declare it first/],
    ['POST', `${settingsUrl}/color-rules`, { field: 'orderId', value: 'x' }, /whole number/],
    ['PUT', `${settingsUrl}/level`, { level: "INFO' OR 1=1" }, /not a log level/],
    ['PUT', `${settingsUrl}/level`, { level: 'INFO', extra: 1 }, /must NOT have additional properties/],
    ['POST', `${settingsUrl}/color-rules`, { field: 'user', value: 'x'.repeat(1025) }, /1024/],
  ];
  for (const [method, url, payload, message] of bad) {
    const r = await h.call({ method: method as 'POST', url, payload });
    assert.equal(r.statusCode, 400, `${JSON.stringify(payload)}: ${r.body}`);
    assert.match(detail(r), message);
  }
  const used = await h.call({ method: 'DELETE', url: `${settingsUrl}/fields/orderId` });
  assert.equal(used.statusCode, 409);
  assert.match(detail(used), /remove it first/);
  assert.equal((await h.call({ method: 'POST', url: '/api/services/Nope.svc/log-settings/fields', payload: { name: 'a', type: 'int' } })).statusCode, 404);
  assert.equal((await h.call({ method: 'GET', url: '/api/services/Shop/log-settings' })).statusCode, 400);
  const audit = (await h.call({ method: 'GET', url: '/api/audit?stream=logs-Shop.front' })).json() as { entries: { summary: string; reason: string }[] };
  assert.deepEqual(audit.entries.map((e) => e.summary).reverse(), ['log field orderId (int) added to Shop.front', 'coloring rule orderId=42 added to Shop.front', "log level of Shop.front set to DEBUG (was its config version's)"]);
  assert.equal(audit.entries.at(-1)!.reason, 'trace orders');
});

test('running services poll the settings with a route-read token: ETag, 304 on no change, the change as soon as it is made', async () => {
  const bearer = { authorization: `Bearer ${routeToken}` };
  const first = await h.app.inject({ method: 'GET', url: settingsUrl, headers: bearer });
  assert.equal(first.statusCode, 200, first.body);
  const body = first.json() as { level: string; colorRules: unknown[]; fields: unknown[]; revision: number };
  assert.deepEqual([body.level, body.colorRules, body.fields], ['DEBUG', [{ field: 'orderId', value: '42' }], [{ name: 'orderId', type: 'int' }]]);
  const etag = first.headers.etag as string;
  assert.equal(etag, `"${body.revision}"`);
  const unchanged = await h.app.inject({ method: 'GET', url: `${settingsUrl}?wait=1`, headers: { ...bearer, 'if-none-match': etag } });
  assert.equal(unchanged.statusCode, 304);
  const waiting = h.app.inject({ method: 'GET', url: `${settingsUrl}?wait=20`, headers: { ...bearer, 'if-none-match': etag } });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await h.call({ method: 'POST', url: `${settingsUrl}/color-rules`, payload: { field: 'Caller', value: 'Shop.gate' } })).statusCode, 201);
  const changed = await waiting;
  assert.equal(changed.statusCode, 200);
  assert.notEqual(changed.headers.etag, etag);
  assert.equal((changed.json() as { colorRules: unknown[] }).colorRules.length, 2);
  // The token reads settings and routes, nothing else, and changes nothing.
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/logs?service=Shop.front', headers: bearer })).statusCode, 403);
  assert.equal((await h.app.inject({ method: 'PUT', url: `${settingsUrl}/level`, headers: bearer, payload: { level: 'INFO' } })).statusCode, 403);
});

test('who may read and change: viewers read, only operators change; a scoped viewer reads its first level only', async () => {
  assert.equal((await h.app.inject({ method: 'GET', url: settingsUrl, headers: as('vera') })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/logs?service=Shop.front', headers: as('vera') })).statusCode, 503, 'allowed: then no ClickHouse here');
  const write = await h.app.inject({ method: 'POST', url: `${settingsUrl}/fields`, headers: as('vera'), payload: { name: 'sku', type: 'string' } });
  assert.equal(write.statusCode, 403);
  assert.match(detail(write), /vera lacks permission services\.write on Shop\.front/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/logs?service=Other.svc', headers: as('sam') })).statusCode, 503, 'its own first level');
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/logs?service=Shop.front', headers: as('sam') })).statusCode, 403);
  const anyService = await h.app.inject({ method: 'GET', url: '/api/logs?requestId=42', headers: as('sam') });
  assert.equal(anyService.statusCode, 403, 'a request id alone searches every service');
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/callgraph/42', headers: as('sam') })).statusCode, 403);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/logs?service=Shop.front' })).statusCode, 401);
});
