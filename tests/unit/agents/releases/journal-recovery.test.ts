/**
 * Nothing is installed twice, and nothing is left half done (apps/agent/releases/journal.ts):
 * given a release operation under way when the agent dies, when the next agent starts on the same
 * root, then the host is back on the plan's previous install (running), and the interrupted
 * command is reported failed, once, naming the step it died in.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import type { ReleaseHost } from '../../../../apps/agent/releases/release-host.ts';
import type { JournalEntry } from '../../../../apps/agent/releases/journal.ts';
import { Blobs, agentRoot, answer, command, hostIp, payload, releaseHost, removeBase, serviceArchive, servicePids, teardown, tgz, waitFor } from './fixtures.ts';

afterEach(teardown);
after(removeBase);

const service = 'Flight.mod_flight';
const port = 7100;
/** Up, but its port never answers: the install waits in `healthy`, where the test "kills" the agent. */
const silent = tgz([{ name: 'start', mode: 0o755, data: '#!/bin/sh\nexec sleep 60\n' }]);

const journalOf = (root: string): JournalEntry | undefined => {
  try {
    return JSON.parse(readFileSync(join(root, 'agent', 'release-journal.json'), 'utf8')) as JournalEntry;
  } catch {
    return undefined;
  }
};
const pidsOf = (install: string) => servicePids().filter((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`MSEC_INSTALL_DIR=${install}\0`));

async function emptyHost(fetchHangs?: Set<string>) {
  const root = agentRoot();
  const ip = hostIp();
  const blobs = new Blobs();
  const fetchBlob = async (sha256: string) => {
    if (fetchHangs?.has(sha256)) return new Promise<Buffer>(() => undefined);
    const blob = blobs.get(sha256);
    if (!blob) throw new Error('404');
    return blob;
  };
  const host = releaseHost(root, ip, blobs, { fetchBlob });
  await host.start();
  return { root, ip, blobs, host, install: join(root, 'msec', 'Flight', 'mod_flight') };
}

/** Starts an operation, waits for its journal to reach `step`, then drops the agent as kill -9 would. */
async function killDuring(root: string, host: ReleaseHost, run: Promise<unknown>, step: string): Promise<void> {
  await waitFor(`the journal at ${step}`, () => journalOf(root)?.step === step);
  host.detach();
  await run;
  assert.equal(journalOf(root)?.step, step, 'the journal must outlive the agent');
}

describe('an interrupted release is repaired when the agent starts', () => {
  test('given v1, when the agent dies while v2 waits to be healthy, then v1 is restored and running, and the command reported failed', async () => {
    const { root, ip, blobs, host, install } = await emptyHost();
    assert.equal((await host.run(command(1), payload({ service, artifact: blobs.file(serviceArchive('v1')), config: blobs.file('v1'), port }))).exitCode, 0);
    const v2 = host.run(command(2), payload({ service, planId: 'plan-2', artifact: blobs.file(silent), config: blobs.file('v2'), port, healthTimeoutMs: 60_000 }));
    await killDuring(root, host, v2, 'healthy');

    const next = releaseHost(root, ip, blobs);
    const interrupted = await next.start();
    assert.ok(interrupted);
    assert.equal(interrupted.commandId, command(2).commandId);
    assert.equal(interrupted.sequence, 2);
    assert.equal(interrupted.action, 'release');
    assert.equal(interrupted.exitCode, -1);
    assert.equal(interrupted.error, 'interrupted: the agent restarted during healthy; the previous install was restored');
    assert.equal(await waitFor('v1 answering', async () => (await answer(ip, port)) === 'v1' && 'v1'), 'v1');
    assert.equal(readFileSync(join(install, 'etc', 'config.ini'), 'utf8'), 'v1');
    assert.equal(pidsOf(install).length, 1, 'v2 (sleep) must be stopped, v1 alone running');
    assert.equal(journalOf(root), undefined);
    assert.equal(next.installed()[0]!.planId, 'plan-1');

    const again = releaseHost(root, ip, blobs);
    next.detach();
    assert.equal(await again.start(), undefined, 'reported once only');
  });

  test('given v1, when the agent dies while v2 is being fetched, then nothing had changed and v1 was never stopped', async () => {
    const hangs = new Set<string>();
    const { root, ip, blobs, host, install } = await emptyHost(hangs);
    assert.equal((await host.run(command(1), payload({ service, artifact: blobs.file(serviceArchive('v1')), config: blobs.file('v1'), port }))).exitCode, 0);
    const pid = host.installed()[0]!.pid;
    const slow = blobs.file(serviceArchive('v2'));
    hangs.add(slow.sha256);
    const v2 = host.run(command(2), payload({ service, planId: 'plan-2', artifact: slow, config: blobs.file('v2'), port }));
    await killDuring(root, host, v2, 'pushed');

    const next = releaseHost(root, ip, blobs);
    const interrupted = await next.start();
    assert.equal(interrupted?.error, 'interrupted: the agent restarted during pushed; nothing had been changed');
    assert.equal(next.installed()[0]!.pid, pid, 'v1 is adopted, not restarted');
    assert.deepEqual(pidsOf(install), [pid]);
    assert.equal(await answer(ip, port), 'v1');
  });

  test('given an empty host, when the agent dies during the first install, then the install is removed', async () => {
    const { root, ip, blobs, host, install } = await emptyHost();
    const first = host.run(command(1), payload({ service, artifact: blobs.file(silent), config: blobs.file('v1'), port, healthTimeoutMs: 60_000 }));
    await killDuring(root, host, first, 'healthy');

    const next = releaseHost(root, ip, blobs);
    const interrupted = await next.start();
    assert.match(interrupted!.error, /^interrupted: the agent restarted during healthy; the install was removed/);
    assert.equal(existsSync(install), false);
    assert.deepEqual(next.installed(), []);
    assert.deepEqual(pidsOf(install), []);
  });
});
