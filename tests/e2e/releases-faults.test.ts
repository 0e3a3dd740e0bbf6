/**
 * Releases that go wrong, on real agents and real processes (issue "Releases"): a host whose
 * artifact's start command exits — the plan ends partially failed with that host's output;
 * a failing canary stops the plan with the other hosts untouched; automatic rollback puts the
 * hosts released so far back on their previous version; an agent killed during a release comes
 * back and finishes it, installing nothing twice; and a malicious artifact writes nothing
 * outside the install.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, msec, msecAsync, msecJson, startUp, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { ask, echoServer, killProcessesUnder, processesIn, shellArtifact } from './release-support.ts';
import { freePort } from '../services/processes.ts';
import { spawnSync } from 'node:child_process';

const home = mkdtempSync(join(tmpdir(), 'msec-release-faults-'));
const ips = ['127.0.0.4', '127.0.0.5', '127.0.0.6'];
const spare = '127.0.0.7';
const agentRoot = (ip: string) => join(home, `agent-${ip}`);
const agents = new Map<string, RunningAgent>();
let up: Started | undefined;
after(async () => {
  for (const a of agents.values()) await a.stop('SIGKILL');
  for (const ip of [...ips, spare]) killProcessesUnder(agentRoot(ip));
  up?.proc.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

type Plan = { planId: string; status: string; detail: string; failedIps: string[]; rollbackReason: string; hosts: { ip: string; state: string; steps: { step: string; ok: boolean; operation: string }[]; error: string; output: string }[] };

test('failing hosts, canary stop, automatic rollback, an agent killed mid-release, a hostile artifact', { timeout: 900_000 }, async () => {
  up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: 'faults-admin-pass' });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'faults-admin-pass', MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const release = async (args: string[], verb = 'start') => {
    const id = ok(['release', 'create', 'Echo.mod_echo', '--hosts', ips.join(','), '--config', 'c1', '--health-timeout', '5', ...args]).stdout.trim();
    const r = await msecAsync(['release', verb, id, '--wait'], env, 300_000);
    return { id, code: r.code, out: r.stdout + r.stderr, plan: msecJson<Plan>(['release', 'show', id], env) };
  };
  const port = await freePort();
  const answers = async () => Promise.all(ips.map((ip) => ask(ip, port).catch((err: Error) => `down (${err.message})`)));

  ok(['service', 'create', 'Echo.mod_echo']);
  for (const ip of ips) ok(['host', 'add', 'Echo.mod_echo', `${ip}:${port}`]);
  writeFileSync(join(home, 'c1.ini'), '[LOG]\nLevel=INFO\n');
  ok(['config', 'put', 'Echo.mod_echo', 'c1', join(home, 'c1.ini')]);
  for (const ip of ips) {
    const token = ok(['agent', 'token', '--ip', ip]).stdout.trim();
    agents.set(ip, await startAgent(ip, agentRoot(ip), { MSEC_CONSOLE: up.url }, { token }));
  }
  const files = join(home, 'files');
  ok(['artifact', 'put', 'Echo.mod_echo', 'v1', shellArtifact(files, 'v1', echoServer('v1'))]);
  ok(['artifact', 'put', 'Echo.mod_echo', 'v2', shellArtifact(files, 'v2', echoServer('v2'))]);
  // v3 starts everywhere but on 127.0.0.6, where its start command exits with a message.
  ok(['artifact', 'put', 'Echo.mod_echo', 'v3', shellArtifact(files, 'v3', `if [ "$MSEC_HOST_IP" = 127.0.0.6 ]; then echo "cannot open /data/echo.db: no such file" >&2; exit 3; fi\n${echoServer('v3')}`)]);

  // v1 everywhere.
  const base = await release(['--artifact', 'v1']);
  assert.equal(base.code, 0, base.out);
  assert.deepEqual(await answers(), ips.map((ip) => `v1 ${ip}`));

  // v3 to all at once, no automatic rollback: partially failed, the failed host named with its output.
  const partial = await release(['--artifact', 'v3']);
  assert.notEqual(partial.code, 0, 'a plan that did not succeed exits non-zero');
  assert.equal(partial.plan.status, 'partially_failed');
  assert.deepEqual(partial.plan.failedIps, ['127.0.0.6']);
  const bad = partial.plan.hosts.find((h) => h.ip === '127.0.0.6')!;
  assert.equal(bad.state, 'failed');
  assert.match(bad.error + bad.output + JSON.stringify(bad.steps), /cannot open \/data\/echo\.db/, 'the failed host\'s output is shown');
  assert.match(partial.out, /cannot open \/data\/echo\.db/, 'and printed by the CLI');
  assert.deepEqual((await answers()).slice(0, 2), ['v3 127.0.0.4', 'v3 127.0.0.5']);
  console.log(`# partially failed plan ${partial.id}: ${partial.plan.detail}`);

  // Back to v2 everywhere (127.0.0.6 failed v3: it runs nothing until this).
  const v2 = await release(['--artifact', 'v2']);
  assert.equal(v2.code, 0, v2.out);
  assert.deepEqual(await answers(), ips.map((ip) => `v2 ${ip}`));

  // A canary on the failing host: the plan stops there, the other hosts stay on v2.
  const canaryFirst = ok(['release', 'create', 'Echo.mod_echo', '--hosts', ['127.0.0.6', '127.0.0.4', '127.0.0.5'].join(','), '--config', 'c1', '--artifact', 'v3', '--canary', '1', '--health-timeout', '5']).stdout.trim();
  const canary = await msecAsync(['release', 'start', canaryFirst, '--wait'], env, 300_000);
  const canaryPlan = msecJson<Plan>(['release', 'show', canaryFirst], env);
  assert.notEqual(canary.code, 0);
  assert.equal(canaryPlan.status, 'failed');
  assert.deepEqual(canaryPlan.hosts.map((h) => h.state), ['failed', 'waiting', 'waiting'], 'the rest never started');
  assert.deepEqual((await answers()).slice(0, 2), ['v2 127.0.0.4', 'v2 127.0.0.5']);

  // Automatic rollback: one host at a time, the failing one last; the hosts released so far go back to v2.
  ok(['release', 'rollback', canaryFirst]); // 127.0.0.6 back on v2 first
  await eventually('the canary host rolled back', () => msecJson<Plan>(['release', 'show', canaryFirst], env).status === 'rolled_back' || undefined, 60_000);
  assert.match(await ask('127.0.0.6', port), /^v2 /);
  const auto = await release(['--artifact', 'v3', '--batch', '1', '--auto-rollback']);
  assert.notEqual(auto.code, 0);
  assert.equal(auto.plan.status, 'rolled_back', auto.out);
  assert.match(auto.plan.rollbackReason, /127\.0\.0\.6 failed/);
  assert.deepEqual(auto.plan.hosts.map((h) => h.state), ['rolled-back', 'rolled-back', 'rolled-back']);
  assert.deepEqual(await answers(), ips.map((ip) => `v2 ${ip}`), 'every host is back on v2');
  console.log(`# automatic rollback of ${auto.id}: ${auto.plan.rollbackReason}`);

  // An agent killed before it takes its command: the plan waits; restarted, the agent finishes it.
  await agents.get('127.0.0.5')!.stop('SIGKILL');
  const killedPlan = ok(['release', 'create', 'Echo.mod_echo', '--hosts', ips.join(','), '--config', 'c1', '--artifact', 'v1', '--health-timeout', '5']).stdout.trim();
  ok(['release', 'start', killedPlan]);
  await eventually('the other hosts are done', () => {
    const p = msecJson<Plan>(['release', 'show', killedPlan], env);
    return p.hosts.filter((h) => h.state === 'installed').length === 2 && p;
  }, 60_000);
  assert.equal(msecJson<Plan>(['release', 'show', killedPlan], env).hosts.find((h) => h.ip === '127.0.0.5')!.state, 'installing');
  agents.set('127.0.0.5', await startAgent('127.0.0.5', agentRoot('127.0.0.5'), { MSEC_CONSOLE: up.url }));
  const resumed = await msecAsync(['release', 'wait', killedPlan], env, 300_000);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  const finished = msecJson<Plan>(['release', 'show', killedPlan], env);
  assert.equal(finished.status, 'succeeded');
  const installs = finished.hosts.find((h) => h.ip === '127.0.0.5')!.steps.filter((s) => s.step === 'installed');
  assert.equal(installs.length, 1, 'installed once');
  assert.deepEqual(await answers(), ips.map((ip) => `v1 ${ip}`));
  // The agent's restart did not start a second copy of the service it supervises.
  const bin = (ip: string) => join(agentRoot(ip), 'msec', 'Echo', 'mod_echo', 'bin');
  for (const ip of ips) assert.equal(processesIn(bin(ip)).length, 1, `one instance on ${ip}`);

  // Killed during its install (a start that takes 3 s): on restart the agent says so, the host is back on v1, and the plan shows it failed.
  ok(['artifact', 'put', 'Echo.mod_echo', 'slow', shellArtifact(files, 'slow', `sleep 3\n${echoServer('slow')}`)]);
  const slowPlan = ok(['release', 'create', 'Echo.mod_echo', '--hosts', '127.0.0.5', '--config', 'c1', '--artifact', 'slow', '--health-timeout', '20']).stdout.trim();
  ok(['release', 'start', slowPlan]);
  await eventually('the slow install has started', () => msecJson<Plan>(['release', 'show', slowPlan], env).hosts[0]!.state === 'installing'
    && existsSync(join(agentRoot('127.0.0.5'), 'agent', 'release-journal.json')), 30_000);
  await new Promise((r) => setTimeout(r, 800));
  await agents.get('127.0.0.5')!.stop('SIGKILL');
  agents.set('127.0.0.5', await startAgent('127.0.0.5', agentRoot('127.0.0.5'), { MSEC_CONSOLE: up.url }));
  const interrupted = await msecAsync(['release', 'wait', slowPlan], env, 300_000);
  const slow = msecJson<Plan>(['release', 'show', slowPlan], env);
  assert.notEqual(interrupted.code, 0);
  assert.equal(slow.status, 'failed', interrupted.stdout);
  assert.match(slow.hosts[0]!.error, /interrupted/);
  await eventually('127.0.0.5 answers v1 again', async () => /^v1 /.test(await ask('127.0.0.5', port).catch(() => '')) || undefined, 30_000);
  assert.equal(processesIn(bin('127.0.0.5')).length, 1, 'one instance on 127.0.0.5 after the interrupted install');

  // The capacity wizard: a new host gets the current release and is routed once healthy; taken out, it is drained, uninstalled and removed.
  const spareToken = ok(['agent', 'token', '--ip', spare]).stdout.trim();
  agents.set(spare, await startAgent(spare, agentRoot(spare), { MSEC_CONSOLE: up.url }, { token: spareToken }));
  const scaled = await msecAsync(['scale', 'Echo.mod_echo', '--add', spare, '--port', String(port), '--wait'], env, 300_000);
  assert.equal(scaled.code, 0, scaled.stdout + scaled.stderr);
  assert.match(await ask(spare, port), /^v1 127\.0\.0\.7$/, 'the new host runs the current release');
  const routed = msecJson<{ instances: { ip: string }[] }>(['route', 'Echo.mod_echo'], env).instances.map((i) => i.ip);
  assert.ok(routed.includes(spare), `the new host is routed: ${routed.join(',')}`);
  ok(['scale', 'Echo.mod_echo', '--drop', spare, '--drain', '0']);
  assert.ok(!msecJson<{ instances: { ip: string }[] }>(['route', 'Echo.mod_echo'], env).instances.some((i) => i.ip === spare), 'out of routing');
  await eventually('the spare host uninstalled', () => !existsSync(join(agentRoot(spare), 'msec', 'Echo', 'mod_echo')) || undefined, 30_000);
  assert.equal(processesIn(bin(spare)).length, 0, 'its instance stopped');
  const hostsLeft = msecJson<{ hosts: { ip: string }[] }>(['service', 'show', 'Echo.mod_echo'], env).hosts.map((x) => x.ip);
  assert.deepEqual(hostsLeft.sort(), ips, 'removed from the service');

  // A hostile artifact (entries climbing out of the install, a link to elsewhere): refused on the host, nothing written outside, v1 still runs.
  const crafted = join(home, 'crafted.tgz');
  const made = spawnSync('python3', ['-c', `
import io, tarfile, sys
with tarfile.open(sys.argv[1], 'w:gz') as t:
    def add(name, data, mode=0o755):
        i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; t.addfile(i, io.BytesIO(data))
    add('start', b'#!/bin/sh\\nexit 0\\n')
    add('../../escaped', b'pwned')
    link = tarfile.TarInfo('etc-link'); link.type = tarfile.SYMTYPE; link.linkname = '/etc'; t.addfile(link)
    add('etc-link/escaped-through-link', b'pwned')
`, crafted], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  ok(['artifact', 'put', 'Echo.mod_echo', 'evil', crafted]);
  const hostile = await release(['--artifact', 'evil']);
  assert.notEqual(hostile.code, 0);
  assert.equal(hostile.plan.status, 'failed');
  for (const ip of ips) {
    for (const path of [join(agentRoot(ip), 'msec', 'escaped'), join(agentRoot(ip), 'msec', 'Echo', 'escaped'), '/etc/escaped-through-link']) {
      assert.ok(!existsSync(path), `nothing written outside the install (${path})`);
    }
  }
  assert.deepEqual(await answers(), ips.map((ip) => `v1 ${ip}`), 'the previous version still runs');
});
