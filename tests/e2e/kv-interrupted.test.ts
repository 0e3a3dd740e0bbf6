/**
 * KV tasks cut short (issue "Redis-cluster KV"): the console killed (kill -9) in the middle of an
 * expansion, with slots half-migrated, resumes it when it comes back; an agent killed while its
 * instance is being started resumes it when it returns; an agent that stays away fails the task
 * cleanly (nothing moved, every key still served), and `msec kv recover` then removes the set
 * that never served. After each, every key reads back and no slot is left open.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { eventually, msec, msecAsync, msecJson, startRole, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { killProcessesUnder } from './release-support.ts';
import { clusterClient, freePortBlock, readKeys, writeKeys } from './kv-support.ts';
import { freePort } from '../services/processes.ts';
import { RedisAdmin } from '../../apps/console/kv/redis-admin.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-kv-cut-'));
const ips = ['127.0.0.41', '127.0.0.42', '127.0.0.43'];
const agents = new Map<string, RunningAgent>();
const rootOf = (ip: string) => join(home, `agent-${ip}`);
const redis = new RedisAdmin();
let up: Started | undefined;
let client: Cluster | undefined;
after(async () => {
  client?.disconnect();
  redis.close();
  for (const a of agents.values()) await a.stop('SIGKILL');
  for (const ip of ips) killProcessesUnder(rootOf(ip));
  up?.proc.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

type Task = { taskId: string; kind: string; outcome: string; error: string; steps: { step: string; detail: string }[] };
type Show = { layout: { setId: number; ip: string; port: number; taskId: string }[]; running: string; tasks: Task[]; live: { state: string; slotsCovered: number; risks: string[]; instances: { ip: string; port: number; role: string }[] } };
const KEYS = 60_000;

test('KV tasks cut short by a killed console or agent resume, or fail cleanly, never leaving a slot half-migrated unsaid', { timeout: 900_000 }, async () => {
  const port = await freePort();
  const consoleEnv = { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: 'kv-cut-pass', MSEC_KV_AGENT_TIMEOUT_MS: '8000' };
  const startConsole = () => startRole('up', join(home, 'console'), consoleEnv, ['--port', String(port)]);
  up = await startConsole();
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'kv-cut-pass', MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const show = () => msecJson<Show>(['kv', 'show', 'c1'], env);
  /** Open slots (migrating or importing) as the instances themselves say; `instances` when the console is down. */
  const openSlots = async (instances = show().live.instances) => {
    let open = 0;
    for (const i of instances.filter((x) => x.role !== 'down')) {
      const mine = String(await redis.call(i.ip, i.port, 'CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'));
      open += (mine?.match(/\[\d+-[<>]-/g) ?? []).length;
    }
    return open;
  };
  const checkAll = async (when: string) => {
    const s = show();
    assert.equal(s.live.slotsCovered, 16_384, `${when}: every slot covered (${JSON.stringify(s.live.risks)})`);
    assert.equal(await openSlots(), 0, `${when}: no slot is left open`);
    const read = await readKeys(client!, KEYS);
    console.log(`# ${when}: ${read.right} of ${KEYS} keys read back with their value`);
    assert.equal(read.right, KEYS, `${when}: ${read.errors.join('; ')}`);
  };
  const follow = async (when: string) => {
    const r = await msecAsync(['kv', 'wait', 'c1'], env, 600_000);
    console.log(`# ${when}, msec kv wait c1:\n${r.stdout.trim().split('\n').filter((l) => !l.startsWith('migrate')).map((l) => `#   ${l}`).join('\n')}`);
    return r;
  };

  for (const ip of ips) {
    const token = ok(['agent', 'token', '--ip', ip]).trim();
    agents.set(ip, await startAgent(ip, rootOf(ip), { MSEC_CONSOLE: up.url }, { token }));
  }
  const base = await freePortBlock(ips);
  const created = await msecAsync(['kv', 'create', 'c1', '--sets', '2', '--replicas', '1', '--memory', '64mb', '--hosts', ips.join(','), '--port', String(base), '--node-timeout', '2000', '--wait'], env, 300_000);
  assert.equal(created.code, 0, created.stdout + created.stderr);
  client = clusterClient(ok(['kv', 'endpoints', 'c1']).trim().split('\n'));
  await writeKeys(client, KEYS);
  await checkAll('after create');

  // 1. The console is killed in the middle of the expansion's migration, then started again.
  ok(['kv', 'expand', 'c1', '--sets', '1']);
  await eventually('the expansion is moving slots', () => show().tasks[0]!.steps.some((s) => s.step.startsWith('migrate')), 120_000);
  const layout = show().layout.map((i) => ({ ...i, role: 'master' }));
  up.proc.kill('SIGKILL');
  await new Promise((r) => up!.proc.once('exit', r));
  const open = await openSlots(layout);
  console.log(`# console killed during the migration: ${open} slot(s) open at that moment`);
  up = await startConsole();
  const resumed = await follow('after the console came back');
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  const expanded = show();
  assert.equal(expanded.tasks[0]!.outcome, 'succeeded');
  if (open > 0) assert.ok(expanded.tasks[0]!.steps.some((s) => s.step === 'open slots finished'), 'the slots left open were finished and said so');
  await checkAll('after the resumed expansion');

  // 2. An agent is killed as the next expansion starts its instance there, and comes back: the task goes on.
  const answer = JSON.parse(ok(['kv', 'expand', 'c1', '--sets', '1', '--json'])) as { taskId: string };
  const placed = show().layout.filter((i) => i.taskId === answer.taskId);
  const host = placed[0]!.ip;
  await agents.get(host)!.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  agents.set(host, await startAgent(host, rootOf(host), { MSEC_CONSOLE: up.url }));
  const goneOn = await follow(`after the agent of ${host} came back`);
  assert.equal(goneOn.code, 0, goneOn.stdout + goneOn.stderr);
  await checkAll('after the expansion whose agent was killed');

  // 3. The agents are away (killed; their instances keep serving): the next expansion cannot start
  // its instances and fails cleanly, nothing moved; recover then removes the set that never served.
  const before = show().live.instances.filter((i) => i.role === 'master').length;
  for (const [ip, a] of agents) {
    await a.stop('SIGKILL');
    agents.delete(ip);
  }
  ok(['kv', 'expand', 'c1', '--sets', '1']);
  const failed = await follow('with every agent gone');
  assert.notEqual(failed.code, 0, 'the task fails');
  const f = show().tasks[0]!;
  assert.equal(f.outcome, 'failed');
  assert.match(f.error, /could not be started|did not answer/);
  assert.match(f.error, /no slot is left half-migrated|left open by the task were finished/, 'the end says what became of the slots');
  assert.ok(!f.steps.some((s) => s.step.startsWith('migrate')), 'nothing moved before the instances ran');
  assert.equal(show().live.instances.filter((i) => i.role === 'master').length, before, 'the cluster serves as before');
  await checkAll('after the failed expansion');
  for (const ip of ips) agents.set(ip, await startAgent(ip, rootOf(ip), { MSEC_CONSOLE: up.url }));
  await eventually('the agents are up again', () => {
    const lines = ok(['agents']).split('\n');
    return ips.every((ip) => lines.some((l) => l.startsWith(ip) && /\balive\b/.test(l)));
  });
  const recovered = await msecAsync(['kv', 'recover', 'c1', '--wait'], env, 300_000);
  console.log(`# msec kv recover c1 --wait:\n${recovered.stdout.trim().split('\n').map((l) => `#   ${l}`).join('\n')}`);
  assert.equal(recovered.code, 0, recovered.stdout + recovered.stderr);
  const s = show();
  assert.ok(s.live.instances.every((i) => i.role !== 'down'), 'nothing down is left in the layout');
  assert.deepEqual(s.live.risks.filter((r) => !/masters are on/.test(r)), []);
  await checkAll('after recover');
});
