/**
 * The console's connections to Redis instances, on a real redis-server: one per instance,
 * closed once idle (never while a command runs on it), opened again when needed; an instance
 * that does not answer is "unreachable" at once.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { RedisAdmin, RedisUnreachable } from '../../../apps/console/kv/redis-admin.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = mkdtempSync(join(tmpdir(), 'msec-kv-admin-'));
let server: ChildProcess;
let port = 0;

/** Clients connected to the server, as it counts them (redis-cli's own included). */
const clients = async () => Number(/connected_clients:(\d+)/.exec((await run('redis-cli', ['-p', String(port), 'INFO', 'clients'])).stdout)?.[1]);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as AddressInfo;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if ((await run('redis-cli', ['-p', String(port), 'PING']).catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG') return;
    await sleep(50);
  }
  throw new Error(`redis-server on ${port} did not answer`);
});

after(() => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('given a connection that ran no command for idleMs, when the sweep runs, then it is closed, and the next command opens one again', async () => {
  const admin = new RedisAdmin({ idleMs: 300 });
  try {
    const before = await clients();
    assert.equal(await admin.call('127.0.0.1', port, 'PING'), 'PONG');
    assert.equal(await admin.call('127.0.0.1', port, 'PING'), 'PONG');
    assert.equal(admin.openConnections, 1, 'one connection for the instance, used twice');
    assert.equal(await clients(), before + 1);
    await sleep(800);
    assert.equal(admin.openConnections, 0, 'closed once idle');
    assert.equal(await clients(), before, 'the server saw it go');
    assert.equal(await admin.call('127.0.0.1', port, 'PING'), 'PONG');
    assert.equal(admin.openConnections, 1, 'opened again for the next command');
  } finally {
    admin.close();
  }
});

test('given a command that runs longer than idleMs, when the sweep runs meanwhile, then its connection stays until it answers', async () => {
  const admin = new RedisAdmin({ idleMs: 100 });
  try {
    // BLPOP on an empty list blocks for its timeout (1 s), well past idleMs and several sweeps.
    assert.equal(await admin.call('127.0.0.1', port, 'BLPOP', 'msec-test-empty', '1'), null);
    assert.equal(await admin.call('127.0.0.1', port, 'PING'), 'PONG');
  } finally {
    admin.close();
  }
});

test('given an instance that does not listen, when a command is sent, then it is unreachable at once and keeps no connection', async () => {
  const admin = new RedisAdmin({ connectTimeoutMs: 500 });
  try {
    const gone = await freePort();
    await assert.rejects(admin.call('127.0.0.1', gone, 'PING'), (err: unknown) => err instanceof RedisUnreachable && err.message.startsWith(`127.0.0.1:${gone} does not answer`));
    assert.equal(admin.openConnections, 0);
  } finally {
    admin.close();
  }
});
