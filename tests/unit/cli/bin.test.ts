import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { problem, startFakeConsole, tempDir } from './helpers.ts';

/** The real entry point, as npm runs it: a separate node process, any cwd, through a symlink. */

const bin = resolve(fileURLToPath(new URL('../../../apps/cli/bin.mjs', import.meta.url)));

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function msec(args: string[], o: { env?: Record<string, string>; cwd?: string; stdin?: string; entry?: string; onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<Spawned> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [o.entry ?? bin, ...args], {
      cwd: o.cwd ?? process.cwd(),
      // A clean environment: nothing of the developer's MSEC_* leaks in.
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', NO_COLOR: '1', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      o.onStdout?.(stdout, (s) => child.kill(s));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
    if (o.stdin !== undefined) child.stdin.end(o.stdin);
    else child.stdin.end();
  });
}

test('bin: --version and help', async () => {
  const v = await msec(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^msec \d+\.\d+\.\d+\n$/);
  const h = await msec(['help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /\n {2}service create {2}/);
});

test('bin: a usage error exits 2 with the problem and the usage line', async () => {
  const r = await msec(['service', 'create', 'A.b', '--colour', 'red']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'msec: unknown option --colour\nusage: msec service create NAME [--odd] [--lang L] [--port P] [--reason TEXT] [--json]\n');
});

test('bin through a symlink, from another working directory, talking to a console', async () => {
  const answer = { services: [{ name: 'A', kind: 'standard', children: [] }] };
  const c = await startFakeConsole({
    'GET /api/services': { body: answer },
    'GET /api/services/A.x': problem(404, 'no service A.x'),
  });
  const t = await tempDir();
  try {
    const link = join(t.dir, 'msec');
    await symlink(bin, link);
    const env = { MSEC_CONSOLE: c.url, MSEC_TOKEN: 'tok' };
    const r = await msec(['service', 'list', '--json'], { entry: link, cwd: t.dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), answer);
    assert.equal(c.requests[0]!.headers.authorization, 'Bearer tok');
    assert.match(String(c.requests[0]!.headers['user-agent']), /^msec-cli\//);

    const missing = await msec(['service', 'show', 'A.x'], { entry: link, cwd: t.dir, env });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'msec: no service A.x\n');

    const nobody = await msec(['service', 'list'], { entry: link, cwd: t.dir, env: { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: t.dir } });
    assert.equal(nobody.code, 3);
    assert.match(nobody.stderr, /^msec: not logged in to .*run `msec login`\n$/);
  } finally {
    await c.close();
    await t.remove();
  }
});

test('bin: login with the password piped on stdin, then a verb with the stored token', async () => {
  const c = await startFakeConsole({
    'POST /api/tokens': { status: 201, body: { tokenId: 'id9', token: 'tok9' } },
    'GET /api/services': { body: { services: [] } },
  });
  const t = await tempDir();
  try {
    const env = { MSEC_CONSOLE: c.url, MSEC_CONFIG_DIR: t.dir };
    const r = await msec(['login', '--user', 'ops'], { env, stdin: 'piped-pw\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(c.requests[0]!.headers.authorization, `Basic ${Buffer.from('ops:piped-pw').toString('base64')}`);
    const list = await msec(['service', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(c.requests[1]!.headers.authorization, 'Bearer tok9');
  } finally {
    await c.close();
    await t.remove();
  }
});

test('bin: route --watch stops cleanly on SIGINT', async () => {
  const c = await startFakeConsole({
    'GET /api/routes/A.b': (req) => req.query.has('wait')
      ? new Promise((r) => setTimeout(() => r({ status: 304 }), 5_000))
      : { headers: { etag: '"3"' }, body: { service: 'A.b', version: 3, instances: [] } },
  });
  try {
    const r = await msec(['route', 'A.b', '--watch'], {
      env: { MSEC_CONSOLE: c.url, MSEC_TOKEN: 't' },
      onStdout: (text, kill) => {
        if (text.includes('version: 3')) setTimeout(() => kill('SIGINT'), 100);
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '(no enabled instances: msec host enable SERVICE IP:PORT)\nversion: 3\n');
  } finally {
    await c.close();
  }
});

test('bin: up with a bad port is a usage error before anything starts', async () => {
  const r = await msec(['up', '--port', 'http']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^msec: --port must be an integer, got 'http'\nusage: msec up /);
});
