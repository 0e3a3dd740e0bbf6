import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { done, problem, runCli, withConsole } from './helpers.ts';

/** The service-tree verbs against a fake console: the request each sends and what it prints. */

test('service create: standard defaults (typescript, 7963), odd sends kind odd only', async () => {
  await withConsole({ 'POST /api/services': { status: 201, body: { ok: true, stream: 'service-A.b', revision: 1, position: 5 } } }, async (c, env) => {
    const r = await runCli(['service', 'create', 'A.b', '--reason', 'new'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created service A.b (stream service-A.b, revision 1, position 5)\n');
    assert.deepEqual(c.requests[0]!.json, { name: 'A.b', kind: 'standard', lang: 'typescript', port: 7963, reason: 'new' });
    await runCli(['service', 'create', 'A.c', '--lang', 'c++', '--port', '8000'], { env });
    assert.deepEqual(c.requests[1]!.json, { name: 'A.c', kind: 'standard', lang: 'c++', port: 8000 });
    const odd = await runCli(['service', 'create', 'Ext.db', '--odd'], { env });
    assert.equal(odd.stdout, 'created odd service Ext.db (stream service-A.b, revision 1, position 5)\n');
    assert.deepEqual(c.requests[2]!.json, { name: 'Ext.db', kind: 'odd' });
    const json = await runCli(['service', 'create', 'A.d', '--json'], { env });
    assert.deepEqual(JSON.parse(json.stdout), { ok: true, stream: 'service-A.b', revision: 1, position: 5 });
  });
});

test('service list: one row per second level, first levels without children shown alone', async () => {
  const answer = {
    services: [
      { name: 'Flight', kind: 'standard', children: [
        { name: 'mod_flight', fullName: 'Flight.mod_flight', kind: 'standard', lang: 'c++', port: 7963, hosts: 3, enabledHosts: 2 },
        { name: 'mod_hotel', fullName: 'Flight.mod_hotel', kind: 'standard', lang: 'typescript', port: 7963, hosts: 0, enabledHosts: 0 },
      ] },
      { name: 'Empty', kind: 'odd', children: [] },
    ],
  };
  await withConsole({ 'GET /api/services': { body: answer } }, async (_c, env) => {
    const r = await runCli(['service', 'list'], { env });
    assert.equal(r.stdout, [
      'NAME               KIND      LANG        PORT  HOSTS  ENABLED',
      'Flight.mod_flight  standard  c++         7963      3        2',
      'Flight.mod_hotel   standard  typescript  7963      0        0',
      'Empty              odd       -              -      -        -',
      '',
    ].join('\n'));
  });
  await withConsole({ 'GET /api/services': { body: { services: [] } } }, async (_c, env) => {
    assert.match((await runCli(['service', 'list'], { env })).stdout, /^no services yet/);
  });
});

test('service show: fields, hosts, configs and IDLs; a first level shows its children', async () => {
  const detail = {
    name: 'A.b', kind: 'standard', lang: 'c++', port: 7963, revision: 9,
    hosts: [{ ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 100, enabled: true }, { ip: '10.0.0.2', port: 7963, protocol: 'udp', weight: 50, enabled: false }],
    configs: [{ tag: 'v1', memo: 'first', size: 120, addedAt: '2024-05-01T10:00:00.000Z', actor: 'admin' }],
    idls: [],
  };
  await withConsole({
    'GET /api/services/A.b': { body: detail },
    'GET /api/services/A': { body: { name: 'A', kind: 'standard', children: [{ name: 'b', fullName: 'A.b', kind: 'standard', lang: 'c++', port: 7963, hosts: 2, enabledHosts: 1 }] } },
  }, async (_c, env) => {
    const r = await runCli(['service', 'show', 'A.b'], { env });
    assert.equal(r.stdout, [
      'name:     A.b', 'kind:     standard', 'lang:     c++', 'port:     7963', 'revision: 9', '',
      'HOSTS', 'IP        PORT  PROTO  WEIGHT  STATUS', '10.0.0.1  7963  tcp       100  enabled', '10.0.0.2  7963  udp        50  disabled', '',
      'CONFIGS', 'TAG  SIZE  ADDED                 ACTOR  MEMO', 'v1    120  2024-05-01 10:00:00Z  admin  first', '',
      'IDLS', '(none)', '',
    ].join('\n'));
    const first = await runCli(['service', 'show', 'A'], { env });
    assert.match(first.stdout, /^name: A\nkind: standard\n\nSERVICES\nNAME +KIND/);
    assert.match(first.stdout, /A\.b +standard +c\+\+ +7963 +2 +1\n$/);
  });
});

test('service delete and a 404 from show', async () => {
  await withConsole({ 'DELETE /api/services/A.b': done(), 'GET /api/services/Nope.x': problem(404, 'no service Nope.x') }, async (c, env) => {
    const r = await runCli(['service', 'delete', 'A.b', '--reason', 'retired'], { env });
    assert.equal(r.code, 0);
    assert.equal(c.requests[0]!.method, 'DELETE');
    assert.deepEqual(c.requests[0]!.json, { reason: 'retired' });
    const missing = await runCli(['service', 'show', 'Nope.x'], { env });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'msec: no service Nope.x\n');
  });
});

test('host add (default protocol tcp), enable, disable, remove, weight', async () => {
  await withConsole({
    'POST /api/services/A.b/hosts': { status: 201, body: { ok: true } },
    'POST /api/services/A.b/hosts/10.0.0.1%3A7963/enable': done(),
    'POST /api/services/A.b/hosts/10.0.0.1%3A7963/disable': done(),
    'DELETE /api/services/A.b/hosts/10.0.0.1%3A7963': done(),
    'PUT /api/services/A.b/hosts/10.0.0.1%3A7963/weight': done(),
  }, async (c, env) => {
    const add = await runCli(['host', 'add', 'A.b', '10.0.0.1:7963'], { env });
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'added 10.0.0.1:7963 to A.b, disabled until `msec host enable`\n');
    assert.deepEqual(c.requests[0]!.json, { ip: '10.0.0.1', port: 7963, protocol: 'tcp' });
    await runCli(['host', 'add', 'A.b', '10.0.0.1:7963', '--proto', 'both', '--weight', '250'], { env });
    assert.deepEqual(c.requests[1]!.json, { ip: '10.0.0.1', port: 7963, protocol: 'both', weight: 250 });
    for (const verb of ['enable', 'disable', 'remove']) {
      const r = await runCli(['host', verb, 'A.b', '10.0.0.1:7963'], { env });
      assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
    }
    assert.deepEqual(c.requests.slice(2).map((q) => `${q.method} ${q.path}`), [
      'POST /api/services/A.b/hosts/10.0.0.1%3A7963/enable',
      'POST /api/services/A.b/hosts/10.0.0.1%3A7963/disable',
      'DELETE /api/services/A.b/hosts/10.0.0.1%3A7963',
    ]);
    const w = await runCli(['host', 'weight', 'A.b', '10.0.0.1:7963', '400'], { env });
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(c.requests.at(-1)!.json, { weight: 400 });
    const bad = await runCli(['host', 'enable', 'A.b', '10.0.0.1'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^msec: address must be IP:PORT, got '10.0.0.1'\nusage: msec host enable SERVICE IP:PORT/);
  });
});

test('config put from a file and from stdin, list, get (raw, exactly) and get --json; idl uses /idls', async () => {
  const text = '[LOG]\nLevel=DEBUG\n# 注释\n\n  trailing spaces  ';
  await withConsole({
    'PUT /api/services/A.b/configs/v1': { status: 201, body: { ok: true, stream: 'service-A.b', revision: 4, position: 11 } },
    'PUT /api/services/A.b/configs/v2': { status: 201, body: { ok: true } },
    'PUT /api/services/A.b/idls/v1': problem(400, 'line 1: syntax error in .proto'),
    'GET /api/services/A.b/configs': { body: { versions: [{ tag: 'v1', memo: 'first', size: 42, addedAt: '2024-05-01T10:00:00Z', actor: 'admin' }] } },
    'GET /api/services/A.b/configs/v1/raw': { headers: { 'content-disposition': 'attachment; filename="A.b.v1.ini"' }, body: text },
    'GET /api/services/A.b/configs/v1': { body: { tag: 'v1', memo: 'first', text, size: 42, addedAt: '2024-05-01T10:00:00Z', actor: 'admin' } },
    'GET /api/services/A.b/idls': { body: { versions: [] } },
  }, async (c, env, dir) => {
    const file = join(dir, 'config.ini');
    await writeFile(file, text);
    const put = await runCli(['config', 'put', 'A.b', 'v1', file, '--memo', 'first', '--reason', 'launch'], { env });
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, 'stored config version v1 of A.b (stream service-A.b, revision 4, position 11)\n');
    assert.deepEqual(c.requests[0]!.json, { text, memo: 'first', reason: 'launch' });

    const fromStdin = await runCli(['config', 'put', 'A.b', 'v2', '-'], { env, stdin: 'from\nstdin\n' });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.deepEqual(c.requests[1]!.json, { text: 'from\nstdin\n' });

    const missing = await runCli(['config', 'put', 'A.b', 'v3', join(dir, 'nope.ini')], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^msec: cannot read .*nope\.ini: no such file\n$/);

    const list = await runCli(['config', 'list', 'A.b'], { env });
    assert.equal(list.stdout, 'TAG  SIZE  ADDED                 ACTOR  MEMO\nv1     42  2024-05-01 10:00:00Z  admin  first\n');

    const raw = await runCli(['config', 'get', 'A.b', 'v1'], { env });
    assert.equal(raw.code, 0);
    assert.equal(raw.stdout, text, 'byte for byte, no added newline');

    const json = await runCli(['config', 'get', 'A.b', 'v1', '--json'], { env });
    assert.equal(JSON.parse(json.stdout).text, text);

    const idl = await runCli(['idl', 'put', 'A.b', 'v1', '-'], { env, stdin: 'syntax = "proto3"' });
    assert.equal(idl.code, 1);
    assert.equal(idl.stderr, 'msec: line 1: syntax error in .proto\n');
    assert.equal((await runCli(['idl', 'list', 'A.b'], { env })).stdout, '(none)\n');
  });
});

