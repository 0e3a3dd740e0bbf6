/**
 * The agent's Redis instances (apps/agent/kv/kv-host.ts), on a real redis-server: given a kv
 * start, then redis answers PING on the agent's address with the config the agent wrote; when
 * it dies it comes back; when the agent restarts the next one adopts it (never a second
 * process); stop ends it and keeps its files, remove deletes them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { decodeReportBody, encodeReportBody, type KvPayload, type ReportBody } from '../../../../schemas/agent.ts';
import { agentRoot, bodyFor, freePort, hostIp, kvHost, kvPayload, listing, quick, redis, redisPids, removeBase, teardown, waitFor } from './fixtures.ts';

afterEach(teardown);
after(removeBase);

async function started(o: Partial<KvPayload> = {}) {
  const root = agentRoot();
  const ip = hostIp();
  const port = await freePort(ip);
  const host = kvHost(root, ip);
  await host.start();
  const p = kvPayload({ port, ...o });
  const outcome = await host.run(bodyFor(p), p);
  assert.equal(outcome.exitCode, 0, outcome.error);
  const installDir = join(root, 'kv', p.cluster, String(port));
  return { root, ip, port, host, p, outcome, installDir, pid: host.instances()[0]!.pid };
}

describe('start', () => {
  test('given a free port on a loopback address, when started, then redis answers PING there, with the config the agent wrote', async () => {
    const { ip, port, host, outcome, installDir, pid } = await started();
    assert.match(outcome.output.toString(), new RegExp(`^started redis-server kv/c1/${port} \\(pid ${pid}\\) on ${ip.replaceAll('.', '\\.')}:${port}; answers PING after \\d+ ms\\n$`));
    assert.equal(await redis(ip, port, 'PING'), '+PONG');
    assert.match((await redis(ip, port, 'INFO', 'server'))!, new RegExp(`process_id:${pid}\\r\\n`));
    const data = join(installDir, 'data');
    assert.equal(readFileSync(join(installDir, 'etc', 'redis.conf'), 'utf8'), [
      '# Written by the msec agent from a signed kv command; it is written again at every start: edits here are lost.',
      `bind ${ip}`, `bind-source-addr ${ip}`, `cluster-announce-ip ${ip}`, `replica-announce-ip ${ip}`, `port ${port}`, 'protected-mode no', 'daemonize no', 'logfile ""', 'cluster-enabled yes',
      `cluster-config-file ${data}/nodes.conf`, 'cluster-node-timeout 5000', 'cluster-allow-replica-migration no',
      'cluster-require-full-coverage yes', `dir ${data}`, 'appendonly yes', 'appendfsync everysec', 'save ""',
      `maxmemory ${64 * 1024 * 1024}`, 'maxmemory-policy noeviction', '',
    ].join('\n'));
    assert.equal(readFileSync(join(installDir, 'bin', 'start'), 'utf8'), '#!/bin/sh\nexec redis-server ../etc/redis.conf\n');
    assert.equal(statSync(join(installDir, 'bin', 'start')).mode & 0o777, 0o755);
    // What redis itself took from the file.
    assert.match((await redis(ip, port, 'CLUSTER', 'INFO'))!, /cluster_state:fail\r\n[\s\S]*cluster_slots_assigned:0\r\n/);
    assert.match((await redis(ip, port, 'INFO', 'memory'))!, new RegExp(`maxmemory:${64 * 1024 * 1024}\r\n[\\s\\S]*maxmemory_policy:noeviction\r\n`));
    assert.match((await redis(ip, port, 'INFO', 'persistence'))!, /aof_enabled:1\r\n/);
    assert.equal(existsSync(join(data, 'nodes.conf')), true);
    assert.deepEqual(redisPids(installDir), [pid]);
    const [instance] = host.instances();
    assert.equal(instance!.service, `kv/c1/${port}`);
    assert.equal(instance!.state, 'running');
    assert.equal(instance!.port, port);
    assert.equal(instance!.restarts, 0);
  });

  test('given it runs, when the same start comes again, then it is "already running", one process', async () => {
    const { ip, port, host, p, pid, installDir } = await started();
    const again = await host.run(bodyFor(p), p);
    assert.equal(again.exitCode, 0, again.error);
    assert.match(again.output.toString(), new RegExp(`^already running: redis-server kv/c1/${port} \\(pid ${pid}\\)`));
    assert.deepEqual(redisPids(installDir), [pid]);
    assert.equal(await redis(ip, port, 'PING'), '+PONG');
  });

  test('given it runs, when started with another maxmemory, then the instance is replaced and runs the new config', async () => {
    const { ip, port, host, p, pid, installDir } = await started();
    const bigger = { ...p, maxmemoryBytes: 128 * 1024 * 1024 };
    const outcome = await host.run(bodyFor(bigger), bigger);
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.match(outcome.output.toString(), /replaced the instance running another config: stopped kv\/c1\/\d+ \(pid \d+\) with SIGTERM/);
    const now = host.instances()[0]!.pid;
    assert.notEqual(now, pid);
    assert.deepEqual(redisPids(installDir), [now]);
    assert.match((await redis(ip, port, 'INFO', 'memory'))!, new RegExp(`maxmemory:${128 * 1024 * 1024}\r\n`));
    assert.match(readFileSync(join(installDir, 'etc', 'redis.conf'), 'utf8'), new RegExp(`^maxmemory ${128 * 1024 * 1024}$`, 'm'));
  });

  test('given its redis-server is killed -9, then the supervisor starts it again', async () => {
    const { ip, port, host, pid, installDir } = await started();
    process.kill(pid, 'SIGKILL');
    const next = await waitFor('a new redis-server', () => {
      const s = host.instances()[0]!;
      return s.state === 'running' && s.pid !== pid && s.pid;
    });
    assert.equal(host.instances()[0]!.restarts, 1);
    assert.equal(await waitFor('PONG', async () => (await redis(ip, port, 'PING')) === '+PONG' && '+PONG'), '+PONG');
    assert.deepEqual(redisPids(installDir), [next]);
  });

  test('given a program holds the port, when started, then it fails saying so, and no redis runs', async () => {
    const root = agentRoot();
    const ip = hostIp();
    const port = await freePort(ip);
    const squatter = createServer((s) => {
      s.on('error', () => undefined);
      s.end('-ERR not redis\r\n');
    });
    await new Promise<void>((resolve) => squatter.listen(port, ip, resolve));
    try {
      const host = kvHost(root, ip);
      const p = kvPayload({ port });
      const outcome = await host.run(bodyFor(p), p);
      assert.equal(outcome.exitCode, -1);
      assert.match(outcome.error, new RegExp(`${ip.replaceAll('.', '\\.')}:${port} is taken by another program`));
      assert.deepEqual(host.instances(), []);
      assert.deepEqual(redisPids(root), []);
    } finally {
      squatter.close();
    }
  });

  test('given an address redis cannot bind, when started, then it fails with redis\'s own words from log/, and nothing stays supervised', async () => {
    const root = agentRoot();
    // TEST-NET-1: on no interface of this host.
    const host = kvHost(root, '192.0.2.1');
    const p = kvPayload({ port: 7001, healthTimeoutMs: 5000 });
    const outcome = await host.run(bodyFor(p), p);
    assert.equal(outcome.exitCode, -1);
    assert.match(outcome.error, /redis-server exited with code 1 before 192\.0\.2\.1:7001 answered PING/);
    assert.match(outcome.error, /--- last of log\/stdout\.log ---[\s\S]*(Cannot assign requested address|Could not create server TCP listening socket)/);
    assert.match(outcome.error, /is stopped and no longer supervised; its files and log\/ are kept/);
    assert.deepEqual(host.instances(), []);
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'agent', 'kv.json'), 'utf8')), { services: [] });
  });

  test('given no redis-server on the PATH, when started, then it fails saying how to install it, and writes nothing', async () => {
    const root = agentRoot();
    const ip = hostIp();
    const host = kvHost(root, ip, { ...quick, searchPath: mkdtempSync(join(tmpdir(), 'msec-kv-empty-path-')) });
    const p = kvPayload({ port: 7001 });
    const outcome = await host.run(bodyFor(p), p);
    assert.equal(outcome.exitCode, -1);
    assert.match(outcome.error, /redis-server is not installed on this host: apt-get install redis-server/);
    assert.deepEqual(listing(root), ['agent/']);
  });
});

describe('agent restarts', () => {
  test('given it runs and the agent is killed, when a new agent starts on the same root, then it adopts the instance: same pid, no second process', async () => {
    const { root, ip, port, host, pid, installDir, p } = await started();
    host.detach();
    const next = kvHost(root, ip);
    await next.start();
    assert.equal(next.instances()[0]!.pid, pid);
    assert.equal(next.instances()[0]!.state, 'running');
    assert.deepEqual(redisPids(installDir), [pid]);
    // The same start from the console again: still that process.
    const again = await next.run(bodyFor(p), p);
    assert.match(again.output.toString(), /^already running/);
    assert.deepEqual(redisPids(installDir), [pid]);
    // Adopted, so watched: when it dies, it is started again.
    process.kill(pid, 'SIGKILL');
    const restarted = await waitFor('a new redis-server', () => next.instances()[0]!.state === 'running' && next.instances()[0]!.pid !== pid && next.instances()[0]!.pid);
    assert.equal(await waitFor('PONG', async () => (await redis(ip, port, 'PING')) === '+PONG' && '+PONG'), '+PONG');
    assert.deepEqual(redisPids(installDir), [restarted]);
  });

  test('given it died while no agent ran, when the agent starts, then it starts it', async () => {
    const { root, ip, port, host, pid, installDir } = await started();
    host.detach();
    process.kill(pid, 'SIGKILL');
    await waitFor('redis gone', async () => (await redis(ip, port, 'PING')) === 'ECONNREFUSED');
    const next = kvHost(root, ip);
    await next.start();
    assert.notEqual(next.instances()[0]!.pid, pid);
    assert.equal(await waitFor('PONG', async () => (await redis(ip, port, 'PING')) === '+PONG' && '+PONG'), '+PONG');
    assert.deepEqual(redisPids(installDir), [next.instances()[0]!.pid]);
  });

  test('given it runs, when the agent stops gracefully (an upgrade), then redis keeps serving, and the next agent adopts it', async () => {
    const { root, ip, port, host, installDir, pid } = await started();
    await host.stop();
    assert.deepEqual(redisPids(installDir), [pid], 'the same process still runs');
    assert.equal(await redis(ip, port, 'PING'), '+PONG');
    const next = kvHost(root, ip);
    await next.start();
    assert.equal(next.instances()[0]!.pid, pid, 'adopted, not started again');
    assert.deepEqual(redisPids(installDir), [pid]);
  });
});

describe('stop and remove', () => {
  test('given it runs, when stopped, then no process is left, it is no longer supervised, and its files stay', async () => {
    const { root, ip, port, host, p, pid, installDir } = await started();
    const stop = { ...p, operation: 'stop' as const };
    const outcome = await host.run(bodyFor(stop), stop);
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.equal(outcome.output.toString(), `stopped kv/c1/${port} (pid ${pid}) with SIGTERM; its files are kept\n`);
    assert.deepEqual(redisPids(installDir), []);
    assert.deepEqual(host.instances(), []);
    assert.equal(await redis(ip, port, 'PING'), 'ECONNREFUSED');
    assert.equal(existsSync(join(installDir, 'etc', 'redis.conf')), true);
    // Not started by the next agent either.
    const next = kvHost(root, ip);
    await next.start();
    assert.deepEqual(next.instances(), []);
    // Stopping what does not run succeeds.
    const again = await next.run(bodyFor(stop), stop);
    assert.equal(again.exitCode, 0, again.error);
    assert.match(again.output.toString(), /was not running/);
  });

  test('given it runs, when removed, then no process is left and its folder is gone', async () => {
    const { root, ip, port, host, p, installDir } = await started();
    const remove = { ...p, operation: 'remove' as const };
    const outcome = await host.run(bodyFor(remove), remove);
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.match(outcome.output.toString(), new RegExp(`^stopped kv/c1/${port} \\(pid \\d+\\) with SIGTERM; removed kv/c1/${port}\\n$`));
    assert.deepEqual(redisPids(installDir), []);
    assert.equal(existsSync(installDir), false);
    assert.deepEqual(listing(root).filter((f) => f.startsWith('kv/')), ['kv/'], 'the cluster folder goes with its last instance');
    assert.equal(await redis(ip, port, 'PING'), 'ECONNREFUSED');
    // Removing what is not there succeeds.
    const again = await host.run(bodyFor(remove), remove);
    assert.equal(again.exitCode, 0, again.error);
    assert.match(again.output.toString(), /was not running; kv\/c1\/\d+ had no files/);
  });
});

describe('heartbeats', () => {
  test('given it runs, then the heartbeat carries it in kvInstances, and the report encodes and decodes', async () => {
    const { host, port, pid } = await started();
    const heartbeat = {
      agentVersion: '0.1.0', intervalMs: 20_000, cpuPercent: 1, memTotalBytes: 1, memFreeBytes: 1, diskTotalBytes: 1, diskFreeBytes: 1, load1: 0, load5: 0, load15: 0,
      processes: 1, trustedKeyId: 'k', cpus: 2, hostname: 'h', services: [], kvInstances: host.instances(),
    };
    const decoded = decodeReportBody(encodeReportBody({ agent: '127.0.0.2', sequence: 1, atMs: 1, heartbeat } as ReportBody));
    const [s] = (decoded as { heartbeat: { kvInstances: ReturnType<typeof host.instances> } }).heartbeat.kvInstances;
    assert.equal(s!.service, `kv/c1/${port}`);
    assert.equal(s!.state, 'running');
    assert.equal(s!.port, port);
    assert.equal(s!.pid, pid);
  });

  test('given a heartbeat of an agent older than the KV, then kvInstances decodes as []', () => {
    const heartbeat = {
      agentVersion: '0.0.9', intervalMs: 20_000, cpuPercent: 1, memTotalBytes: 1, memFreeBytes: 1, diskTotalBytes: 1, diskFreeBytes: 1, load1: 0, load5: 0, load15: 0,
      processes: 1, trustedKeyId: 'k', cpus: 2, hostname: 'h',
    };
    const decoded = decodeReportBody(encodeReportBody({ agent: '127.0.0.2', sequence: 1, atMs: 1, heartbeat } as ReportBody));
    assert.deepEqual((decoded as { heartbeat: { kvInstances: unknown[] } }).heartbeat.kvInstances, []);
  });
});
