import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { UpOptions } from '../../../apps/cli/context.ts';
import { done, problem, runCli, startFakeConsole, tempDir, withConsole } from './helpers.ts';

/** Operations, users, login and `up` against a fake console: requests sent, output printed. */

test('audit: filters become query parameters; table newest first as given', async () => {
  const entries = [
    { position: 12, time: '2024-05-01T10:00:02.000Z', actor: 'admin', reason: 'launch', stream: 'service-A.b', type: 'HostEnabled', summary: 'enabled 10.0.0.1:7963', revision: 4 },
    { position: 11, time: '2024-05-01T10:00:01.000Z', actor: 'bob', reason: '', stream: 'service-A.b', type: 'HostAdded', summary: 'added 10.0.0.1:7963', revision: 3 },
  ];
  await withConsole({ 'GET /api/audit': { body: { entries } } }, async (c, env) => {
    const r = await runCli(['audit', '--stream', 'service-A.b', '--actor', 'admin', '--type', 'HostEnabled', '--since', '2024-05-01T00:00:00Z', '--limit', '2'], { env });
    assert.equal(r.code, 0, r.stderr);
    const q = c.requests[0]!.query;
    assert.deepEqual(Object.fromEntries(q), { stream: 'service-A.b', actor: 'admin', type: 'HostEnabled', since: '2024-05-01T00:00:00Z', limit: '2' });
    assert.equal(r.stdout, [
      'TIME                  ACTOR  STREAM       TYPE         SUMMARY                REASON',
      '2024-05-01 10:00:02Z  admin  service-A.b  HostEnabled  enabled 10.0.0.1:7963  launch',
      '2024-05-01 10:00:01Z  bob    service-A.b  HostAdded    added 10.0.0.1:7963    -',
      '',
    ].join('\n'));
    assert.equal((await runCli(['audit', '--limit', 'ten'], { env })).code, 2);
  });
});

const ev = (position: number) => ({
  position, id: `e${position}`, type: 'HostAdded', stream: 'service-A.b', revision: position, occurredAt: `2024-05-01T10:00:0${position % 10}.000Z`, actor: 'admin', reason: '', data: {},
});

test('events tail: pages from --after up to the head, one line per event', async () => {
  await withConsole({
    'GET /api/events': (req) => {
      const after = Number(req.query.get('after'));
      const events = after === 5 ? [ev(6), ev(7)] : after === 7 ? [ev(8)] : [];
      return { body: { events, head: 8 } };
    },
  }, async (c, env) => {
    const r = await runCli(['events', 'tail', '--after', '5'], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^ {6}6 {2}2024-05-01 10:00:06Z {2}service-A\.b +HostAdded +admin$/);
    assert.deepEqual(c.requests.map((q) => q.query.get('after')), ['5', '7']);
    assert.ok(c.requests.every((q) => !q.query.has('wait')));
    const json = await runCli(['events', 'tail', '--after', '5', '--json'], { env });
    assert.deepEqual(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).position), [6, 7, 8]);
  });
});

test('events tail --follow: long-polls with wait once caught up, until stopped', async () => {
  const stop = new AbortController();
  await withConsole({
    'GET /api/events': (req, n) => {
      if (n === 1) return { body: { events: [ev(1)], head: 1 } };
      if (n === 2) return { body: { events: [], head: 1 } };
      if (n === 3) return { body: { events: [ev(2)], head: 2 } };
      stop.abort();
      return new Promise((r) => setTimeout(() => r({ body: { events: [], head: 2 } }), 200));
    },
  }, async (c, env) => {
    const r = await runCli(['events', 'tail', '-f'], { env, stop: stop.signal });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').length, 2);
    assert.deepEqual(c.requests.map((q) => [q.query.get('after'), q.query.get('wait')]), [['0', null], ['1', '30'], ['1', '30'], ['2', '30']]);
  });
});

test('replay: identical is exit 0, different is exit 1', async () => {
  await withConsole({
    'POST /api/projections/routing/replay': { body: { projection: 'routing', events: 120, identical: true, before: 'abc', after: 'abc' } },
    'POST /api/projections/audit/replay': { body: { projection: 'audit', events: 120, identical: false, before: 'abc', after: 'def' } },
  }, async (c, env) => {
    const ok = await runCli(['replay', 'routing', '--reason', 'check'], { env });
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'replayed 120 events into routing: identical (digest abc)\n');
    assert.deepEqual(c.requests[0]!.json, { reason: 'check' });
    const diff = await runCli(['replay', 'audit'], { env });
    assert.equal(diff.code, 1);
    assert.equal(diff.stdout, 'replayed 120 events into audit: NOT identical (live abc, replayed def)\n');
    const json = await runCli(['replay', 'audit', '--json'], { env });
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).identical, false);
  });
});

