import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeToken } from '../../../apps/cli/credentials.ts';
import { ConsoleClient, authHeader, problemFrom } from '../../../apps/cli/client.ts';
import { ProblemError, UnreachableError } from '../../../apps/cli/errors.ts';
import { done, problem, runCli, startFakeConsole, tempDir, type FakeConsole } from './helpers.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const services = { services: [{ name: 'A', kind: 'standard', children: [] }] };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

async function withConsole(routes: Parameters<typeof startFakeConsole>[0], body: (c: FakeConsole, configDir: string) => Promise<void>) {
  const c = await startFakeConsole(routes);
  const t = await tempDir();
  try {
    await body(c, t.dir);
  } finally {
    await c.close();
    await t.remove();
  }
}

test('credentials: --token, then --user/--password, then MSEC_TOKEN, then MSEC_USER+MSEC_PASSWORD, then the login file', async () => {
  await withConsole({ 'GET /api/services': { body: services } }, async (c, dir) => {
    await storeToken({ MSEC_CONFIG_DIR: dir }, c.url, { token: 'from-file', tokenId: 'id1', user: 'admin', createdAt: '' });
    const env = { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir };
    const cases: [string[], Record<string, string>, string][] = [
      [['--token', 'flag-token', '--user', 'u', '--password', 'p'], { MSEC_TOKEN: 'env-token' }, 'Bearer flag-token'],
      [['--user', 'u', '--password', 'p'], { MSEC_TOKEN: 'env-token' }, basic('u', 'p')],
      [['--user', 'u'], { MSEC_TOKEN: 'env-token', MSEC_PASSWORD: 'envpw' }, basic('u', 'envpw')],
      [[], { MSEC_TOKEN: 'env-token', MSEC_USER: 'eu', MSEC_PASSWORD: 'ep' }, 'Bearer env-token'],
      [[], { MSEC_USER: 'eu', MSEC_PASSWORD: 'ep:with:colons' }, basic('eu', 'ep:with:colons')],
      [[], {}, 'Bearer from-file'],
    ];
    for (const [flags, extraEnv, expected] of cases) {
      const r = await runCli(['service', 'list', ...flags], { env: { ...env, ...extraEnv } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(c.requests.at(-1)!.headers.authorization, expected, `${flags.join(' ')} ${JSON.stringify(extraEnv)}`);
    }
  });
});

test('no credentials at all: exit 3, one line telling how to log in, no request sent', async () => {
  await withConsole({}, async (c, dir) => {
    const r = await runCli(['service', 'list'], { env: { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir } });
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `msec: not logged in to ${c.url}: set MSEC_TOKEN, or MSEC_USER and MSEC_PASSWORD, or run \`msec login\`\n`);
    assert.equal(c.requests.length, 0);
    // A user without any password, and no terminal to ask on: same answer.
    const u = await runCli(['service', 'list', '--user', 'bob'], { env: { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir } });
    assert.equal(u.code, 3);
  });
});

test('the stored token is looked up by the --console URL, trailing slash or not', async () => {
  await withConsole({ 'GET /api/services': { body: services } }, async (c, dir) => {
    await storeToken({ MSEC_CONFIG_DIR: dir }, c.url, { token: 'tok', tokenId: 'id', user: 'admin', createdAt: '' });
    const r = await runCli(['service', 'list', '--console', `${c.url}/`], { env: { MSEC_CONFIG_DIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(c.requests[0]!.headers.authorization, 'Bearer tok');
  });
});

test('a problem+json answer becomes one stderr line with its detail, exit 1', async () => {
  await withConsole({
    'DELETE /api/services/A.b': problem(409, 'delete refused while hosts remain: remove 10.0.0.1:7963 first'),
    'POST /api/services': problem(400, 'bad name "a b"\nuse letters, digits and _'),
  }, async (c, dir) => {
    const env = { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir, MSEC_TOKEN: 't' };
    const r = await runCli(['service', 'delete', 'A.b'], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'msec: delete refused while hosts remain: remove 10.0.0.1:7963 first\n');
    const multi = await runCli(['service', 'create', 'a b'], { env });
    assert.equal(multi.code, 1);
    assert.equal(multi.stderr, 'msec: bad name "a b" use letters, digits and _\n');
  });
});

test('a 401 is exit 3 with the login hint; a non-JSON error names the status', async () => {
  await withConsole({
    'GET /api/services': problem(401, 'token revoked', 'Unauthorized'),
    'GET /api/users': { status: 502, body: '<html>Bad Gateway</html>' },
    'GET /api/audit': { status: 500, headers: { 'content-type': 'application/problem+json' }, body: { title: 'Internal Server Error', status: 500 } },
  }, async (c, dir) => {
    const env = { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir, MSEC_TOKEN: 't' };
    const r = await runCli(['service', 'list'], { env });
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'msec: token revoked (set MSEC_TOKEN, or MSEC_USER and MSEC_PASSWORD, or run `msec login`)\n');
    const gw = await runCli(['user', 'list'], { env });
    assert.equal(gw.code, 1);
    assert.equal(gw.stderr, 'msec: the console answered 502 Bad Gateway\n');
    const titled = await runCli(['audit'], { env });
    assert.equal(titled.stderr, 'msec: Internal Server Error\n');
  });
});

test('an unreachable console: exit 3 and one line saying where we looked', async () => {
  const c = await startFakeConsole({});
  const url = c.url;
  await c.close(); // nothing listens there any more
  const r = await runCli(['service', 'list'], { env: { MSEC_CONSOLE: url, MSEC_TOKEN: 't', MSEC_CONFIG_DIR: '/nonexistent' } });
  assert.equal(r.code, 3);
  assert.equal(r.stderr, `msec: cannot reach the console at ${url} (ECONNREFUSED): is \`msec up\` running? set MSEC_CONSOLE or pass --console\n`);
  assert.equal(r.stderr.split('\n').length, 2);
});

test('a console URL that is not http(s) is a usage error', async () => {
  const r = await runCli(['service', 'list', '--console', 'ftp://x'], { env: { MSEC_TOKEN: 't' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^msec: --console \/ MSEC_CONSOLE must be an http\(s\) URL: 'ftp:\/\/x'\n/);
});

test('--json prints the answer of the console as JSON', async () => {
  const answer = { services: [{ name: 'A', kind: 'standard', children: [{ name: 'b', fullName: 'A.b', kind: 'standard', lang: 'c++', port: 7963, hosts: 2, enabledHosts: 1 }] }] };
  await withConsole({ 'GET /api/services': { body: answer } }, async (c, dir) => {
    const r = await runCli(['service', 'list', '--json'], { env: { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir, MSEC_TOKEN: 't' } });
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), answer);
  });
});

test('a mutation carries a fresh Idempotency-Key and the reason; a query carries neither', async () => {
  await withConsole({ 'POST /api/services/A.b/hosts/10.0.0.1%3A7963/enable': done(), 'GET /api/services': { body: services } }, async (c, dir) => {
    const env = { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir, MSEC_TOKEN: 't' };
    assert.equal((await runCli(['host', 'enable', 'A.b', '10.0.0.1:7963', '--reason', '扩容 for launch'], { env })).code, 0);
    assert.equal((await runCli(['host', 'enable', 'A.b', '10.0.0.1:7963'], { env })).code, 0);
    assert.equal((await runCli(['service', 'list'], { env })).code, 0);
    const [first, second, query] = c.requests;
    assert.match(String(first!.headers['idempotency-key']), uuid);
    assert.match(String(second!.headers['idempotency-key']), uuid);
    assert.notEqual(first!.headers['idempotency-key'], second!.headers['idempotency-key']);
    assert.deepEqual(first!.json, { reason: '扩容 for launch' });
    assert.equal(first!.headers['content-type'], 'application/json');
    assert.equal(second!.body, '', 'no reason, no body');
    assert.equal(second!.headers['content-type'], undefined);
    assert.equal(query!.headers['idempotency-key'], undefined);
  });
});

test('a reset connection is retried with the same Idempotency-Key', async () => {
  await withConsole({
    'POST /api/services': (_req, n) => (n < 3 ? 'reset' : { status: 201, body: { ok: true, stream: 'service-A.b', revision: 1, position: 7 } }),
  }, async (c, dir) => {
    const r = await runCli(['service', 'create', 'A.b'], { env: { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: dir, MSEC_TOKEN: 't' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(c.requests.length, 3);
    const keys = new Set(c.requests.map((q) => q.headers['idempotency-key']));
    assert.equal(keys.size, 1);
    assert.match(String([...keys][0]), uuid);
    assert.equal(r.stdout, 'created service A.b (stream service-A.b, revision 1, position 7)\n');
  });
});

test('retries end: a connection reset every time is "cannot reach", exit 3', async () => {
  await withConsole({ 'GET /api/services': 'reset' }, async (c) => {
    const client = new ConsoleClient(c.url, { auth: { kind: 'none' }, retryDelaysMs: [1, 1] });
    await assert.rejects(client.get('/api/services'), (e: unknown) => e instanceof UnreachableError && e.exitCode === 3);
    assert.equal(c.requests.length, 3);
  });
});

test('a console that does not answer in time is unreachable, not hung', async () => {
  await withConsole({ 'GET /api/services': () => new Promise((r) => setTimeout(() => r({ body: services }), 500)) }, async (c) => {
    const client = new ConsoleClient(c.url, { auth: { kind: 'none' }, timeoutMs: 50 });
    await assert.rejects(client.get('/api/services'), /no answer within 0 s/);
  });
});

test('authHeader and problemFrom', () => {
  assert.equal(authHeader({ kind: 'bearer', token: 'abc' }), 'Bearer abc');
  assert.equal(authHeader({ kind: 'basic', user: 'admin', password: 'pä' }), `Basic ${Buffer.from('admin:pä', 'utf8').toString('base64')}`);
  assert.equal(authHeader({ kind: 'none' }), undefined);
  const p = problemFrom({ status: 409, headers: new Headers({ 'content-type': 'application/problem+json' }) },
    JSON.stringify({ type: 'https://msec.dev/problems/conflict', title: 'Conflict', status: 409, detail: 'tag v1 exists' }));
  assert.ok(p instanceof ProblemError);
  assert.equal(p.message, 'tag v1 exists');
  assert.equal(p.type, 'https://msec.dev/problems/conflict');
  assert.equal(p.exitCode, 1);
});
