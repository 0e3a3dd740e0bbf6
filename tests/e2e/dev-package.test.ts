/**
 * The walkthrough's Step 2 in TypeScript: store the Flight IDL, download the dev package
 * with the CLI, fill in queryFlight with the seed's logic, `npm install` (msec through its
 * file: dependency, tsx from the registry), `npm start`, then call it: over HTTP/JSON, with
 * the generated client by address, and by service name through the console's routes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, msec, startUp } from './support.ts';
import { apiToken, Children, flightProject, flightProto, generatedProject, kill, startService } from './devpack-support.ts';
import { awkwardIdl, awkwardRpcs, signedImpl } from '../unit/devpack/support.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-devpack-e2e-'));
const checkout = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/+$/, '');
const children = new Children();
after(() => {
  children.killAll();
  rmSync(home, { recursive: true, force: true });
});

test('Flight dev package: generate, fill in, npm install, npm start, call it three ways', { timeout: 600_000 }, async () => {
  const up = await startUp(join(home, 'console'));
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: up.adminPassword!, MSEC_CONFIG_DIR: join(home, 'cfg') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  try {
    ok(['service', 'create', 'Flight.mod_flight']);
    ok(['idl', 'put', 'Flight.mod_flight', 'v1', flightProto, '--memo', 'seed IDL']);

    const project = await flightProject(children, env, join(home, 'flight'));
    const again = msec(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', project], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty/);
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies.msec, `file:${checkout}`, 'the generated project depends on the msec that generated it');

    const server = await startService(children, project, { MSEC_LISTEN: '127.0.0.1:0' });
    const { port } = server;
    assert.match(server.output(), /Flight\.mod_flight: flight\.flight_service listening on/);

    // HTTP/JSON on the same port, MSEC's form.
    const http = async (request: object) => {
      const res = await fetch(`http://127.0.0.1:${port}/?methodName=flight.flight_service.queryFlight`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request),
      });
      return (await res.json()) as { ret: number; resultObj: unknown };
    };
    assert.deepEqual((await http({ name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' })).resultObj,
      { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' });
    assert.deepEqual((await http({ name: 'bison', password: 'x', departureCity: 'sz', destinationCity: 'xz' })).resultObj,
      { errcode: -1, errmsg: 'invalid user', flightsInfo: '' });

    // The generated client by address: its example request has no user, so "invalid user".
    const byAddress = await children.run('npm', ['run', 'client', '--', `127.0.0.1:${port}`], { cwd: project, timeoutMs: 60_000 });
    assert.equal(byAddress.code, 0, byAddress.out);
    assert.match(byAddress.out, /flight\.flight_service\.queryFlight -> \{"errcode":-1,"errmsg":"invalid user","flightsInfo":""\}/);

    // By service name: an enabled host in msec's routing table, routes from the console API.
    ok(['host', 'add', 'Flight.mod_flight', `127.0.0.1:${port}`, '--proto', 'tcp']);
    ok(['host', 'enable', 'Flight.mod_flight', `127.0.0.1:${port}`]);
    const token = await apiToken(up.url, up.adminPassword!);
    const byName = await children.run('npm', ['run', 'client'], { cwd: project, env: { MSEC_CONSOLE_URL: up.url, MSEC_TOKEN: token }, timeoutMs: 60_000 });
    assert.equal(byName.code, 0, byName.out);
    assert.match(byName.out, /flight\.flight_service\.queryFlight -> \{"errcode":-1,"errmsg":"invalid user","flightsInfo":""\}/);

    // SIGTERM (what msec sends) stops it cleanly.
    kill(server.proc, 'SIGTERM');
    await exited(server.proc);
  } finally {
    up.proc.kill('SIGTERM');
    await exited(up.proc);
  }
});

test('RPCs named handlers, constructor, toString, default, delete…: the dev package installs, starts and answers each RPC with its own function', { timeout: 600_000 }, async () => {
  const up = await startUp(join(home, 'console-names'));
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: up.adminPassword!, MSEC_CONFIG_DIR: join(home, 'cfg-names') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    ok(['service', 'create', 'Names.svc']);
    const idlFile = join(home, 'names.proto');
    writeFileSync(idlFile, awkwardIdl);
    ok(['idl', 'put', 'Names.svc', 'v1', idlFile]);
    const project = await generatedProject(children, env, 'Names.svc', 'v1', join(home, 'names'), 'src/S_impl.ts', signedImpl);

    // `rpc handlers` used to make src/S_impl.ts declare `handlers` twice: npm start died here.
    const server = await startService(children, project, { MSEC_LISTEN: '127.0.0.1:0' });
    for (const name of awkwardRpcs) {
      const res = await fetch(`http://127.0.0.1:${server.port}/names.S.${name}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}',
      });
      const answer = (await res.json()) as { ret: number; errmsg: string; resultObj: { text: string } | null };
      assert.equal(answer.ret, 0, `${name}: ${answer.errmsg}`);
      assert.equal(answer.resultObj?.text, name, `${name} ran its own function`);
    }
    // The generated client calls every RPC through the typed stub, by the same names.
    const client = await children.run('npm', ['run', 'client', '--', `127.0.0.1:${server.port}`], { cwd: project, timeoutMs: 60_000 });
    assert.equal(client.code, 0, client.out);
    for (const name of awkwardRpcs) assert.ok(client.out.includes(`names.S.${name} -> {"text":"${name}"}`), `client called ${name}:\n${client.out}`);
    kill(server.proc, 'SIGTERM');
    await exited(server.proc);
  } finally {
    up.proc.kill('SIGTERM');
    await exited(up.proc);
  }
});