test('status: health, head and each projection', async () => {
  await withConsole({
    'GET /healthz': { body: { ok: true } },
    'GET /api/projections': { body: { projections: [{ name: 'routing', version: 1, checkpoint: 40, head: 42 }, { name: 'audit', version: 2, checkpoint: 42, head: 42 }] } },
  }, async (c, env) => {
    const r = await runCli(['status'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      `console: ${c.url} (ok)`, 'head:    42', '',
      'PROJECTION  VERSION  CHECKPOINT  HEAD  BEHIND', 'routing           1          40    42       2', 'audit             2          42    42       0', '',
    ].join('\n'));
    const json = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    assert.deepEqual(json.healthz, { ok: true });
    assert.equal(json.projections.length, 2);
  });
});

test('user add (flag or stdin), list, remove', async () => {
  await withConsole({
    'POST /api/users': { status: 201, body: { ok: true } },
    'GET /api/users': { body: { users: [
      { name: 'admin', createdAt: '2024-05-01T10:00:00Z', roles: [{ role: 'admin', service: '' }], tokens: [{ tokenId: 't1', label: 'msec cli on box' }, { tokenId: 't2', label: 'flight', scope: 'routes' }] },
      { name: 'bob', createdAt: '2024-05-02T10:00:00Z', roles: [{ role: 'operator', service: 'Flight' }, { role: 'viewer', service: '' }], tokens: [] },
    ] } },
    'DELETE /api/users/bob': done(),
  }, async (c, env) => {
    const a = await runCli(['user', 'add', 'bob', '--password', 's3cret'], { env });
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(c.requests[0]!.json, { name: 'bob', password: 's3cret', role: 'viewer' });
    assert.equal(c.requests[0]!.headers.authorization, 'Bearer tok', '--password is the payload, not a credential');
    const piped = await runCli(['user', 'add', 'carol'], { env, stdin: 'pw from pipe\n' });
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(c.requests[1]!.json, { name: 'carol', password: 'pw from pipe', role: 'viewer' });
    const scoped = await runCli(['user', 'add', 'erin', '--password', 'pw-erin-1', '--role', 'operator', '--service', 'Flight'], { env });
    assert.equal(scoped.code, 0, scoped.stderr);
    assert.match(scoped.stdout, /added user erin \(operator of Flight\)/);
    assert.deepEqual(c.requests[2]!.json, { name: 'erin', password: 'pw-erin-1', role: 'operator', service: 'Flight' });
    const badRole = await runCli(['user', 'add', 'zed', '--password', 'pw-zed-12', '--role', 'root'], { env });
    assert.equal(badRole.code, 2);
    assert.match(badRole.stderr, /unknown role "root"/);
    const none = await runCli(['user', 'add', 'dave'], { env, stdin: '' });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^msec: no password given/);
    const list = await runCli(['user', 'list'], { env });
    assert.equal(list.stdout, 'NAME   ROLES                       CREATED               TOKENS\n'
      + 'admin  admin                       2024-05-01 10:00:00Z  msec cli on box, flight (routes)\n'
      + 'bob    operator of Flight, viewer  2024-05-02 10:00:00Z  -\n');
    assert.equal((await runCli(['user', 'remove', 'bob'], { env })).code, 0);
  });
});

test('user grant / revoke: roles with an optional first-level scope; token create --routes prints the token once', async () => {
  await withConsole({
    'POST /api/users/bob/roles': done(),
    'DELETE /api/users/bob/roles': done(),
    'POST /api/tokens': { status: 201, body: { ok: true, token: 'msec_secret', tokenId: 'tid-1', scope: 'routes' } },
    'DELETE /api/tokens/tid-1': done(),
  }, async (c, env) => {
    const grant = await runCli(['user', 'grant', 'bob', 'operator', '--service', 'Flight', '--reason', 'on call'], { env });
    assert.equal(grant.code, 0, grant.stderr);
    assert.match(grant.stdout, /granted operator of Flight to bob/);
    assert.deepEqual(c.requests[0]!.json, { role: 'operator', service: 'Flight', reason: 'on call' });
    const revoke = await runCli(['user', 'revoke', 'bob', 'admin'], { env });
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal(c.requests[1]!.method, 'DELETE');
    assert.deepEqual(c.requests[1]!.json, { role: 'admin' });
    assert.equal((await runCli(['user', 'grant', 'bob', 'god'], { env })).code, 2);
    const token = await runCli(['token', 'create', '--routes', '--label', 'flight'], { env });
    assert.equal(token.code, 0, token.stderr);
    assert.equal(token.stdout, 'msec_secret\n');
    assert.match(token.stderr, /route-read token tid-1/);
    assert.deepEqual(c.requests[2]!.json, { scope: 'routes', label: 'flight' });
    assert.equal((await runCli(['token', 'revoke', 'tid-1'], { env })).code, 0);
  });
});

