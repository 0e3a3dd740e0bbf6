/**
 * A host's part of a release (apps/agent/releases/release-host.ts), on real processes and files:
 * given what is installed, when an install, rollback or uninstall runs, then these steps, these
 * files and this service answering on its port — or, when something is wrong, nothing touched and
 * the previous install still answering.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { decodeReleaseOutcome, type ReleasePayload, type ReleaseStep } from '../../../../schemas/agent.ts';
import type { Outcome } from '../../../../apps/agent/executors.ts';
import type { ReleaseHost } from '../../../../apps/agent/releases/release-host.ts';
import {
  Blobs, agentRoot, answer, command, crashingArchive, hostIp, payload, releaseHost, removeBase, serviceArchive, snapshot, teardown, tgz,
} from './fixtures.ts';

afterEach(teardown);
after(removeBase);

const service = 'Flight.mod_flight';
const port = 7100;
let sequence = 0;

const stepsOf = (o: Outcome): ReleaseStep[] => decodeReleaseOutcome(o.data!);
const stepLine = (o: Outcome) => stepsOf(o).map((s) => `${s.step}:${s.ok ? 'ok' : 'FAILED'}`).join(' ');

/** A host with `Flight.mod_flight` v1 installed by plan-1 and answering. */
async function hostWithV1() {
  const root = agentRoot();
  const ip = hostIp();
  const blobs = new Blobs();
  const host = releaseHost(root, ip, blobs);
  await host.start();
  const v1 = payload({ service, artifact: blobs.file(serviceArchive('v1')), config: blobs.file('[SRPC]\nlisten=v1\n'), libraries: [blobs.file('lib v1', 'libflight.so')], port });
  const outcome = await run(host, v1);
  assert.equal(outcome.exitCode, 0, outcome.error);
  return { root, ip, blobs, host, install: join(root, 'msec', 'Flight', 'mod_flight') };
}

function run(host: ReleaseHost, p: ReleasePayload, lines?: string[]): Promise<Outcome> {
  return host.run(command(++sequence), p, (_offset, data) => lines?.push(data.toString()));
}