test('route: table of enabled instances and the version', async () => {
  const route = { service: 'A.b', version: 7, instances: [{ ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 100 }, { ip: '10.0.0.12', port: 80, protocol: 'both', weight: 1000 }] };
  await withConsole({ 'GET /api/routes/A.b': { headers: { etag: '"7"' }, body: route } }, async (_c, env) => {
    const r = await runCli(['route', 'A.b'], { env });
    assert.equal(r.stdout, 'IP         PORT  PROTO  WEIGHT\n10.0.0.1   7963  tcp       100\n10.0.0.12    80  both     1000\nversion: 7\n');
    assert.deepEqual(JSON.parse((await runCli(['route', 'A.b', '--json'], { env })).stdout), route);
  });
});

test('route --watch: long-polls with If-None-Match, skips 304s and unchanged answers, reprints on change, stops cleanly', async () => {
  const v = (version: number, n: number) => ({ service: 'A.b', version, instances: Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}`, port: 7963, protocol: 'tcp', weight: 100 })) });
  const stop = new AbortController();
  await withConsole({
    'GET /api/routes/A.b': (req, n) => {
      if (n === 1) return { headers: { etag: '"1"' }, body: v(1, 1) };
      if (n === 2) return { status: 304 };
      if (n === 3) return { headers: { etag: '"1"' }, body: v(1, 1) }; // 200 but unchanged: not reprinted
      if (n === 4) return { headers: { etag: '"2"' }, body: v(2, 2) };
      stop.abort(); // the user presses Ctrl-C while the next poll waits
      return new Promise((r) => setTimeout(() => r({ status: 304 }), 200));
    },
  }, async (c, env) => {
    const r = await runCli(['route', 'A.b', '--watch'], { env, stop: stop.signal });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'IP        PORT  PROTO  WEIGHT\n10.0.0.1  7963  tcp       100\nversion: 1\n\nIP        PORT  PROTO  WEIGHT\n10.0.0.1  7963  tcp       100\n10.0.0.2  7963  tcp       100\nversion: 2\n');
    const polls = c.requests.slice(1);
    assert.deepEqual(polls.map((q) => q.headers['if-none-match']), ['"1"', '"1"', '"1"', '"2"']);
    assert.ok(polls.every((q) => q.query.get('wait') === '30'));
    assert.equal(c.requests[0]!.headers['if-none-match'], undefined);
  });
});

test('route --at and service show --at: ask the console for the past, say which point the answer is from', async () => {
  const at = { position: 42, time: '2024-05-01T10:00:00.000Z' };
  const route = { service: 'A.b', version: 7, instances: [{ ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 100 }], at };
  const service = { name: 'A.b', kind: 'standard', lang: 'go', port: 7963, revision: 3, hosts: [{ ip: '10.0.0.1', port: 7963, protocol: 'tcp', weight: 100, enabled: true }], configs: [], idls: [], at };
  await withConsole({
    'GET /api/routes/A.b': (req) => (req.query.get('at') === 'soon' ? problem(400, 'at="soon" is neither a position nor a time: give a position of the log (e.g. 1200)') : { body: route }),
    'GET /api/services/A.b': { body: service },
  }, async (c, env) => {
    const r = await runCli(['route', 'A.b', '--at', '2024-05-01T10:00:00Z'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(c.requests[0]!.query.get('at'), '2024-05-01T10:00:00Z');
    assert.equal(r.stdout, 'IP        PORT  PROTO  WEIGHT\n10.0.0.1  7963  tcp       100\nversion: 7\nas of position 42 (2024-05-01T10:00:00.000Z)\n');
    const s = await runCli(['service', 'show', 'A.b', '--at', '42'], { env });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(c.requests[1]!.query.get('at'), '42');
    assert.match(s.stdout, /HOSTS\n.*\n10\.0\.0\.1 +7963 +tcp +100 +enabled\n/);
    assert.match(s.stdout, /\nas of position 42 \(2024-05-01T10:00:00\.000Z\)\n$/);
    const bad = await runCli(['route', 'A.b', '--at', 'soon'], { env });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'msec: at="soon" is neither a position nor a time: give a position of the log (e.g. 1200)\n');
    const both = await runCli(['route', 'A.b', '--at', '42', '--watch'], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^msec: --at and --watch do not go together/);
    assert.equal(c.requests.length, 3, 'the usage error sent nothing');
  });
});
