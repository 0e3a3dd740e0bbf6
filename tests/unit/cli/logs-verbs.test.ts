/** msec logs, callgraph and log … against a fake console: the requests sent, what is printed, and that records cannot forge lines or drive the terminal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { done, problem, runCli, withConsole } from './helpers.ts';

const rec = (o: Record<string, unknown> = {}) => ({
  id: '0-1-0', time: '2024-05-01T10:00:00.123Z', timeMs: 0, level: 'INFO', service: 'Shop.front', requestId: '42', clientIp: '10.0.0.9', serverIp: '10.0.0.1',
  rpcName: 'shop.Front.Order', caller: 'shop-web', coloring: 0, message: 'order taken', fields: { orderId: '7' }, ...o,
});

test('logs: filters become query parameters (repeated --field), one line per record, notes for truncation and drops', async () => {
  const answer = { records: [rec(), rec({ id: '0-2-0', level: 'ERROR', service: 'Shop.back', coloring: 1, fields: {} })], truncated: true, dropped: 3, since: '2024-05-01T09:00:00.000Z', until: '2024-05-01T10:05:00.000Z' };
  await withConsole({ 'GET /api/logs': { body: answer } }, async (c, env) => {
    const r = await runCli(['logs', 'Shop.front', '--level', 'info', '--since', '1h', '--field', 'orderId=7', '--field', 'Caller=shop-web', '--grep', "it's", '--limit', '2'], { env });
    assert.equal(r.code, 0, r.stderr);
    const q = c.requests[0]!.query;
    assert.deepEqual([q.get('service'), q.get('level'), q.get('since'), q.getAll('field'), q.get('grep'), q.get('limit')], ['Shop.front', 'info', '1h', ['orderId=7', 'Caller=shop-web'], "it's", '2']);
    assert.equal(r.stdout, [
      '2024-05-01 10:00:00.123  INFO   Shop.front  req 42 shop.Front.Order <- shop-web (10.0.0.9 -> 10.0.0.1)  order taken  orderId=7',
      '2024-05-01 10:00:00.123  ERROR  Shop.back  req 42 shop.Front.Order <- shop-web (10.0.0.9 -> 10.0.0.1) colored  order taken',
      '(more records match: these are the newest 2; narrow the filters or raise --limit, at most 1000)',
      "(3 records were dropped by the service's processes in this range: their log buffer was full while the bus was away)",
      '',
    ].join('\n'));
  });
});

test('logs: a record cannot forge a line or drive the terminal (newlines shown as \\n, controls as escapes)', async () => {
  const evil = rec({ message: 'real\n2024-05-01 10:00:01.000  FATAL  Shop.front  forged\u001b]52;c;cHduZWQ=\u0007\u001b[2J', caller: 'x\ry', fields: { note: 'a\nb' } });
  await withConsole({ 'GET /api/logs': { body: { records: [evil], truncated: false, dropped: 0, since: '', until: '' } } }, async (_c, env) => {
    const r = await runCli(['logs', '--request-id', '42'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length, 2, 'one record, one line');
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0007\u001b\r]/.test(r.stdout), JSON.stringify(r.stdout));
    assert.match(r.stdout, /real\\n2024-05-01 10:00:01\.000 {2}FATAL {2}Shop\.front {2}forged\\u001b\]52;c;cHduZWQ=\\u0007\\u001b\[2J/);
    assert.match(r.stdout, /note=a\\nb/);
  });
});

test('logs: neither SERVICE nor --request-id is a usage error; the console\'s 400 is one line, exit 1', async () => {
  await withConsole({ 'GET /api/logs': problem(400, 'level "X" is not a log level: use one of TRACE, DEBUG, INFO, ERROR, FATAL') }, async (c, env) => {
    const none = await runCli(['logs'], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name a SERVICE or give --request-id/);
    assert.equal(c.requests.length, 0);
    const bad = await runCli(['logs', 'Shop.front', '--level', 'X'], { env });
    assert.deepEqual([bad.code, bad.stdout, bad.stderr], [1, '', 'msec: level "X" is not a log level: use one of TRACE, DEBUG, INFO, ERROR, FATAL\n']);
  });
});

const graph = {
  requestId: '42', startMs: 0, endMs: 50,
  nodes: [
    { id: 'shop-web', kind: 'caller', instances: [], methods: [], latencyMs: null, error: false, records: 0, errorRecords: 0 },
    { id: 'Shop.front', kind: 'service', instances: ['10.0.0.1:7000'], methods: ['shop.Front.Order'], latencyMs: 42, error: false, records: 2, errorRecords: 0 },
  ],
  edges: [{ seq: 1, from: 'shop-web', to: 'Shop.front', method: 'shop.Front.Order', latencyMs: 42, serverLatencyMs: 40, err: 0, instance: '10.0.0.1:7000', startMs: 0 }],
};

test('callgraph: text, --dot, --svg FILE; a bad id or two formats is a usage error', async () => {
  await withConsole({ 'GET /api/callgraph/42': { body: graph } }, async (c, env, dir) => {
    const text = await runCli(['callgraph', '42'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^request 42: 1 service, 1 call, 50 ms from first to last\ncalls:\n {3}1\. shop-web -> Shop\.front {2}shop\.Front\.Order {2}42 ms \(served in 40 ms\) {2}ok {2}10\.0\.0\.1:7000\n/);
    assert.match((await runCli(['callgraph', '42', '--dot'], { env })).stdout, /^digraph "request 42" \{[^]*"shop-web" -> "Shop.front" \[label="1. shop.Front.Order 42 ms"\];\n\}\n$/);
    const file = join(dir, 'g.svg');
    const svg = await runCli(['callgraph', '42', '--svg', file], { env });
    assert.equal(svg.stdout, `wrote the call graph of request 42 (2 nodes, 1 calls) to ${file}\n`);
    assert.equal((readFileSync(file, 'utf8').match(/<g class="node"/g) ?? []).length, 2);
    assert.equal((await runCli(['callgraph', '42', '--svg', join(dir, 'no', 'such', 'dir.svg')], { env })).code, 1);
    const before = c.requests.length;
    assert.equal((await runCli(['callgraph', "42' OR 1=1"], { env })).code, 2);
    assert.equal((await runCli(['callgraph', '42', '--dot', '--json'], { env })).code, 2);
    assert.equal(c.requests.length, before, 'nothing sent for a bad command line');
  });
});

test('log settings verbs: the requests they send, with reasons', async () => {
  await withConsole({
    'PUT /api/services/Shop.front/log-settings/level': done(),
    'POST /api/services/Shop.front/log-settings/fields': done(),
    'DELETE /api/services/Shop.front/log-settings/fields/orderId': done(),
    'POST /api/services/Shop.front/log-settings/color-rules': done(),
    'DELETE /api/services/Shop.front/log-settings/color-rules': done(),
    'GET /api/services/Shop.front/log-settings': { body: { service: 'Shop.front', revision: 3, level: null, colorRules: [{ field: 'orderId', value: '42' }], fields: [{ name: 'orderId', type: 'int' }], config: { tag: 'v2', level: 'ERROR', colorRules: [{ field: 'Caller', value: 'Shop.gate' }] } } },
  }, async (c, env) => {
    for (const argv of [
      ['log', 'level', 'Shop.front', 'default'], ['log', 'level', 'Shop.front', 'DEBUG', '--reason', 'incident'],
      ['log', 'field', 'add', 'Shop.front', 'orderId', '--type', 'int'], ['log', 'field', 'delete', 'Shop.front', 'orderId'],
      ['log', 'color', 'Shop.front', 'orderId=42=x'], ['log', 'color', 'Shop.front', 'orderId=42', '--remove'],
    ]) assert.equal((await runCli(argv, { env })).code, 0, argv.join(' '));
    assert.deepEqual(c.requests.map((r) => [r.method, r.path.replace('/api/services/Shop.front/log-settings', ''), r.json]), [
      ['PUT', '/level', { level: '' }], ['PUT', '/level', { level: 'DEBUG', reason: 'incident' }],
      ['POST', '/fields', { name: 'orderId', type: 'int' }], ['DELETE', '/fields/orderId', undefined],
      ['POST', '/color-rules', { field: 'orderId', value: '42=x' }], ['DELETE', '/color-rules', { field: 'orderId', value: '42' }],
    ]);
    assert.ok(c.requests.every((r) => typeof r.headers['idempotency-key'] === 'string'));
    assert.equal((await runCli(['log', 'color', 'Shop.front', 'orderId'], { env })).code, 2);
    const shown = await runCli(['log', 'settings', 'Shop.front'], { env });
    assert.equal(shown.stdout, [
      'service: Shop.front', 'level:   ERROR (config v2)', '', 'coloring rules:', 'FIELD    VALUE      FROM', 'orderId  42         console', 'Caller   Shop.gate  config v2',
      '', 'custom fields:', 'NAME     TYPE', 'orderId  int', '',
    ].join('\n'));
  });
});

test('status: the report sinks (logs, call edges) with what they stored and refused, by reason', async () => {
  const projector = {
    at: '2024-05-01T10:00:00.000Z', head: 1, relay: { checkpoint: 1 }, projections: [],
    ingest: [
      { name: 'logs', topic: 'msec.reports.logs', group: 'msec.ingest.logs', stored: 1200, refused: { total: 3, byReason: { 'bad-time': 2, malformed: 1 } } },
      { name: 'call-edges', topic: 'msec.reports.calls', group: 'msec.ingest.call-edges', stored: 40, refused: { total: 0, byReason: {} }, error: 'ClickHouse at http://ch:8123 is not answering' },
    ],
  };
  await withConsole({
    'GET /healthz': { body: { ok: true } },
    'GET /api/projections': { body: { projections: [], components: { role: 'console', backends: {}, projector } } },
  }, async (_c, env) => {
    const r = await runCli(['status'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /REPORTS +TOPIC +STORED +REFUSED +ERROR/);
    assert.match(r.stdout, /logs +msec\.reports\.logs +1200 +3 \(bad-time 2, malformed 1\)/);
    assert.match(r.stdout, /call-edges +msec\.reports\.calls +40 +0 +ClickHouse at http:\/\/ch:8123 is not answering/);
  });
});

test('logs --follow: polls, prints each record once though polls overlap, looks 30 s back from the last record; Ctrl-C ends it with 0', async () => {
  const stop = new AbortController();
  const pages = [
    [rec({ id: 'a', time: '2024-05-01T10:00:00.000Z', message: 'first' })],
    [rec({ id: 'a', time: '2024-05-01T10:00:00.000Z', message: 'first' }), rec({ id: 'b', time: '2024-05-01T10:00:01.000Z', message: 'second' })],
  ];
  await withConsole({
    'GET /api/logs': (_req, n) => {
      if (n >= 2) setTimeout(() => stop.abort(), 50);
      return { body: { records: pages[Math.min(n - 1, 1)], truncated: false, dropped: 0, since: '2024-05-01T09:59:00.000Z', until: '2024-05-01T10:05:00.000Z' } };
    },
  }, async (c, env) => {
    const r = await runCli(['logs', 'Shop.front', '--follow', '--json'], { env, stop: stop.signal });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message), ['first', 'second']);
    assert.deepEqual(c.requests.map((q) => [q.query.get('since'), q.query.get('limit')]).slice(0, 2), [['1m', '1000'], ['2024-05-01T09:59:30.000Z', '1000']]);
  });
});
