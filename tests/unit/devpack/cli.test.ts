import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { problem, runCli, withConsole } from '../cli/helpers.ts';
import { callerStubs, devPackage, msecRoot, tsxVersion } from '../../../apps/devpack/index.ts';
import { flightProto, readTree } from './support.ts';

/** `msec dev-package` and `msec stubs` against a fake console: what they ask and what they write. */

const idlRoute = { 'GET /api/services/Flight.mod_flight/idls/v1': { body: { tag: 'v1', memo: 'seed', text: flightProto } } };

test('dev-package: fetches the IDL version and writes the project into a new folder', async () => {
  await withConsole(idlRoute, async (c, env, dir) => {
    const out = join(dir, 'flight');
    const r = await runCli(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', out], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(c.requests[0]!.path, '/api/services/Flight.mod_flight/idls/v1');
    assert.equal(c.requests[0]!.headers.authorization, 'Bearer tok');
    const expected = devPackage({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto, msecRoot, tsxVersion });
    assert.deepEqual(readTree(out), new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
    assert.match(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')).dependencies.msec as string, /^file:\//);
    assert.equal(r.stdout, [
      `wrote the dev package of Flight.mod_flight (IDL v1) to ${out}: ${expected.size} files`,
      'your code goes in src/flight_service_impl.ts',
      `next: cd ${out} && npm install && npm start`, '',
    ].join('\n'));
  });
});

test('dev-package: an empty existing folder is fine; a non-empty one is refused before asking the console', async () => {
  await withConsole(idlRoute, async (c, env, dir) => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.equal((await runCli(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', empty], { env })).code, 0);
    const asked = c.requests.length;
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'mine.ts'), 'my code');
    const r = await runCli(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', busy], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `msec: ${busy} is not empty (1 entries): choose a new or empty folder with --out; msec never overwrites your code\n`);
    assert.equal(c.requests.length, asked, 'the console is not asked');
    assert.deepEqual([...readTree(busy).keys()], ['mine.ts']);
  });
});

test('dev-package: --idl is required (exit 2); an unknown tag is the console 404 (exit 1), nothing written', async () => {
  await withConsole({ 'GET /api/services/Flight.mod_flight/idls/v9': problem(404, 'Flight.mod_flight has no IDL version "v9"') }, async (_c, env, dir) => {
    const noTag = await runCli(['dev-package', 'Flight.mod_flight', '--out', join(dir, 'x')], { env });
    assert.equal(noTag.code, 2);
    assert.match(noTag.stderr, /^msec: --idl TAG is required/);
    const out = join(dir, 'y');
    const missing = await runCli(['dev-package', 'Flight.mod_flight', '--idl', 'v9', '--out', out], { env });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'msec: Flight.mod_flight has no IDL version "v9"\n');
    assert.equal(existsSync(out), false);
  });
});

test('dev-package: an IDL without a service cannot make a project (exit 1, one line)', async () => {
  await withConsole({ 'GET /api/services/A.b/idls/t': { body: { text: 'syntax = "proto3"; message M { string a = 1; }' } } }, async (_c, env, dir) => {
    const r = await runCli(['dev-package', 'A.b', '--idl', 't', '--out', join(dir, 'p')], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^msec: cannot generate from IDL t of A\.b: .*no service with a unary RPC.*\n$/);
  });
});

test('stubs: writes the caller stubs, generating again replaces them and keeps other files; --json lists them', async () => {
  await withConsole(idlRoute, async (_c, env, dir) => {
    const out = join(dir, 'stubs');
    const r = await runCli(['stubs', 'Flight.mod_flight', '--idl', 'v1', '--out', out], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `wrote the caller stubs of Flight.mod_flight (IDL v1) to ${out}: README.md, types.ts, stub.ts, flight.proto\n`);
    const expected = callerStubs({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto });
    assert.equal(readFileSync(join(out, 'stub.ts'), 'utf8'), expected.get('stub.ts'));
    writeFileSync(join(out, 'stub.ts'), 'edited');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const again = await runCli(['stubs', 'Flight.mod_flight', '--idl', 'v1', '--out', out, '--json'], { env });
    assert.deepEqual(JSON.parse(again.stdout), { service: 'Flight.mod_flight', idl: 'v1', dir: out, files: ['README.md', 'types.ts', 'stub.ts', 'flight.proto'] });
    assert.equal(readFileSync(join(out, 'stub.ts'), 'utf8'), expected.get('stub.ts'));
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
  });
});

test('help lists both verbs with their options', async () => {
  const overview = await runCli(['help']);
  assert.match(overview.stdout, /\n {2}dev-package +generate a TypeScript project/);
  assert.match(overview.stdout, /\n {2}stubs +generate typed caller stubs/);
  const one = await runCli(['dev-package', '--help']);
  assert.match(one.stdout, /^usage: msec dev-package SERVICE \[--idl TAG\] \[--out DIR\]/);
  assert.match(one.stdout, /npm install && npm start/);
});
