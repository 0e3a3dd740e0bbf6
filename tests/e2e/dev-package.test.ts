/**
 * The walkthrough's Step 2 in TypeScript: store the Flight IDL, download the dev package
 * with the CLI, fill in queryFlight with the seed's logic, `npm install` (msec through its
 * file: dependency, tsx from the registry), `npm start`, then call it: over HTTP/JSON, with
 * the generated client by address, and by service name through the console's routes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, msec, startUp } from './support.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-devpack-e2e-'));
const flightProto = fileURLToPath(new URL('../fixtures/flight.proto', import.meta.url));
const checkout = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/+$/, '');
const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the process group we started: npm, sh, tsx, node
      } catch {
        // already gone
      }
    }
  }
  rmSync(home, { recursive: true, force: true });
});

/** Runs a command to its end without blocking the event loop; answers code and output. */
function run(cmd: string, args: string[], o: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * Until msec's package.json exports `./rpc`, the project depends on a one-file stand-in
 * package that re-exports this checkout's apps/rpc/index.ts. Answers whether it was needed.
 */
function useStandInUntilExportsLand(project: string): boolean {
  const pkg = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { exports?: Record<string, string> };
  if (pkg.exports?.['./rpc']) return false;
  const shim = join(home, 'msec-stand-in');
  mkdirSync(shim, { recursive: true });
  writeFileSync(join(shim, 'package.json'), JSON.stringify({ name: 'msec', version: '0.0.0', type: 'module', exports: { './rpc': './rpc.ts' } }));
  writeFileSync(join(shim, 'rpc.ts'), `export * from '${checkout}/apps/rpc/index.ts';\n`);
  const projectPkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.equal(projectPkg.dependencies.msec, `file:${checkout}`, 'the generated project depends on this checkout');
  projectPkg.dependencies.msec = `file:${shim}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify(projectPkg, null, 2));
  return true;
}

const seedLogic = `if (request.name === 'bison' && request.password === '123456') {
    return { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' };
  }
  return { errcode: -1, errmsg: 'invalid user', flightsInfo: '' };`;

test('Flight dev package: generate, fill in, npm install, npm start, call it three ways', { timeout: 600_000 }, async (t) => {
  const up = await startUp(join(home, 'console'));
  children.push(up.proc);
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: up.adminPassword!, MSEC_CONFIG_DIR: join(home, 'cfg') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  try {
    ok(['service', 'create', 'Flight.mod_flight']);
    ok(['idl', 'put', 'Flight.mod_flight', 'v1', flightProto, '--memo', 'seed IDL']);

    const project = join(home, 'flight');
    const made = ok(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', project]);
    assert.match(made.stdout, /your code goes in src\/flight_service_impl\.ts/);
    const again = msec(['dev-package', 'Flight.mod_flight', '--idl', 'v1', '--out', project], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty/);

    const implPath = join(project, 'src', 'flight_service_impl.ts');
    const impl = readFileSync(implPath, 'utf8');
    const todo = "return { errcode: 0, errmsg: '', flightsInfo: '' };";
    assert.ok(impl.includes(todo), impl);
    writeFileSync(implPath, impl.replace(todo, seedLogic));
    if (useStandInUntilExportsLand(project)) t.diagnostic('package.json has no "exports" for ./rpc yet: used a stand-in msec package');

    const install = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: project, timeoutMs: 300_000 });
    assert.equal(install.code, 0, `npm install failed:\n${install.out}`);

    const server = spawn('npm', ['start'], {
      cwd: project, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MSEC_LISTEN: '127.0.0.1:0', MSEC_LOG_LEVEL: 'warn' },
    });
    children.push(server);
    let out = '';
    server.stdout!.on('data', (d) => (out += d));
    server.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    let port: number | undefined;
    while (Date.now() < deadline && port === undefined) {
      port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]) || undefined;
      if (server.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(port, `npm start printed no address:\n${out}`);
    assert.match(out, /Flight\.mod_flight: flight\.flight_service listening on/);

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
    const byAddress = await run('npm', ['run', 'client', '--', `127.0.0.1:${port}`], { cwd: project, timeoutMs: 60_000 });
    assert.equal(byAddress.code, 0, byAddress.out);
    assert.match(byAddress.out, /flight\.flight_service\.queryFlight -> \{"errcode":-1,"errmsg":"invalid user","flightsInfo":""\}/);

    // By service name: an enabled host in msec's routing table, routes from the console API.
    ok(['host', 'add', 'Flight.mod_flight', `127.0.0.1:${port}`, '--proto', 'tcp']);
    ok(['host', 'enable', 'Flight.mod_flight', `127.0.0.1:${port}`]);
    const tokenAnswer = await fetch(`${up.url}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`admin:${up.adminPassword}`).toString('base64')}` },
      body: JSON.stringify({ label: 'dev-package e2e' }),
    });
    assert.ok(tokenAnswer.ok, await tokenAnswer.clone().text());
    const { token } = (await tokenAnswer.json()) as { token: string };
    const byName = await run('npm', ['run', 'client'], { cwd: project, env: { MSEC_CONSOLE_URL: up.url, MSEC_TOKEN: token }, timeoutMs: 60_000 });
    assert.equal(byName.code, 0, byName.out);
    assert.match(byName.out, /flight\.flight_service\.queryFlight -> \{"errcode":-1,"errmsg":"invalid user","flightsInfo":""\}/);

    // SIGTERM (what msec sends) stops it cleanly.
    process.kill(-server.pid!, 'SIGTERM');
    await exited(server);
  } finally {
    up.proc.kill('SIGTERM');
    await exited(up.proc);
  }
});
