/**
 * `npm run bench -- kv`: the KV's expansion, per 100 000 keys moved. msec: 3 agents on
 * 127.0.1.41-43, `msec kv create bench --sets 3 --replicas 1`, N keys written (BENCH_KV_KEYS,
 * default 300 000, values ~20 bytes), then `msec kv expand bench --sets 1 --wait` timed end to
 * end, beside the task's own `rebalanced` figure (its slot migration alone). Baseline, in the
 * same run: the same Redis by hand on 127.0.1.51-53 — 6 redis-server with msec's settings,
 * `redis-cli --cluster create`, the same N keys, a master and a replica added with
 * `redis-cli --cluster add-node`, then `redis-cli --cluster rebalance --cluster-use-empty-masters`
 * timed, with its default pipeline (10 keys per MIGRATE) and with 500 (msec's batch). The setup
 * is not timed. After each run every key is read back and the 16 384 slots are checked.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, msec, msecAsync, msecJson, startUp, type Started } from '../tests/e2e/support.ts';
import { startAgent, type RunningAgent } from '../tests/e2e/agent-support.ts';
import { killProcessesUnder, processesIn } from '../tests/e2e/release-support.ts';
import { clusterClient, freePortBlock, readKeys, writeKeys } from '../tests/e2e/kv-support.ts';
import { trackChild } from '../tests/services/processes.ts';

const msecIps = ['127.0.1.41', '127.0.1.42', '127.0.1.43'];
const baselineIps = ['127.0.1.51', '127.0.1.52', '127.0.1.53'];
const nodeTimeoutMs = 5000;
const SLOTS = 16_384;

/** One expansion measured: keys moved, how long, what was checked after. */
interface Expansion { moved: number; ms: number; readBack: number; slots: number }

export async function benchKv(): Promise<void> {
  const keys = Number(process.env.BENCH_KV_KEYS ?? 300_000);
  const home = mkdtempSync(join(tmpdir(), 'msec-bench-kv-'));
  try {
    const m = await msecExpansion(join(home, 'msec'), keys);
    const b10 = await redisCliRebalance(join(home, 'baseline-10'), keys, 10);
    const b500 = await redisCliRebalance(join(home, 'baseline-500'), keys, 500);
    const per100k = (e: { moved: number; ms: number }) => (e.ms / e.moved) * 100_000;
    const rows: [string, { moved: number; ms: number }, string][] = [
      ['msec kv expand --wait, end to end', { moved: m.rebalance.moved, ms: m.endToEnd.ms }, 'CLI + 2 instances started by agents, joined, replica in sync, slots moved, cluster settled'],
      ['msec rebalanced step (task figure)', m.rebalance, 'slot migration alone: 500 keys per MIGRATE, 8 slots at once'],
      ['redis-cli --cluster rebalance, pipeline 10', b10, 'baseline: its default, 10 keys per MIGRATE, one slot at a time'],
      ['redis-cli --cluster rebalance, pipeline 500', b500, 'baseline: --cluster-pipeline 500, msec\'s batch'],
    ];
    console.log(`kv.expand: ${keys.toLocaleString('en-US')} keys of ~20 bytes on 3 sets × 1 replica → 4 sets (Redis ${redisVersion()}, 2 cores)`);
    console.log(`  ${'what'.padEnd(44)} ${'keys moved'.padStart(10)} ${'time ms'.padStart(8)} ${'ms/100k keys'.padStart(12)}  includes`);
    for (const [what, e, includes] of rows) {
      console.log(`  ${what.padEnd(44)} ${String(e.moved).padStart(10)} ${String(Math.round(e.ms)).padStart(8)} ${String(Math.round(per100k(e))).padStart(12)}  ${includes}`);
    }
    for (const [name, b] of [['pipeline_10', b10], ['pipeline_500', b500]] as const) {
      console.log(`kv.expand.ratio baseline.redis_cli_rebalance.${name}: msec end to end / baseline=${(per100k(m.endToEnd) / per100k(b)).toFixed(2)} msec rebalanced step / baseline=${(per100k(m.rebalance) / per100k(b)).toFixed(2)}  (ms per 100 000 keys moved; < 1 is faster than the baseline)`);
    }
    for (const [what, e] of [['msec', m.endToEnd], ['baseline pipeline 10', b10], ['baseline pipeline 500', b500]] as const) {
      console.log(`kv.expand.check ${what}: ${e.readBack}/${keys} keys read back with their value, ${e.slots}/${SLOTS} slots covered`);
    }
  } finally {
    const left = killProcessesUnder(home);
    if (left) console.log(`kv: ${left} process(es) left under ${home} killed`);
    rmSync(home, { recursive: true, force: true });
  }
}

