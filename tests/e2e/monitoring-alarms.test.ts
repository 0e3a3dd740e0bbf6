/**
 * Alarms end to end, on `msec up`'s own code in this process with its clock in the test's hands
 * (no real minute is waited): `msec metric add` (the real CLI, a child process) above a max rule
 * raises an alarm when the next minute is judged; a local webhook receiver gets it once, signed
 * with the console's key, after the first attempt failed; the value back under the line resolves
 * it; the audit, `msec alarm list` and `msec alarm fired` tell the same story.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { up } from '../../apps/console/up.ts';
import { checkWebhookSignature } from '../../apps/monitor/webhook-signing.ts';
import { execFile } from 'node:child_process';
import { eventually, bin } from './support.ts';

/** The real CLI in a child process, without blocking this process (the console runs here). */
function msec(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
async function msecJson<T>(args: string[], env: Record<string, string>): Promise<T> {
  const r = await msec([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`msec ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const home = mkdtempSync(join(tmpdir(), 'msec-monitoring-alarms-'));
after(() => rmSync(home, { recursive: true, force: true }));
const SERVICE = 'Flight.mod_flight';
const PASSWORD = 'alarm-test-admin-pw';

interface Delivery { headers: IncomingHttpHeaders; body: string; answered: number }

test('msec metric add above a max rule: raised within the next minute, delivered once signed, resolved under the line', { timeout: 180_000 }, async () => {
  // A receiver that refuses its first delivery (the console must retry) and takes the rest.
  const deliveries: Delivery[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const answered = deliveries.length === 0 ? 503 : 200;
      deliveries.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/msec-alarms`;

  let now = Math.floor(Date.now() / 60_000) * 60_000 + 5_000; // 5 s into a minute
  process.env.MSEC_ADMIN_PASSWORD = PASSWORD;
  // The receiver listens on loopback: a private network, which an admin allows.
  process.env.MSEC_WEBHOOK_ALLOW = '127.0.0.0/8';
  const running = await up({
    home, port: 0, logger: pino({ level: 'silent' }), clock: () => now,
    monitoring: { pollMs: 50, retryDelaysMs: [300, 300, 300] },
  });
  const env = { MSEC_CONSOLE: running.url!, MSEC_USER: 'admin', MSEC_PASSWORD: PASSWORD, MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = async (args: string[]) => {
    const r = await msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const total = async () => (await msecJson<{ series: { values: (number | null)[] }[] }>(['metrics', SERVICE, '--name', '^usr\\.orders$'], env)).series[0]?.values.reduce<number>((a, v) => a + (v ?? 0), 0);
  const alarmEvents = async () => {
    const res = await fetch(`${running.url}/api/audit?stream=${encodeURIComponent(`alarms-${SERVICE}`)}`, { headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` } });
    return ((await res.json()) as { entries: { type: string; summary: string }[] }).entries.reverse();
  };
  try {
    await ok(['service', 'create', SERVICE]);
    await ok(['alarm', 'set', SERVICE, 'usr.orders', '--max', '5']);
    const refused = await msec(['alarm', 'webhook', SERVICE, `${running.url}/api/services`], env);
    assert.equal(refused.code, 1, 'a webhook that is the console itself is refused');
    assert.match(refused.stderr, /is this console/);
    const inside = await msec(['alarm', 'webhook', SERVICE, 'http://10.0.0.5:2113/admin/shutdown'], env);
    assert.equal(inside.code, 1, 'a webhook into a private network not allowed is refused');
    assert.match(inside.stderr, /private address.*MSEC_WEBHOOK_ALLOW/);
    const malformed = await msec(['alarm', 'webhook', SERVICE, 'gopher://alerts/x'], env);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /must be http:\/\/ or https:\/\//);
    assert.match(await ok(['alarm', 'webhook', SERVICE, hook]), /BEGIN PUBLIC KEY/);

    const minute = Math.floor(now / 60_000) * 60;
    await ok(['metric', 'add', SERVICE, 'orders', '10']);
    await eventually('the value is in the views', async () => (await total()) === 10, 30_000);
    now = (minute + 60) * 1000 + 29_000; // the minute has ended; the grace (30 s) has not
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await alarmEvents(), [], 'not judged before its grace');
    now = (minute + 60) * 1000 + 30_500; // within the next minute
    const [raised] = await eventually('AlarmRaised', async () => ((await alarmEvents()).length ? alarmEvents() : undefined), 30_000);
    assert.equal(raised!.type, 'AlarmRaised');
    assert.match(raised!.summary, /alarm max raised on Flight\.mod_flight: "usr\.orders" = 10 at .* \(≥ 5\)/);

    // Delivered once, after one refused attempt, signed with the key the console publishes.
    const accepted = await eventually('the raised alarm delivered', () => deliveries.filter((d) => d.answered === 200).length === 1 && deliveries, 30_000);
    assert.equal(accepted.length, 2, 'one refused attempt, one accepted');
    const key = await (await fetch(`${running.url}/api/alarms/signing-key`, { headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` } })).json() as { publicKey: string; keyId: string };
    const [first, second] = accepted;
    assert.equal(first!.headers['x-msec-delivery'], second!.headers['x-msec-delivery'], 'a retry carries the same delivery id');
    const check = (d: Delivery) => checkWebhookSignature({
      signature: String(d.headers['x-msec-signature']), timestamp: String(d.headers['x-msec-timestamp']), delivery: String(d.headers['x-msec-delivery']),
    }, d.body, key.publicKey, Number(d.headers['x-msec-timestamp']) * 1000);
    assert.equal(check(second!), 'valid');
    assert.equal(check({ ...second!, body: second!.body.replace('"value":10', '"value":1') }), 'bad-signature', 'a receiver notices a changed body');
    const payload = JSON.parse(second!.body) as Record<string, unknown>;
    assert.deepEqual({ type: payload.type, service: payload.service, name: payload.name, alarmType: payload.alarmType, value: payload.value, threshold: payload.threshold, minute: payload.minute },
      { type: 'AlarmRaised', service: SERVICE, name: 'usr.orders', alarmType: 'max', value: 10, threshold: 5, minute: new Date(minute * 1000).toISOString() });

    // Still above the line the next minute: no new alarm, no new delivery.
    now = (minute + 60) * 1000 + 40_000;
    await ok(['metric', 'add', SERVICE, 'orders', '7']);
    await eventually('the second value is in the views', async () => (await total()) === 17, 30_000);
    now = (minute + 120) * 1000 + 31_000;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await alarmEvents()).length, 1);

    // Back under the line: resolved, delivered.
    now = (minute + 120) * 1000 + 35_000;
    await ok(['metric', 'add', SERVICE, 'orders', '2']);
    await eventually('the third value is in the views', async () => (await total()) === 19, 30_000);
    now = (minute + 180) * 1000 + 31_000;
    const events = await eventually('AlarmResolved', async () => {
      const list = await alarmEvents();
      return list.length === 2 ? list : undefined;
    }, 30_000);
    assert.equal(events[1]!.type, 'AlarmResolved');
    assert.match(events[1]!.summary, /resolved .* = 2 .*back to normal/);
    await eventually('the resolution delivered', () => deliveries.filter((d) => d.answered === 200).length === 2, 30_000);
    const resolvedDelivery = deliveries[deliveries.length - 1]!;
    assert.equal(check(resolvedDelivery), 'valid');
    assert.equal(JSON.parse(resolvedDelivery.body).type, 'AlarmResolved');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(deliveries.filter((d) => d.answered === 200).length, 2, 'each alarm delivered once');

    // What a person and a release see.
    assert.match(await ok(['alarm', 'fired', SERVICE, '--since', new Date(minute * 1000).toISOString()]), /^yes: usr\.orders max at /);
    assert.match(await ok(['alarm', 'fired', SERVICE, '--since', new Date((minute + 120) * 1000).toISOString()]), /^no alarm of Flight\.mod_flight since/);
    const list = await msecJson<{ rows: { service: string; name: string; alarmType: string; count: number }[]; open: unknown[] }>(['alarm', 'list'], env);
    assert.deepEqual(list.rows.map((r) => [r.service, r.name, r.alarmType, r.count]), [[SERVICE, 'usr.orders', 'max', 1]]);
    assert.deepEqual(list.open, []);
    assert.match(await ok(['audit', '--type', 'AlarmRaised']), /alarm-evaluator/);
  } finally {
    await running.close();
    receiver.close();
  }
});
