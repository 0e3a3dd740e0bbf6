/**
 * The Redis-cluster KV end to end (issue "Redis-cluster KV"), on real redis-server processes
 * started by real agents on 127.0.0.31-33: create 3 sets × 1 replica, write 100 000 keys with a
 * cluster client, expand to 4 sets (keys read meanwhile), shrink back to 3, kill -9 a host (its
 * agent and its instances) and recover, fail over a replica. After each step every key reads
 * back with its value and all 16 384 slots are covered.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { eventually, msec, msecAsync, msecJson, startUp, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { killProcessesUnder } from './release-support.ts';
import { readdirSync, readlinkSync } from 'node:fs';
import { clusterClient, freePortBlock, readKeys, writeKeys } from './kv-support.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-kv-'));
const ips = ['127.0.0.31', '127.0.0.32', '127.0.0.33'];
const agents = new Map<string, RunningAgent>();
const rootOf = (ip: string) => join(home, `agent-${ip}`);
let up: Started | undefined;
let client: Cluster | undefined;
after(async () => {
  const warnings = (up?.output() ?? '').split('\n').filter((l) => l.includes('KV cluster'));
  if (warnings.length) console.log(`# the console said:\n${warnings.slice(-20).map((l) => `#   ${l.slice(0, 400)}`).join('\n')}`);
  client?.disconnect();
  for (const a of agents.values()) await a.stop('SIGKILL');
  for (const ip of ips) killProcessesUnder(rootOf(ip));
  up?.proc.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

type Live = { state: string; slotsCovered: number; risks: string[]; instances: { setId: number; ip: string; port: number; role: string; slots: number; keys: number; linkUp: boolean }[] };
type Show = { layout: { setId: number; ip: string; port: number }[]; live: Live; tasks: { kind: string; outcome: string; steps: { step: string }[] }[] };
const KEYS = 100_000;

/** Live processes whose working folder is under `root` (redis-server runs in its data folder). */
function redisProcessesUnder(root: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(`${root}/`)) n++;
    } catch { /* gone */ }
  }
  return n;
}