/** msec: console, 3 agents, a 3×1 cluster with N keys; `msec kv expand --sets 1 --wait` timed. */
async function msecExpansion(home: string, keys: number): Promise<{ endToEnd: Expansion; rebalance: Expansion }> {
  let up: Started | undefined;
  const agents: RunningAgent[] = [];
  const client: { c?: ReturnType<typeof clusterClient> } = {};
  try {
    up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: 'bench-kv-pass-1', MSEC_LOG_LEVEL: 'warn' });
    const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'bench-kv-pass-1', MSEC_CONFIG_DIR: join(home, 'cli') };
    const ok = (args: string[]) => {
      const r = msec(args, env);
      if (r.code !== 0) throw new Error(`msec ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    for (const ip of msecIps) {
      const token = ok(['agent', 'token', '--ip', ip]).trim();
      agents.push(await startAgent(ip, join(home, `agent-${ip}`), { MSEC_CONSOLE: up.url, MSEC_LOG_LEVEL: 'warn' }, { token }));
    }
    const base = await freePortBlock(msecIps);
    const created = await msecAsync(['kv', 'create', 'bench', '--sets', '3', '--replicas', '1', '--memory', '64mb', '--hosts', msecIps.join(','),
      '--port', String(base), '--node-timeout', String(nodeTimeoutMs), '--wait'], env, 600_000);
    if (created.code !== 0) throw new Error(`msec kv create: ${created.stdout}\n${created.stderr}`);
    client.c = clusterClient(ok(['kv', 'endpoints', 'bench']).trim().split('\n'));
    await writeKeys(client.c, keys);

    const started = performance.now();
    const expanded = await msecAsync(['kv', 'expand', 'bench', '--sets', '1', '--wait'], env, 1_800_000);
    const ms = performance.now() - started;
    if (expanded.code !== 0) throw new Error(`msec kv expand: ${expanded.stdout}\n${expanded.stderr}`);

    type Show = { live: { slotsCovered: number }; tasks: { kind: string; steps: { step: string; detail: string }[] }[] };
    const shown = msecJson<Show>(['kv', 'show', 'bench'], env);
    const detail = shown.tasks.find((t) => t.kind === 'expand')?.steps.find((s) => s.step === 'rebalanced')?.detail ?? '';
    const figure = /(\d+) slot\(s\) and (\d+) key\(s\) moved in (\d+) ms/.exec(detail);
    if (!figure) throw new Error(`the expansion recorded no rebalanced step with its figure: ${JSON.stringify(detail)}`);
    const readBack = (await readKeys(client.c, keys)).right;
    const slots = shown.live.slotsCovered;
    return { endToEnd: { moved: Number(figure[2]), ms, readBack, slots }, rebalance: { moved: Number(figure[2]), ms: Number(figure[3]), readBack, slots } };
  } finally {
    client.c?.disconnect();
    for (const a of agents) await a.stop('SIGKILL');
    killProcessesUnder(home);
    if (up) {
      up.proc.kill('SIGTERM');
      await exited(up.proc);
    }
  }
}

/** The baseline: a cluster made by hand with redis-cli, N keys, a master and a replica added; the rebalance timed. */
async function redisCliRebalance(dir: string, keys: number, pipeline: number): Promise<Expansion> {
  const servers: ChildProcess[] = [];
  const client: { c?: ReturnType<typeof clusterClient> } = {};
  try {
    const base = await freePortBlock(baselineIps, 3);
    const nodes = [0, 1].flatMap((k) => baselineIps.map((ip) => `${ip}:${base + k}`));
    const [newMaster, newReplica] = [`${baselineIps[2]}:${base + 2}`, `${baselineIps[0]}:${base + 2}`];
    for (const node of nodes) servers.push(await startRedis(dir, node));
    redisCli(['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes']);
    await settled(nodes, 6);
    client.c = clusterClient(nodes);
    await writeKeys(client.c, keys);

    for (const node of [newMaster, newReplica]) servers.push(await startRedis(dir, node));
    redisCli(['--cluster', 'add-node', newMaster, nodes[0]!]);
    await settled([...nodes, newMaster], 7);
    const masterId = ask(newMaster, ['CLUSTER', 'MYID']).trim();
    redisCli(['--cluster', 'add-node', newReplica, nodes[0]!, '--cluster-slave', '--cluster-master-id', masterId]);
    await settled([...nodes, newMaster, newReplica], 8);

    const started = performance.now();
    await redisCliAsync(['--cluster', 'rebalance', nodes[0]!, '--cluster-use-empty-masters', ...(pipeline === 10 ? [] : ['--cluster-pipeline', String(pipeline)])]);
    const ms = performance.now() - started;

    const moved = Number(ask(newMaster, ['DBSIZE']).trim());
    const info = clusterInfo(nodes[0]!);
    const readBack = (await readKeys(client.c, keys)).right;
    return { moved, ms, readBack, slots: info.get('cluster_state') === 'ok' ? Number(info.get('cluster_slots_ok')) : 0 };
  } finally {
    client.c?.disconnect();
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => exited(s)));
    killProcessesUnder(dir);
  }
}

/** redis-server for `node` (ip:port), with the settings msec's agents write (apps/agent/kv/redis-config.ts). */
async function startRedis(dir: string, node: string): Promise<ChildProcess> {
  const [ip, port] = node.split(':') as [string, string];
  const data = join(dir, node.replace(':', '-'));
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'redis.conf'), [
    `bind ${ip}`, `bind-source-addr ${ip}`, `cluster-announce-ip ${ip}`, `replica-announce-ip ${ip}`, `port ${port}`,
    'protected-mode no', 'daemonize no', 'logfile redis.log', 'cluster-enabled yes', 'cluster-config-file nodes.conf',
    `cluster-node-timeout ${nodeTimeoutMs}`, 'cluster-allow-replica-migration no', 'cluster-require-full-coverage yes', 'dir .',
    'appendonly yes', 'appendfsync everysec', 'save ""', 'maxmemory 64mb', 'maxmemory-policy allkeys-lru', '',
  ].join('\n'));
  const proc = spawn('redis-server', ['redis.conf'], { cwd: data, stdio: 'ignore' });
  trackChild(proc);
  for (let i = 0; ask(node, ['PING'], true).trim() !== 'PONG'; i++) {
    if (proc.exitCode !== null || i > 200) throw new Error(`redis-server ${node} did not start (see ${data}/redis.log)`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (processesIn(data).length !== 1) throw new Error(`redis-server ${node}: not one process in ${data}`);
  return proc;
}

/** Until every node says cluster_state:ok, knows `known` nodes, and every replica's link is up. */
async function settled(nodes: string[], known: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const waiting = nodes.find((n) => {
      const info = clusterInfo(n);
      const replication = ask(n, ['INFO', 'replication']);
      return info.get('cluster_state') !== 'ok' || Number(info.get('cluster_known_nodes')) !== known
        || (/role:slave/.test(replication) && !/master_link_status:up/.test(replication));
    });
    if (!waiting) return;
    if (Date.now() > deadline) throw new Error(`the baseline cluster did not settle: ${waiting} says ${ask(waiting, ['CLUSTER', 'INFO'])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function clusterInfo(node: string): Map<string, string> {
  return new Map(ask(node, ['CLUSTER', 'INFO']).split(/\r?\n/).map((l) => l.split(':') as [string, string]));
}

/** One command to one node with redis-cli; `quiet`: '' instead of an error when it cannot connect. */
function ask(node: string, words: string[], quiet = false): string {
  const [ip, port] = node.split(':') as [string, string];
  const r = spawnSync('redis-cli', ['-h', ip, '-p', port, ...words], { encoding: 'utf8' });
  if (r.status !== 0 && !quiet) throw new Error(`redis-cli ${node} ${words.join(' ')}: ${r.stderr}`);
  return r.stdout ?? '';
}

function redisCli(args: string[]): void {
  const r = spawnSync('redis-cli', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')} exited ${r.status}:\n${r.stdout.slice(-2000)}\n${r.stderr}`);
}

/** redis-cli without blocking this process: what is timed. */
function redisCliAsync(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => (out = (out + d).slice(-4000)));
    proc.stderr.on('data', (d) => (out = (out + d).slice(-4000)));
    proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

function redisVersion(): string {
  return /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
}