test('user passwd: your own sends the current password; another user\'s does not', async () => {
  await withConsole({
    'PUT /api/users/admin/password': done(),
    'PUT /api/users/bob/password': done(),
    'GET /api/session': { body: { user: 'admin', csrfToken: 'x' } },
  }, async (c, env) => {
    const basicEnv = { MSEC_CONSOLE: env.MSEC_CONSOLE!, MSEC_CONFIG_DIR: env.MSEC_CONFIG_DIR!, MSEC_USER: 'admin', MSEC_PASSWORD: 'old' };
    const self = await runCli(['user', 'passwd', '--password', 'new'], { env: basicEnv });
    assert.equal(self.code, 0, self.stderr);
    assert.equal(c.requests[0]!.path, '/api/users/admin/password');
    assert.deepEqual(c.requests[0]!.json, { password: 'new', oldPassword: 'old' });

    const other = await runCli(['user', 'passwd', 'bob', '--password', 'bobpw'], { env: basicEnv });
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual(c.requests[1]!.json, { password: 'bobpw' });

    // With a bare token we ask the console who we are, and read both passwords from stdin.
    const tokenOnly = await runCli(['user', 'passwd'], { env, stdin: 'old2\nnew2\n' });
    assert.equal(tokenOnly.code, 0, tokenOnly.stderr);
    assert.deepEqual(c.requests.slice(2).map((q) => `${q.method} ${q.path}`), ['GET /api/session', 'PUT /api/users/admin/password']);
    assert.deepEqual(c.requests[3]!.json, { password: 'new2', oldPassword: 'old2' });
  });
});