describe('install', () => {
  test('given an empty host, when a complete release is installed, then every step passes and it answers on its port', async () => {
    const root = agentRoot();
    const ip = hostIp();
    const blobs = new Blobs();
    const host = releaseHost(root, ip, blobs);
    await host.start();
    const lines: string[] = [];
    const p = payload({ service, artifact: blobs.file(serviceArchive('v1')), config: blobs.file('[SRPC]\n'), libraries: [blobs.file('lib', 'libflight.so')], port });
    const outcome = await run(host, p, lines);
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.equal(stepLine(outcome), 'pushed:ok backed-up:ok stopped:ok installed:ok started:ok healthy:ok');
    assert.equal(await answer(ip, port), 'v1');
    const install = join(root, 'msec', 'Flight', 'mod_flight');
    assert.equal(readFileSync(join(install, 'etc', 'config.ini'), 'utf8'), '[SRPC]\n');
    assert.equal(readFileSync(join(install, 'bin', 'lib', 'libflight.so'), 'utf8'), 'lib');
    assert.ok(statSync(join(install, 'bin', 'start')).mode & 0o100);
    const record = JSON.parse(readFileSync(join(install, 'etc', 'msec-install.json'), 'utf8'));
    assert.equal(record.planId, 'plan-1');
    assert.equal(record.artifactSha256, p.artifact!.sha256);
    assert.ok(existsSync(join(root, 'msec', '.backup', 'plan-1', service, 'msec-no-previous-install')), 'a first install records that there was none');
    assert.match(lines.join(''), /^\[pushed\] fetched the artifact/m);
    assert.match(lines.join(''), /^\[backed-up\] Flight\.mod_flight was not installed here/m);
    const [installed] = host.installed();
    assert.equal(installed!.service, service);
    assert.equal(installed!.state, 'running');
    assert.equal(installed!.port, port);
    assert.ok(installed!.pid > 0);
  });

  test('given v1 running, when only the config is released, then only etc/config.ini changes and the service restarts', async () => {
    const { host, blobs, ip, install } = await hostWithV1();
    const pidBefore = host.installed()[0]!.pid;
    const binBefore = snapshot(join(install, 'bin'));
    // An artifact named too is not for an only_config release: neither fetched nor installed.
    const outcome = await run(host, payload({ service, planId: 'plan-2', releaseType: 'only_config', config: blobs.file('[SRPC]\nlisten=v2\n'), artifact: blobs.file(serviceArchive('v9')), port }));
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.equal(stepLine(outcome), 'pushed:ok backed-up:ok stopped:ok installed:ok started:ok healthy:ok');
    assert.equal(readFileSync(join(install, 'etc', 'config.ini'), 'utf8'), '[SRPC]\nlisten=v2\n');
    assert.deepEqual(snapshot(join(install, 'bin')), binBefore, 'bin/ was touched');
    assert.doesNotMatch(outcome.output.toString(), /the artifact/);
    assert.notEqual(host.installed()[0]!.pid, pidBefore, 'the service was not restarted');
    assert.equal(await answer(ip, port), 'v1');
  });

  test('given v1 with a library, when only the artifact is released, then bin/ is new but bin/lib/ is kept', async () => {
    const { host, blobs, ip, install } = await hostWithV1();
    const outcome = await run(host, payload({ service, planId: 'plan-2', releaseType: 'only_artifact', artifact: blobs.file(serviceArchive('v2', [{ name: 'lib/libnew.so', data: 'from the build' }])), port }));
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.equal(await answer(ip, port), 'v2');
    assert.deepEqual(snapshot(join(install, 'bin', 'lib')), { 'libflight.so': 'lib v1' });
    assert.equal(readFileSync(join(install, 'etc', 'config.ini'), 'utf8'), '[SRPC]\nlisten=v1\n');
  });

  test('given v1, when only a library is released, then only that library file changes', async () => {
    const { host, blobs, install } = await hostWithV1();
    const before = snapshot(join(install, 'bin'));
    const outcome = await run(host, payload({ service, planId: 'plan-2', releaseType: 'only_library', libraries: [blobs.file('lib v2', 'libflight.so'), blobs.file('extra', 'libextra.so')], port }));
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.deepEqual(snapshot(join(install, 'bin')), { ...before, 'lib/libflight.so': 'lib v2', 'lib/libextra.so': 'extra' });
  });

  test('given a start that exits, when installed, then health fails with its stderr in the detail and the outcome fails', async () => {
    const root = agentRoot();
    const ip = hostIp();
    const blobs = new Blobs();
    const host = releaseHost(root, ip, blobs);
    await host.start();
    const outcome = await run(host, payload({ service, artifact: blobs.file(crashingArchive('config.ini: no [SRPC] section')), config: blobs.file('x'), port, healthTimeoutMs: 5000 }));
    assert.equal(outcome.exitCode, -1);
    assert.equal(stepLine(outcome), 'pushed:ok backed-up:ok stopped:ok installed:ok started:ok healthy:FAILED');
    const healthy = stepsOf(outcome).at(-1)!;
    assert.match(healthy.detail, /exited with code 3 before its port/);
    assert.match(healthy.detail, /log\/stderr\.log ---\nconfig\.ini: no \[SRPC\] section/);
    assert.match(healthy.detail, /log\/stdout\.log ---\nabout to give up/);
    assert.match(outcome.error, /^healthy failed: the service exited with code 3/);
  });

  test('given a port nothing listens on, when the service stays up but silent, then health fails after its time limit', async () => {
    const root = agentRoot();
    const ip = hostIp();
    const blobs = new Blobs();
    const host = releaseHost(root, ip, blobs);
    await host.start();
    const silent = tgz([{ name: 'start', mode: 0o755, data: '#!/bin/sh\necho waiting\nexec sleep 60\n' }]);
    const outcome = await run(host, payload({ service, artifact: blobs.file(silent), config: blobs.file('x'), port, healthTimeoutMs: 700 }));
    assert.equal(outcome.exitCode, -1);
    assert.match(stepsOf(outcome).at(-1)!.detail, /did not answer within 700 ms \(ECONNREFUSED\)[^]*stdout\.log ---\nwaiting/);
  });
});

