/**
 * `npm run artifact` of a dev package: the .tgz a release installs on hosts that have Node and
 * msec's agent but no npm, tsx or msec. Generated Flight project with the seed's logic,
 * `npm install`, `npm run -s artifact`; the archive is unpacked far from the project and from
 * this checkout (no node_modules above it), its `./start` run as the agent runs it (cwd bin/,
 * PATH and HOME and the MSEC_* variables alone), called with msec's client over TCP, UDP and
 * HTTP/JSON, and stopped with SIGTERM.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited } from './support.ts';
import { Children, flightProjectFromFixture, flightProto, kill } from './devpack-support.ts';
import { createClient, MemoryCallReporter } from '../../apps/rpc/index.ts';

const checkout = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/+$/, '');
const work = realpathSync(mkdtempSync(join(tmpdir(), 'msec-artifact-e2e-')));
const children = new Children();
after(() => {
  children.killAll();
  rmSync(work, { recursive: true, force: true });
});

/** Runs a command to its end; stdout apart from stderr (the artifact script prints its path alone on stdout). */
function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = children.spawn(cmd, args, { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => kill(child, 'SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port free on `host` for TCP and UDP both (the service binds both). */
async function freePort(host: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer().once('error', reject).listen(0, host, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (udpFree || attempt >= 5) return port;
  }
}

/** Whether something accepts TCP connections on host:port. */
function accepting(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('npm run artifact: a .tgz with ./start at its top that serves the handlers where only node is installed', { timeout: 600_000 }, async () => {
  const project = await flightProjectFromFixture(children, join(work, 'project', 'flight'));
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
  assert.equal(pkg.scripts.artifact, 'node scripts/artifact.mjs');
  // esbuild is the project's own dependency, at msec's version (not borrowed from tsx by hoisting).
  const msecEsbuild = (JSON.parse(readFileSync(join(checkout, 'node_modules/esbuild/package.json'), 'utf8')) as { version: string }).version;
  assert.equal(pkg.devDependencies.esbuild, `^${msecEsbuild}`);
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { devDependencies?: Record<string, string> }> };
  assert.equal(lock.packages['']!.devDependencies?.esbuild, `^${msecEsbuild}`);

  // The path alone on stdout (absolute: right from any folder of the project).
  const built = await run('npm', ['run', '-s', 'artifact'], project);
  assert.equal(built.code, 0, `npm run artifact failed:\n${built.stdout}\n${built.stderr}`);
  const lines = built.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stdout:\n${built.stdout}`);
  const tgz = lines[0]!;
  assert.ok(isAbsolute(tgz), tgz);
  assert.equal(tgz, join(project, 'dist', 'flight.mod_flight-0.1.0.tgz'));
  assert.ok(statSync(tgz).isFile());
  const fromSubfolder = await run('npm', ['run', '-s', 'artifact'], join(project, 'src'));
  assert.equal(fromSubfolder.code, 0, fromSubfolder.stderr);
  assert.equal(fromSubfolder.stdout, `${tgz}\n`);

  // The archive: everything at its top level, `start` executable.
  const listed = spawnSync('tar', ['-tvzf', tgz], { encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const entries = new Map(listed.stdout.split('\n').filter(Boolean).map((l) => {
    const cols = l.split(/\s+/);
    return [cols[cols.length - 1]!, cols[0]!] as const;
  }));
  for (const path of ['start', 'server.mjs', 'server.mjs.map', 'proto/flight.proto', 'msec/schemas/rpc.proto', 'msec/schemas/reports.proto']) {
    assert.ok(entries.has(path), `${path} in the archive:\n${listed.stdout}`);
  }
  assert.equal(entries.get('start'), '-rwxr-xr-x');
  for (const path of entries.keys()) {
    assert.ok(['start', 'server.mjs', 'server.mjs.map', 'proto', 'msec'].includes(path.split('/')[0]!), `unexpected entry ${path}`);
    assert.doesNotMatch(path, /node_modules/);
  }
  assert.equal(readFileSync(join(project, 'dist', 'artifact', 'proto', 'flight.proto'), 'utf8'), readFileSync(flightProto, 'utf8'));
  const bundle = readFileSync(join(project, 'dist', 'artifact', 'server.mjs'), 'utf8');
  for (const path of [project, checkout]) {
    assert.ok(!bundle.includes(`"${path}/`) && !bundle.includes(`'${path}/`), `server.mjs names no file under ${path}`);
  }

  // A host: <install>/bin and <install>/etc, away from the project and this checkout, with no
  // node_modules in any folder above bin/ that module resolution could fall back on.
  const install = realpathSync(mkdtempSync(join(tmpdir(), 'msec-artifact-host-')));
  const bin = join(install, 'bin');
  mkdirSync(bin);
  mkdirSync(join(install, 'etc'));
  for (const root of [project, checkout]) assert.ok(relative(root, bin).startsWith('..'), `${bin} is outside ${root}`);
  for (let dir = bin; ; dir = dirname(dir)) {
    assert.ok(!existsSync(join(dir, 'node_modules')), `no node_modules in ${dir}`);
    if (dirname(dir) === dir) break;
  }
  let server: ChildProcess | undefined;
  try {
    const unpacked = spawnSync('tar', ['-xzf', tgz, '-C', bin], { encoding: 'utf8' });
    assert.equal(unpacked.status, 0, unpacked.stderr);
    assert.equal(statSync(join(bin, 'start')).mode & 0o777, 0o755);
    assert.match(readFileSync(join(bin, 'start'), 'utf8'), /^#!\/bin\/sh\n/);
    // The project is gone while the artifact runs: nothing can come from it.
    renameSync(project, `${project}.away`);

    const port = await freePort('127.0.0.2');
    const config = join(install, 'etc', 'config.ini');
    writeFileSync(config, `[SRPC]\nlisten = ${port}/tcp ${port}/udp\n`);
    server = children.spawn('./start', [], {
      cwd: bin,
      inheritEnv: false,
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: homedir(),
        MSEC_SERVICE: 'Flight.mod_flight',
        MSEC_LISTEN: `127.0.0.2:${port}`,
        MSEC_CONFIG: config,
        MSEC_HOST_IP: '127.0.0.2',
        MSEC_INSTALL_DIR: install,
      },
    });
    let out = '';
    server.stdout!.on('data', (d) => (out += d));
    server.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    while (!out.includes(`listening on 127.0.0.2:${port}`)) {
      assert.ok(server.exitCode === null && server.signalCode === null, `./start exited ${server.exitCode ?? server.signalCode}:\n${out}`);
      assert.ok(Date.now() < deadline, `./start printed no address:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, /Flight\.mod_flight: flight\.flight_service listening on 127\.0\.0\.2:/);

    // msec's client: binary frames over TCP and UDP, with the IDL the artifact carries.
    type Answer = { errcode: number; errmsg: string; flightsInfo: string };
    const client = createClient({ name: 'Artifact.caller', reporter: new MemoryCallReporter() });
    try {
      for (const protocol of ['tcp', 'udp']) {
        const flight = client.stub<{ queryFlight(r: object, o?: object): Promise<Answer> }>(`127.0.0.2:${port}@${protocol}`, join(bin, 'proto', 'flight.proto'), 'flight.flight_service');
        assert.deepEqual(await flight.queryFlight({ name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' }, { timeoutMs: 2000 }),
          { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' }, protocol);
        assert.deepEqual(await flight.queryFlight({ name: 'bison', password: 'x', departureCity: 'sz', destinationCity: 'xz' }, { timeoutMs: 2000 }),
          { errcode: -1, errmsg: 'invalid user', flightsInfo: '' }, protocol);
      }
    } finally {
      await client.close();
    }
    // HTTP/JSON on the same port.
    const res = await fetch(`http://127.0.0.2:${port}/?methodName=flight.flight_service.queryFlight`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' }),
    });
    assert.deepEqual(((await res.json()) as { resultObj: unknown }).resultObj, { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' });

    // SIGTERM to the pid the agent holds (start execs node, so it is node's): a clean exit.
    server.kill('SIGTERM');
    const stopped = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited(server), new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    assert.equal(server.exitCode, 0, `exit ${server.exitCode ?? server.signalCode} ${Date.now() - stopped} ms after SIGTERM:\n${out}`);
    assert.equal(await accepting('127.0.0.2', port), false, 'nothing listens on the port any more');
  } finally {
    if (server) kill(server, 'SIGKILL');
    if (existsSync(`${project}.away`)) renameSync(`${project}.away`, project);
    rmSync(install, { recursive: true, force: true });
  }
});