test('login stores a token (mode 0600) used by later verbs; logout revokes and forgets it', async () => {
  await withConsole({
    'POST /api/tokens': (req) => (req.headers.authorization === `Basic ${Buffer.from('admin:pw').toString('base64')}`
      ? { status: 201, body: { tokenId: 'tid-1', token: 'secret-token' } }
      : problem(401, 'wrong user or password')),
    'GET /api/services': { body: { services: [] } },
    'DELETE /api/tokens/tid-1': { body: { ok: true } },
  }, async (c, env) => {
    const noTokenEnv = { MSEC_CONSOLE: env.MSEC_CONSOLE!, MSEC_CONFIG_DIR: env.MSEC_CONFIG_DIR! };
    const wrong = await runCli(['login', '--password', 'nope'], { env: noTokenEnv });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, 'msec: login refused: wrong user or password\n');

    const r = await runCli(['login'], { env: noTokenEnv, stdin: 'pw\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^logged in to ${c.url} as admin \\(token stored in .*credentials\\.json\\)\\n$`));
    const tokenReq = c.requests.filter((q) => q.path === '/api/tokens').at(-1)!;
    assert.match(String(tokenReq.json?.label), /^msec cli on /);

    const { stat, readFile } = await import('node:fs/promises');
    const file = join(env.MSEC_CONFIG_DIR!, 'credentials.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(stored.consoles[c.url].token, 'secret-token');
    assert.equal(stored.consoles[c.url].tokenId, 'tid-1');

    const list = await runCli(['service', 'list'], { env: noTokenEnv });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(c.requests.at(-1)!.headers.authorization, 'Bearer secret-token');

    const out = await runCli(['logout'], { env: noTokenEnv });
    assert.equal(out.code, 0, out.stderr);
    const del = c.requests.at(-1)!;
    assert.equal(`${del.method} ${del.path}`, 'DELETE /api/tokens/tid-1');
    assert.equal(del.headers.authorization, 'Bearer secret-token');
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')).consoles, {});
    assert.equal((await runCli(['service', 'list'], { env: noTokenEnv })).code, 3);
    assert.match((await runCli(['logout'], { env: noTokenEnv })).stdout, /^not logged in to/);
  });
});

test('logout keeps the token when the console cannot be reached', async () => {
  const t = await tempDir();
  try {
    const c = await startFakeConsole({});
    const url = c.url;
    await c.close();
    const env = { MSEC_CONSOLE: url, MSEC_CONFIG_DIR: t.dir };
    const { storeToken, findToken } = await import('../../../apps/cli/credentials.ts');
    await storeToken(env, url, { token: 'x', tokenId: 'y', user: 'admin', createdAt: '' });
    const r = await runCli(['logout'], { env });
    assert.equal(r.code, 3);
    assert.equal((await findToken(env, url))?.token, 'x');
  } finally {
    await t.remove();
  }
});

test('up: passes home/port/host, prints the URL and the one-time admin password, closes on stop', async () => {
  const stop = new AbortController();
  const calls: UpOptions[] = [];
  let closed = false;
  const loadUp = async () => async (o: UpOptions) => {
    calls.push(o);
    setTimeout(() => stop.abort(), 10);
    return { url: `http://${o.host}:${o.port}`, adminPassword: 'Xy7-once', close: async () => { closed = true; } };
  };
  const r = await runCli(['up', '--home', '/tmp/msec-home', '--host', '0.0.0.0'], { env: { MSEC_PORT: '9090' }, loadUp, stop: stop.signal });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...calls], [{ home: '/tmp/msec-home', port: 9090, host: '0.0.0.0', roles: { console: true, projector: true }, urls: { eventstore: 'embedded', bus: 'embedded', views: 'embedded', registry: 'embedded' } }]);
  assert.ok(closed);
  assert.equal(r.stdout, 'msec console: http://0.0.0.0:9090\nadmin password (shown once): Xy7-once\nlog in as user admin with it: msec login --console http://0.0.0.0:9090 --user admin\n');

  const again = new AbortController();
  const second = await runCli(['up', '--port', '8181'], {
    env: { MSEC_HOME: '/tmp/h2', MSEC_PORT: '9090' },
    stop: again.signal,
    loadUp: async () => async (o) => {
      calls.push(o);
      again.abort();
      return { url: 'http://127.0.0.1:8181', close: async () => {} };
    },
  });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(calls[1], { home: '/tmp/h2', port: 8181, host: '127.0.0.1', roles: { console: true, projector: true }, urls: { eventstore: 'embedded', bus: 'embedded', views: 'embedded', registry: 'embedded' } });
  assert.equal(second.stdout, 'msec console: http://127.0.0.1:8181\n');

  const bad = await runCli(['up'], { env: { MSEC_PORT: 'eighty' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^msec: MSEC_PORT must be an integer, got 'eighty'\n/);
});

test('console and projector: run one role each, on the URLs of flags over MSEC_* variables; a bad URL is refused before starting', async () => {
  const calls: UpOptions[] = [];
  const runRole = async (argv: string[], env: Record<string, string>) => {
    const stop = new AbortController();
    return runCli(argv, {
      env, stop: stop.signal,
      loadUp: async () => async (o) => {
        calls.push(o);
        stop.abort();
        return o.roles?.console ? { url: 'http://127.0.0.1:8080', close: async () => {} } : { close: async () => {} };
      },
    });
  };
  const consoleRun = await runRole(['console', '--home', '/tmp/c', '--bus', 'kafka://k1:9092,k2:9092'], { MSEC_BUS: 'kafka://ignored:9092', MSEC_VIEWS: 'http://ch:8123' });
  assert.equal(consoleRun.code, 0, consoleRun.stderr);
  assert.deepEqual(calls[0]!.roles, { console: true, projector: false });
  assert.deepEqual(calls[0]!.urls, { eventstore: 'embedded', bus: 'kafka://k1:9092,k2:9092', views: 'http://ch:8123', registry: 'embedded' });
  assert.equal(consoleRun.stdout, 'msec console: http://127.0.0.1:8080\n');

  const projectorRun = await runRole(['projector', '--home', '/tmp/p'], { MSEC_REGISTRY: 'zk://z:2181' });
  assert.equal(projectorRun.code, 0, projectorRun.stderr);
  assert.deepEqual(calls[1]!.roles, { console: false, projector: true });
  assert.equal(calls[1]!.urls!.registry, 'zk://z:2181');
  assert.equal(projectorRun.stdout, 'msec projector: running (home /tmp/p)\n');

  const bad = await runRole(['projector', '--bus', 'amqp://x'], {});
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^msec: MSEC_BUS="amqp:\/\/x" has scheme amqp: use embedded or kafka:\/\/host:9092\n$/);
  assert.equal(calls.length, 2, 'nothing started on a bad URL');
});