describe('refused installs touch nothing', () => {
  test('given v1 running, when a fetched file does not match its digest, then pushed fails and v1 is untouched and still runs', async () => {
    const { host, blobs, ip, install, root } = await hostWithV1();
    const before = { bin: snapshot(join(install, 'bin')), etc: snapshot(join(install, 'etc')) };
    const pid = host.installed()[0]!.pid;
    const config = blobs.file('[SRPC]\nnew\n');
    blobs.set(config.sha256, Buffer.from('[SRPC]\nswapped by whoever answers\n'));
    const outcome = await run(host, payload({ service, planId: 'plan-2', artifact: blobs.file(serviceArchive('v2')), config, port }));
    assert.equal(outcome.exitCode, -1);
    assert.equal(stepLine(outcome), 'pushed:FAILED');
    assert.match(outcome.error, /the config: the fetched file does not match the signed digest/);
    assert.deepEqual({ bin: snapshot(join(install, 'bin')), etc: snapshot(join(install, 'etc')) }, before);
    assert.equal(existsSync(join(root, 'msec', '.backup', 'plan-2')), false, 'a backup was made');
    assert.equal(host.installed()[0]!.pid, pid);
    assert.equal(await answer(ip, port), 'v1');
  });

  test('given a complete release without its config, or a partial one on an empty host, then pushed fails and nothing is made', async () => {
    const root = agentRoot();
    const blobs = new Blobs();
    const host = releaseHost(root, hostIp(), blobs);
    await host.start();
    const noConfig = await run(host, payload({ service, artifact: blobs.file(serviceArchive('v1')), port }));
    assert.equal(stepLine(noConfig), 'pushed:FAILED');
    assert.match(noConfig.error, /needs the artifact and the config file/);
    const onlyConfig = await run(host, payload({ service, releaseType: 'only_config', config: blobs.file('x'), port }));
    assert.match(onlyConfig.error, /not installed on this host.*release it complete first/);
    assert.deepEqual(snapshot(join(root, 'msec')), {});
  });

  test('given a bad service name, then the outcome fails with no step and nothing is made', async () => {
    const root = agentRoot();
    const host = releaseHost(root, hostIp(), new Blobs());
    const outcome = await run(host, payload({ service: '../../etc' }));
    assert.equal(outcome.exitCode, -1);
    assert.match(outcome.error, /not First\.Second/);
    assert.deepEqual(stepsOf(outcome), []);
    assert.equal(existsSync(join(root, 'msec')), false);
  });

  for (const [what, entries] of [
    ['`../evil`', [{ name: '../evil', data: 'x' }]],
    ['an absolute path', [{ name: '/tmp/msec-release-evil', data: 'x' }]],
    ['a symlink to /etc and a file written through it', [{ name: 'etc', type: '2', linkName: '/etc' }, { name: 'etc/msec-evil', data: 'x' }]],
    ['a hard link', [{ name: 'passwd', type: '1', linkName: '/etc/passwd' }]],
    ['a huge size claim', [{ name: 'huge', claimedSize: 4 * 1024 ** 3 - 1 }]],
    ['no start at its top', [{ name: 'package/start', mode: 0o755, data: '#!/bin/sh\n' }]],
  ] as const) {
    test(`given v1 running, when the artifact has ${what}, then installed fails before the stop and v1 still runs`, async () => {
      const { host, blobs, ip, install, root } = await hostWithV1();
      const before = { bin: snapshot(join(install, 'bin')), etc: snapshot(join(install, 'etc')) };
      const pid = host.installed()[0]!.pid;
      const outcome = await run(host, payload({ service, planId: 'plan-2', artifact: blobs.file(tgz([...serviceArchiveEntries(), ...entries])), config: blobs.file('new'), port }));
      assert.equal(outcome.exitCode, -1);
      assert.equal(stepLine(outcome), 'pushed:ok backed-up:ok installed:FAILED');
      if (what === 'no start at its top') assert.match(outcome.error, /no executable `start` at its top/);
      assert.match(outcome.error, /the running install was not touched/);
      assert.deepEqual({ bin: snapshot(join(install, 'bin')), etc: snapshot(join(install, 'etc')) }, before);
      assert.equal(Object.keys(snapshot(join(root, 'msec', 'Flight'))).filter((k) => !k.startsWith('mod_flight/')).length, 0, 'a staging folder was left');
      assert.equal(existsSync('/tmp/msec-release-evil'), false);
      assert.equal(existsSync('/etc/msec-evil'), false);
      assert.equal(host.installed()[0]!.pid, pid);
      assert.equal(await answer(ip, port), 'v1');
    });
  }
});