test('a KV cluster: create 3×1, 100 000 keys, expand, shrink, kill -9 a host and recover, fail over; every key read back after each', { timeout: 900_000 }, async () => {
  up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: 'kv-admin-pass', MSEC_KV_METRICS_MS: '2000' });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'kv-admin-pass', MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const task = async (args: string[]) => {
    const started = performance.now();
    const r = await msecAsync(['kv', ...args, '--wait'], env, 600_000);
    const ms = performance.now() - started;
    console.log(`# msec kv ${args.join(' ')} --wait (${(ms / 1000).toFixed(1)} s):\n${r.stdout.trim().split('\n').map((l) => `#   ${l}`).join('\n')}`);
    assert.equal(r.code, 0, `msec kv ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
    return r;
  };
  const show = () => msecJson<Show>(['kv', 'show', 'cache'], env);
  const checkAll = async (when: string) => {
    const s = show();
    assert.equal(s.live.slotsCovered, 16_384, `${when}: every slot is covered (${JSON.stringify(s.live.risks)})`);
    assert.equal(s.live.state, 'ok', `${when}: the cluster is ok`);
    const read = await readKeys(client!, KEYS);
    console.log(`# ${when}: ${read.right} of ${KEYS} keys read back with their value${read.errors.length ? ` (errors: ${read.errors.join('; ')})` : ''}`);
    assert.equal(read.right, KEYS, `${when}: every key reads back (${read.errors.join('; ')})`);
    return s;
  };

  for (const ip of ips) {
    const token = ok(['agent', 'token', '--ip', ip]).stdout.trim();
    agents.set(ip, await startAgent(ip, rootOf(ip), { MSEC_CONSOLE: up.url }, { token }));
  }
  const base = await freePortBlock(ips);

  // Bad input: one line on stderr, a non-zero exit, nothing written.
  const auditCount = () => msecJson<{ entries: unknown[] }>(['audit', '--limit', '1000'], env).entries.length;
  const before = auditCount();
  const refusedLine = (args: string[], pattern: RegExp) => {
    const r = msec(['kv', ...args], env);
    assert.notEqual(r.code, 0, `msec kv ${args.join(' ')} must fail`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('usage: ')).length, 1, `one line: ${r.stderr}`);
  };
  const good = ['--sets', '3', '--memory', '64mb', '--hosts', ips.join(','), '--port', String(base)];
  refusedLine(['create', 'Bad/Name', ...good], /lowercase letter/);
  refusedLine(['create', 'cache', ...good.slice(0, 2), '--memory', '64xb', ...good.slice(4)], /64mb or 1gb/);
  refusedLine(['create', 'cache', ...good, '--policy', 'lru\nslaveof x'], /maxmemory policy must be one of/);
  refusedLine(['create', 'cache', '--sets', '3', '--memory', '64mb', '--hosts', '127.0.0.39', '--port', String(base)], /127\.0\.0\.39 has no enrolled agent/);
  refusedLine(['create', 'cache', '--sets', 'x', '--memory', '64mb', '--hosts', ips[0]!], /--sets/);
  refusedLine(['show', 'nosuch'], /no KV cluster nosuch/);
  refusedLine(['expand', 'nosuch', '--sets', '1'], /no KV cluster nosuch/);
  assert.equal(auditCount(), before, 'refused requests write nothing');

  // Create: 3 sets of a master and a replica on 3 hosts; never two of a set on one host, one master per host.
  await task(['create', 'cache', '--sets', '3', '--replicas', '1', '--memory', '64mb', '--hosts', ips.join(','), '--port', String(base), '--node-timeout', '2000']);
  let s = show();
  assert.equal(s.live.instances.length, 6);
  for (const set of [1, 2, 3]) {
    const members = s.live.instances.filter((i) => i.setId === set);
    assert.equal(new Set(members.map((m) => m.ip)).size, 2, `set ${set} is on two hosts`);
    assert.deepEqual(members.map((m) => m.role).sort(), ['master', 'replica']);
  }
  assert.deepEqual(s.live.instances.filter((i) => i.role === 'master').map((i) => i.ip).sort(), [...ips].sort(), 'one master per host');
  assert.deepEqual(s.live.instances.filter((i) => i.role === 'master').map((i) => i.slots).sort(), [5461, 5461, 5462]);
  assert.deepEqual(s.live.risks, []);
  // The hosts view shows what each agent supervises, from its heartbeats: two instances each, running.
  const supervised = await eventually('every agent reports its two instances', () => {
    const hosts = msecJson<{ agents: { ip: string; kvInstances: { cluster: string; port: number; state: string }[] }[] }>(['agents'], env).agents;
    const byIp = new Map(hosts.map((a) => [a.ip, a.kvInstances.filter((i) => i.cluster === 'cache' && i.state === 'running').map((i) => i.port).sort()]));
    return ips.every((ip) => byIp.get(ip)?.join() === s.live.instances.filter((i) => i.ip === ip).map((i) => i.port).sort().join()) && byIp;
  }, 15_000);
  console.log(`# msec agents: ${[...supervised].map(([ip, ports]) => `${ip} supervises cache:${ports.join(', cache:')}`).join('; ')}`);
  // The table's KV column (aligned under its heading) counts them.
  const [heading, ...rows] = ok(['agents']).stdout.split('\n');
  const at = heading!.search(/\bKV\b/);
  for (const ip of ips) assert.equal(rows.find((r) => r.startsWith(ip))?.slice(at).split(/\s+/)[0], '2', `${ip}: 2 under KV in\n${heading}\n${rows.join('\n')}`);

  const seeds = ok(['kv', 'endpoints', 'cache']).stdout.trim().split('\n');
  assert.equal(seeds.length, 6);
  client = clusterClient(seeds);
  const wrote = performance.now();
  await writeKeys(client, KEYS);
  console.log(`# wrote ${KEYS} keys in ${Math.round(performance.now() - wrote)} ms`);
  await checkAll('after create');

  // The instances' metrics reach the metric views, under RESERVED.kv (the console samples them).
  const master1 = s.live.instances.find((i) => i.role === 'master')!;
  const keysCurve = await eventually('the KV metrics are in the views', () => {
    const r = msec(['metrics', 'RESERVED.kv', '--list', '--json'], env);
    if (r.code !== 0) return false;
    const names = (JSON.parse(r.stdout) as { names: string[] }).names;
    return names.includes(`kv.cache.${master1.port}.keys`) && names.includes(`kv.cache.${master1.port}.ops_per_sec`) ? names : false;
  }, 60_000);
  console.log(`# KV metrics in the views: ${keysCurve.filter((n) => n.startsWith(`kv.cache.${master1.port}.`)).join(', ')} (and the same for every instance)`);

  // Expand to 4 sets while a reader keeps reading: keys move live, no read fails.
  let reading = true;
  let reads = 0;
  const readErrors: string[] = [];
  const reader = (async () => {
    for (let i = 0; reading; i = (i + 1) % KEYS) {
      reads++;
      await client!.get(`key:${(i * 7919) % KEYS}`).catch((e: Error) => readErrors.push(e.message));
    }
  })();
  await task(['expand', 'cache', '--sets', '1']);
  reading = false;
  await reader;
  console.log(`# during the expansion: ${reads} reads, ${readErrors.length} failed`);
  assert.equal(readErrors.length, 0, `no read fails while slots move (${[...new Set(readErrors)].slice(0, 3).join('; ')})`);
  s = await checkAll('after expand to 4 sets');
  const masters = s.live.instances.filter((i) => i.role === 'master');
  assert.equal(masters.length, 4);
  assert.ok(masters.every((m) => m.slots === 4096), `4096 slots each: ${masters.map((m) => m.slots)}`);
  const expandTask = s.tasks.find((t) => t.kind === 'expand')!;
  assert.ok(expandTask.steps.some((x) => x.step === 'rebalanced'), 'the expansion recorded its rebalance');

  // Shrink back to 3: set 4's slots and keys go to the others, its instances are removed from their hosts.
  await task(['shrink', 'cache', '--set', '4']);
  s = await checkAll('after shrink to 3 sets');
  assert.equal(s.layout.length, 6);
  assert.deepEqual(s.live.instances.filter((i) => i.role === 'master').map((i) => i.slots).sort(), [5461, 5461, 5462]);

  // A host dies: kill -9 its agent and every instance under its root (one of them a master).
  const victim = s.live.instances.find((i) => i.role === 'master')!.ip;
  await agents.get(victim)!.stop('SIGKILL');
  agents.delete(victim);
  assert.ok(killProcessesUnder(rootOf(victim)) >= 1);
  const down = await eventually('the cluster serves every slot again (a replica promoted)', () => {
    const v = show();
    return v.live.slotsCovered === 16_384 && v.live.instances.filter((i) => i.role === 'master').length === 3 ? v : false;
  }, 60_000);
  assert.ok(down.live.risks.some((r) => r.includes(victim) && r.includes('does not answer')), `the dead instances are flagged: ${JSON.stringify(down.live.risks)}`);
  assert.ok(down.live.risks.some((r) => /replica\(s\) in sync/.test(r)), 'a set short of replicas is flagged');
  await checkAll(`with ${victim} dead (replicas promoted)`);
  await task(['recover', 'cache']);
  s = await checkAll('after recover');
  assert.ok(s.live.instances.every((i) => i.ip !== victim && i.role !== 'down'), 'the dead instances were replaced on live hosts');
  assert.equal(s.live.instances.length, 6);
  for (const set of [1, 2, 3]) assert.equal(new Set(s.live.instances.filter((i) => i.setId === set).map((i) => i.ip)).size, 2, `set ${set} is on two hosts again`);
  assert.deepEqual(s.live.risks.filter((r) => !/masters are on/.test(r)), [], 'no risk left but masters crowded on the two live hosts');

  // The dead host comes back: its agent carries out the removals it missed; nothing old rejoins.
  agents.set(victim, await startAgent(victim, rootOf(victim), { MSEC_CONSOLE: up.url }));
  await eventually(`the old instances on ${victim} are removed by its agent`, () => redisProcessesUnder(rootOf(victim)) === 0 || false, 60_000);
  s = show();
  assert.equal(s.live.instances.length, 6);
  assert.deepEqual(s.live.risks.filter((r) => !/masters are on/.test(r)), [], 'no stranger, nothing down');

  // Fail over a replica: it becomes its set's master; a master is refused (as MSEC).
  const replica = s.live.instances.find((i) => i.role === 'replica' && i.linkUp)!;
  const master = s.live.instances.find((i) => i.role === 'master')!;
  const refused = msec(['kv', 'failover', 'cache', `${master.ip}:${master.port}`], env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /is a master: fail over one of its replicas/);
  await task(['failover', 'cache', `${replica.ip}:${replica.port}`]);
  s = await checkAll('after failover');
  assert.equal(s.live.instances.find((i) => i.ip === replica.ip && i.port === replica.port)!.role, 'master');
});
