/** msec metric, msec metrics and msec alarm against a fake console: requests sent, output printed, bad command lines refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { done, problem, runCli, withConsole } from './helpers.ts';

test('metric add|set: the value, kind and ip go in the body with an Idempotency-Key; VALUE must be a number', async () => {
  await withConsole({ 'POST /api/services/A.b/metrics': (req) => ({ status: 202, body: { ok: true, name: 'usr.orders', minute: 1_714_557_600, kind: req.json?.kind } }) }, async (c, env) => {
    let r = await runCli(['metric', 'add', 'A.b', 'orders', '3', '--ip', '10.0.0.1'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(c.requests[0]!.json, { name: 'orders', value: 3, kind: 'add', ip: '10.0.0.1' });
    assert.match(String(c.requests[0]!.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
    assert.equal(r.stdout, 'added 3 to usr.orders of A.b at 10.0.0.1, minute 2024-05-01T10:00Z\n');
    r = await runCli(['metric', 'set', 'A.b', 'queue', '--', '-2.5'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(c.requests[1]!.json, { name: 'queue', value: -2.5, kind: 'set' });
    for (const bad of ['ten', '', '1e999', 'NaN']) {
      const u = await runCli(['metric', 'add', 'A.b', 'orders', bad], { env });
      assert.equal(u.code, 2, bad);
      assert.match(u.stderr, /VALUE must be a number/);
    }
    assert.equal(c.requests.length, 2, 'nothing sent for a bad command line');
  });
});

test('metric add: the console\'s refusal is one line on stderr, exit 1', async () => {
  await withConsole({ 'POST /api/services/A.b/metrics': problem(400, '"frm.requests" is reserved: frm.* metrics come from the RPC runtime') }, async (_c, env) => {
    const r = await runCli(['metric', 'add', 'A.b', 'frm.requests', '1'], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'msec: "frm.requests" is reserved: frm.* metrics come from the RPC runtime\n');
  });
});

test('metrics: flags become the query; the table sums the day; day formats and exclusive flags are checked before asking', async () => {
  const from = Date.UTC(2024, 4, 1) / 1000;
  const values = new Array(1440).fill(null);
  values[600] = 7;
  values[601] = 3;
  await withConsole({
    'GET /api/services/A.b/metrics/curves': { body: { service: 'A.b', days: ['20240501'], series: [{ name: 'frm.requests queryFlight', day: '20240501', from, values }] } },
    'GET /api/services/A.b/metrics/latency': { body: { service: 'A.b', day: '20240501', methods: [{ method: 'queryFlight', side: 'server', overall: { calls: 10, p50: 1.25, p90: 4, p99: 9.9 } }] } },
    'GET /api/services/A.b/metrics': { body: { service: 'A.b', day: '20240501', names: ['usr.a', 'sys.cpu'], ips: ['10.0.0.1'] } },
  }, async (c, env) => {
    let r = await runCli(['metrics', 'A.b', '--name', '^frm', '--day', '20240501', '--compare', '20240430'], { env });
    assert.equal(r.code, 0, r.stderr);
    const q = Object.fromEntries(c.requests[0]!.query);
    assert.equal(q.name, '^frm');
    assert.equal(q.day, '20240501');
    assert.equal(q.compare, '20240430');
    assert.match(q.tz!, /^-?\d+$/);
    assert.equal(r.stdout, [
      'NAME                      TOTAL  MAX  MIN  LAST  AT (UTC)',
      'frm.requests queryFlight     10    7    3     3  10:01',
      '',
    ].join('\n'));
    r = await runCli(['metrics', 'A.b', '--latency'], { env });
    assert.match(r.stdout, /queryFlight\s+server\s+10\s+1\.3 ms\s+4 ms\s+9\.9 ms/);
    r = await runCli(['metrics', 'A.b', '--list'], { env });
    assert.equal(r.stdout, 'A.b on 20240501\nips: 10.0.0.1\n  usr.a\n  sys.cpu\n');
    const before = c.requests.length;
    for (const [argv, message] of [
      [['--day', '2024-05-01'], /--day must be a day as YYYYMMDD/],
      [['--days', '40'], /--days must be from 1 to 31/],
      [['--days', 'x'], /--days must be an integer/],
      [['--days', '2', '--compare', '20240430'], /use one/],
      [['--ip', '10.0.0.1', '--by-ip'], /use one/],
    ] as const) {
      const u = await runCli(['metrics', 'A.b', ...argv], { env });
      assert.equal(u.code, 2, argv.join(' '));
      assert.match(u.stderr, message);
    }
    assert.equal(c.requests.length, before);
  });
});

test('alarm set: thresholds, for, per host in the body; at least one check; alarm webhook prints the key; alarm fired answers yes or no', async () => {
  await withConsole({
    'PUT /api/services/A.b/alarm-rules': done({ stream: 'alarm-rules-A.b', events: ['AlarmRuleSet'] }),
    'POST /api/services/A.b/alarm-webhooks': { status: 201, body: { ok: true, url: 'https://h/x', signingKey: { keyId: 'abc123def456', publicKey: '-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----\n', header: 'X-Msec-Signature: ed25519=<keyId>:<base64 signature>', signs: 'msec-webhook-v1…' } } },
    'GET /api/services/A.b/alarms': (req) => ({ body: req.query.get('since') === 'old' ? { fired: true, raised: [{ name: 'usr.orders', alarmType: 'max', ip: '', minute: 1_714_557_600 }], open: [] } : { fired: false, raised: [], open: [] } }),
  }, async (c, env) => {
    let r = await runCli(['alarm', 'set', 'A.b', 'usr.orders', '--max', '10', '--diff-percent', '50', '--for', '3', '--per-host'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(c.requests[0]!.json, { name: 'usr.orders', max: 10, diffPercent: 50, forMinutes: 3, scope: 'host' });
    for (const [argv, message] of [[[], /give at least one check/], [['--max=-1'], /--max must be a number ≥ 0/], [['--min', 'low'], /--min must be a number/], [['--max', '0'], /at least one check/]] as const) {
      const u = await runCli(['alarm', 'set', 'A.b', 'usr.orders', ...argv], { env });
      assert.equal(u.code, 2, argv.join(' '));
      assert.match(u.stderr, message);
    }
    r = await runCli(['alarm', 'webhook', 'A.b', 'https://h/x'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^https:\/\/h\/x receives the alarms of A\.b\ncheck each delivery: X-Msec-Signature: .* \(id abc123def456\):\n-----BEGIN PUBLIC KEY-----/);
    assert.match((await runCli(['alarm', 'fired', 'A.b', '--since', 'old'], { env })).stdout, /^yes: usr\.orders max at 2024-05-01 10:00Z\n$/);
    assert.match((await runCli(['alarm', 'fired', 'A.b', '--since', 'new'], { env })).stdout, /^no alarm of A\.b since new\n$/);
    assert.equal((await runCli(['alarm', 'fired', 'A.b'], { env })).code, 2, '--since is required');
  });
});