/** The entries of a good build but for `start` (the hostile tests add theirs, start included or not). */
function serviceArchiveEntries() {
  return [{ name: 'version.txt', data: 'v2' }];
}

describe('rollback and uninstall', () => {
  test('given v1 then v2 by plan-2, when plan-2 rolls back, then v1 runs again from the backup', async () => {
    const { host, blobs, ip, install } = await hostWithV1();
    const v2 = await run(host, payload({ service, planId: 'plan-2', artifact: blobs.file(serviceArchive('v2')), config: blobs.file('[SRPC]\nlisten=v2\n'), port }));
    assert.equal(v2.exitCode, 0, v2.error);
    assert.equal(await answer(ip, port), 'v2');
    appendFileSync(join(install, 'log', 'stderr.log'), 'v2 went wrong\n');
    const back = await run(host, payload({ service, planId: 'plan-2', operation: 'rollback', releaseType: '', port }));
    assert.equal(back.exitCode, 0, back.error);
    assert.equal(stepLine(back), 'stopped:ok restored:ok started:ok healthy:ok');
    assert.equal(await answer(ip, port), 'v1');
    assert.equal(readFileSync(join(install, 'etc', 'config.ini'), 'utf8'), '[SRPC]\nlisten=v1\n');
    assert.equal(host.installed()[0]!.planId, 'plan-1');
    assert.match(readFileSync(join(install, 'log', 'stderr.log'), 'utf8'), /v2 went wrong/, 'the logs of v2 stay with the install');
  });

  test('given a plan that installed twice on a host, when it rolls back, then the host is back on what ran before the plan', async () => {
    const { host, blobs, ip } = await hostWithV1();
    for (const version of ['v2', 'v3']) {
      const o = await run(host, payload({ service, planId: 'plan-2', artifact: blobs.file(serviceArchive(version)), config: blobs.file(version), port }));
      assert.equal(o.exitCode, 0, o.error);
    }
    assert.equal(await answer(ip, port), 'v3');
    assert.equal((await run(host, payload({ service, planId: 'plan-2', operation: 'rollback', port }))).exitCode, 0);
    assert.equal(await answer(ip, port), 'v1');
  });

  test('given a first-ever install, when its plan rolls back, then the install is removed and no longer supervised', async () => {
    const { host, ip, root } = await hostWithV1();
    const back = await run(host, payload({ service, operation: 'rollback', port }));
    assert.equal(back.exitCode, 0, back.error);
    assert.equal(stepLine(back), 'stopped:ok removed:ok');
    assert.equal(existsSync(join(root, 'msec', 'Flight')), false);
    assert.deepEqual(host.installed(), []);
    assert.equal(await answer(ip, port), 'ECONNREFUSED');
  });

  test('given no backup of the plan on this host, when it rolls back, then it fails and v1 keeps running', async () => {
    const { host, ip } = await hostWithV1();
    const pid = host.installed()[0]!.pid;
    const back = await run(host, payload({ service, planId: 'plan-9', operation: 'rollback', port }));
    assert.equal(back.exitCode, -1);
    assert.equal(stepLine(back), 'restored:FAILED');
    assert.match(back.error, /no backup of Flight\.mod_flight for plan plan-9 on this host/);
    assert.equal(host.installed()[0]!.pid, pid);
    assert.equal(await answer(ip, port), 'v1');
  });

  test('given v1 running, when uninstalled, then it stops, its install is gone, the backups stay', async () => {
    const { host, ip, root } = await hostWithV1();
    const outcome = await run(host, payload({ service, operation: 'uninstall', port }));
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.equal(stepLine(outcome), 'stopped:ok removed:ok');
    assert.equal(existsSync(join(root, 'msec', 'Flight', 'mod_flight')), false);
    assert.ok(existsSync(join(root, 'msec', '.backup', 'plan-1', service)));
    assert.deepEqual(host.installed(), []);
    assert.equal(await answer(ip, port), 'ECONNREFUSED');
  });
});
