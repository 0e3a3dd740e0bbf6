/**
 * The agent keeps installed services running (apps/agent/releases/supervisor.ts), on real
 * processes: given a supervised service, when it dies it comes back with growing waits; when the
 * agent restarts (even killed with -9) the next one adopts the running process instead of
 * starting a second copy; a graceful agent stop stops the services, and the next agent starts them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { decodeReportBody, encodeReportBody, type ReportBody } from '../../../../schemas/agent.ts';
import type { ReleaseHostOptions } from '../../../../apps/agent/releases/release-host.ts';
import { Blobs, agentRoot, answer, command, hostIp, payload, releaseHost, removeBase, serviceArchive, servicePids, teardown, tgz, waitFor } from './fixtures.ts';

afterEach(teardown);
after(removeBase);

const service = 'Flight.mod_flight';
const port = 7100;
const quick: Partial<ReleaseHostOptions> = { backoff: { firstMs: 200, maxMs: 800, resetAfterMs: 60_000 }, watchEveryMs: 100 };

async function installedV1(o: Partial<ReleaseHostOptions> = quick, archive = serviceArchive('v1')) {
  const root = agentRoot();
  const ip = hostIp();
  const blobs = new Blobs();
  const host = releaseHost(root, ip, blobs, o);
  await host.start();
  const outcome = await host.run(command(1), payload({ service, artifact: blobs.file(archive), config: blobs.file('x'), port }));
  assert.equal(outcome.exitCode, 0, outcome.error);
  return { root, ip, blobs, host, install: join(root, 'msec', 'Flight', 'mod_flight') };
}

const pidsOf = (install: string) => servicePids().filter((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`MSEC_INSTALL_DIR=${install}\0`));

describe('restarts', () => {
  test('given v1 running, when it is killed twice, then it comes back each time, the second wait twice the first', async () => {
    const { host, ip } = await installedV1();
    const waits: number[] = [];
    for (let i = 1; i <= 2; i++) {
      const before = host.installed()[0]!.pid;
      const killedAt = performance.now();
      process.kill(before, 'SIGKILL');
      await waitFor('the backoff state', () => host.installed()[0]!.state === 'backoff');
      const after = await waitFor('a new process', () => {
        const s = host.installed()[0]!;
        return s.state === 'running' && s.pid !== before && s.pid;
      });
      waits.push(performance.now() - killedAt);
      assert.notEqual(after, before);
      assert.equal(host.installed()[0]!.restarts, i);
      assert.equal(await waitFor('v1 answering', async () => (await answer(ip, port)) === 'v1' && 'v1'), 'v1');
    }
    assert.ok(waits[0]! >= 200, `first wait ${waits[0]} ms`);
    assert.ok(waits[1]! >= 400, `second wait ${waits[1]} ms`);
  });

  test('given a service that ignores SIGTERM, when uninstalled, then it is killed after the stop time limit', async () => {
    const stubborn = tgz([
      { name: 'version.txt', data: 'v1' },
      { name: 'start', mode: 0o755, data: `#!/bin/sh\nexec ${process.execPath} -e "process.on('SIGTERM',()=>{});const [h,p]=process.env.MSEC_LISTEN.split(':');require('net').createServer(s=>{s.on('error',()=>{});s.end('v1')}).listen(+p,h)"\n` },
    ]);
    const { host, ip, install } = await installedV1(quick, stubborn);
    const outcome = await host.run(command(2), payload({ service, operation: 'uninstall', stopTimeoutMs: 300 }));
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.match(outcome.output.toString(), /\[stopped\] killed Flight\.mod_flight \(pid \d+\): still running 300 ms after SIGTERM/);
    assert.deepEqual(pidsOf(install), []);
    assert.equal(await answer(ip, port), 'ECONNREFUSED');
  });
});

describe('agent restarts', () => {
  test('given v1 running and the agent killed (-9), when a new agent starts on the same root, then it adopts v1 without a second copy', async () => {
    const { root, ip, blobs, host, install } = await installedV1();
    const pid = host.installed()[0]!.pid;
    host.detach();
    const next = releaseHost(root, ip, blobs, quick);
    assert.equal(await next.start(), undefined, 'nothing was under way');
    assert.equal(next.installed()[0]!.pid, pid);
    assert.equal(next.installed()[0]!.state, 'running');
    assert.deepEqual(pidsOf(install), [pid]);
    // Adopted, so watched: when it dies, it is started again.
    process.kill(pid, 'SIGKILL');
    await waitFor('a new process', () => next.installed()[0]!.pid !== pid && next.installed()[0]!.state === 'running');
    assert.equal(await waitFor('v1 answering', async () => (await answer(ip, port)) === 'v1' && 'v1'), 'v1');
    assert.equal(pidsOf(install).length, 1);
  });

  test('given v1 died while no agent ran, when the agent starts, then it starts v1', async () => {
    const { root, ip, blobs, host } = await installedV1();
    const pid = host.installed()[0]!.pid;
    host.detach();
    process.kill(pid, 'SIGKILL');
    await waitFor('v1 gone', async () => (await answer(ip, port)) === 'ECONNREFUSED');
    const next = releaseHost(root, ip, blobs, quick);
    await next.start();
    assert.notEqual(next.installed()[0]!.pid, pid);
    assert.equal(await waitFor('v1 answering', async () => (await answer(ip, port)) === 'v1' && 'v1'), 'v1');
  });

  test('given the recorded pid now belongs to another program, when the agent starts, then that program is neither adopted nor signalled', async () => {
    const { root, ip, blobs, host } = await installedV1();
    const pid = host.installed()[0]!.pid;
    host.detach();
    process.kill(pid, 'SIGKILL');
    await waitFor('v1 gone', async () => (await answer(ip, port)) === 'ECONNREFUSED');
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
    try {
      const file = join(root, 'agent', 'services.json');
      const recorded = JSON.parse(readFileSync(file, 'utf8'));
      recorded.services[0].pid = stranger.pid;
      writeFileSync(file, JSON.stringify(recorded));
      const next = releaseHost(root, ip, blobs, quick);
      await next.start();
      assert.notEqual(next.installed()[0]!.pid, stranger.pid);
      assert.equal(stranger.exitCode, null);
      assert.doesNotThrow(() => process.kill(stranger.pid!, 0), 'the stranger was killed');
      assert.equal(await waitFor('v1 answering', async () => (await answer(ip, port)) === 'v1' && 'v1'), 'v1');
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  test('given v1 running, when the agent stops gracefully, then v1 stops, and the next agent starts it again', async () => {
    const { root, ip, blobs, host, install } = await installedV1();
    await host.stop();
    assert.deepEqual(pidsOf(install), []);
    assert.equal(host.installed()[0]!.state, 'stopped');
    const next = releaseHost(root, ip, blobs, quick);
    await next.start();
    assert.equal(await waitFor('v1 answering', async () => (await answer(ip, port)) === 'v1' && 'v1'), 'v1');
  });
});

describe('heartbeats', () => {
  test('given v1 running, then the heartbeat carries it, and the report encodes and decodes', async () => {
    const { host } = await installedV1();
    const services = host.installed();
    const heartbeat = {
      agentVersion: '0.1.0', intervalMs: 20_000, cpuPercent: 1, memTotalBytes: 1, memFreeBytes: 1, diskTotalBytes: 1, diskFreeBytes: 1, load1: 0, load5: 0, load15: 0,
      processes: 1, trustedKeyId: 'k', cpus: 2, hostname: 'h', services,
    };
    const decoded = decodeReportBody(encodeReportBody({ agent: '127.0.0.2', sequence: 1, atMs: 1, heartbeat } as ReportBody));
    const [s] = (decoded as unknown as { heartbeat: { services: typeof services } }).heartbeat.services;
    assert.equal(s!.service, service);
    assert.equal(s!.planId, 'plan-1');
    assert.equal(s!.state, 'running');
    assert.equal(s!.port, port);
    assert.equal(s!.pid, services[0]!.pid);
  });
});
