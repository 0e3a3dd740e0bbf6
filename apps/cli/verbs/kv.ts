/**
 * `msec kv …`: the Redis-cluster KV. Create a cluster on hosts (instances started by their
 * agents), expand, shrink, recover, fail over, delete — each a task carried out by the console,
 * its steps printed as they are recorded with --wait — and show a cluster as Redis reports it.
 */
import { boolOpt, integerArg, strOpt, usageLine } from '../args.ts';
import { seg, type ConsoleClient } from '../client.ts';
import { connect, connectStoppable, printDone, printJson, type Command, type Ctx, type MutationAnswer, type RunLine } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { formatTable, shortTime } from '../table.ts';

interface Step { step: string; ok: boolean; detail: string; atMs: number }
interface Task { taskId: string; kind: string; summary: string; outcome: string; error: string; steps: Step[]; startedAtMs: number; endedAtMs: number }
interface LiveInstance {
  setId: number; ip: string; port: number; role: string; master: string; slots: number; ranges: string; keys: number; memoryBytes: number; maxmemoryBytes: number;
  opsPerSec: number; hitRatio: number; lagBytes: number; linkUp: boolean; error: string;
}
interface ClusterAnswer {
  name: string; createdAt: string; createdBy: string; hosts: string[];
  settings: { replicas: number; memoryBytes: number; maxmemoryPolicy: string; basePort: number; nodeTimeoutMs: number; appendonly: boolean; memo: string };
  layout: { setId: number; ip: string; port: number; role: string }[];
  live: { state: string; slotsCovered: number; instances: LiveInstance[]; strangers: string[]; risks: string[] } | null;
  running: string; tasks: Task[];
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)}M`;
const waitOption = { wait: { type: 'boolean' as const, help: 'follow the task, printing each step, until it ends; exit 0 only if it succeeded' } };

/** Prints the task's steps as they are recorded until it ends; the exit code says how it ended. */
async function follow(ctx: Ctx, client: ConsoleClient, name: string, taskId: string, quiet: boolean): Promise<number> {
  let printed = 0;
  for (;;) {
    const { task } = await client.get<{ task: Task }>(`/api/kv/${seg(name)}/tasks/${seg(taskId)}`);
    if (!quiet) for (const s of task.steps.slice(printed)) ctx.out(`${s.step}${s.ok ? '' : ' FAILED'}: ${s.detail}\n`);
    printed = task.steps.length;
    if (task.outcome) {
      if (quiet) printJson(ctx, task);
      else ctx.out(`task ${task.kind} of ${name}: ${task.outcome}${task.error ? `: ${task.error}` : ''} (${((task.endedAtMs - task.startedAtMs) / 1000).toFixed(1)} s)\n`);
      return task.outcome === 'succeeded' ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Sends a task's request; with --wait follows it. */
async function runTask(ctx: Ctx, line: RunLine, method: 'POST' | 'DELETE', path: string, body: Record<string, unknown> | undefined, what: string): Promise<number | void> {
  const { client } = await connectStoppable(ctx, line);
  const name = line.args.NAME!;
  const answer = await client.send<MutationAnswer & { taskId: string; dead?: string[] }>(method, `/api/kv/${seg(name)}${path}`, { ...(body ? { body } : {}), reason: strOpt(line.opts, 'reason') });
  if (!boolOpt(line.opts, 'wait')) return printDone(ctx, line, `KV cluster ${name}: ${what} started (task ${answer.taskId})`, answer);
  if (line.opts.json !== true) ctx.out(`task ${answer.taskId}: ${what}${answer.dead?.length ? ` (not answering: ${answer.dead.join(', ')})` : ''}\n`);
  return follow(ctx, client, name, answer.taskId, line.opts.json === true);
}

const list: Command = {
  path: ['kv', 'list'],
  summary: 'the KV\'s Redis clusters',
  kind: 'query',
  positionals: [],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.get<{ clusters: { name: string; sets: number; instances: number; settings: ClusterAnswer['settings']; createdAt: string; running: Task | null }[] }>('/api/kv');
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(formatTable(['NAME', 'SETS', 'INSTANCES', 'MEMORY', 'PORTS', 'CREATED', 'TASK'], answer.clusters.map((c) => [
      c.name, c.sets, c.instances, mb(c.settings.memoryBytes), `${c.settings.basePort}+`, shortTime(c.createdAt), c.running ? `${c.running.kind} under way` : '',
    ]), { color: ctx.color }));
  },
};

const create: Command = {
  path: ['kv', 'create'],
  summary: 'create a Redis cluster: --sets N of 1 + --replicas R instances on --hosts, started by their agents, slots assigned evenly',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: {
    sets: { type: 'string', value: 'N', help: 'sets (a master and its replicas each)' },
    replicas: { type: 'string', value: 'R', help: 'replicas per set (default 1)' },
    memory: { type: 'string', value: 'SIZE', help: 'maxmemory per instance: 64mb, 1gb' },
    hosts: { type: 'string', value: 'IP[,IP...]', help: 'hosts with agents to place instances on (never two of a set on one host when there are enough)' },
    port: { type: 'string', value: 'PORT', help: 'first instance port (default: the next free block of 100 from 7000; the cluster bus is port + 10000)' },
    policy: { type: 'string', value: 'POLICY', help: 'maxmemory-policy (default allkeys-lru)' },
    'node-timeout': { type: 'string', value: 'MS', help: 'cluster-node-timeout (default 5000)' },
    'no-aof': { type: 'boolean', help: 'no append-only file: an instance restarted by its agent comes back empty' },
    memo: { type: 'string', value: 'M', help: 'a note' },
    ...waitOption,
  },
  async run(ctx, line) {
    const usage = usageLine(create);
    const int = (n: string) => integerArg(strOpt(line.opts, n), `--${n}`, usage);
    const hosts = (strOpt(line.opts, 'hosts') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const sets = int('sets');
    const memory = strOpt(line.opts, 'memory');
    if (sets === undefined) throw new UsageError('say how many sets: --sets N', usage);
    if (!memory) throw new UsageError('say how much memory each instance has: --memory 64mb', usage);
    if (!hosts.length) throw new UsageError('name the hosts: --hosts IP[,IP...]', usage);
    const body: Record<string, unknown> = { name: line.args.NAME!, sets, memory, hosts, appendonly: !boolOpt(line.opts, 'no-aof') };
    for (const [flag, key] of [['replicas', 'replicas'], ['port', 'port'], ['node-timeout', 'nodeTimeoutMs']] as const) {
      const v = int(flag);
      if (v !== undefined) body[key] = v;
    }
    for (const key of ['policy', 'memo'] as const) {
      const v = strOpt(line.opts, key);
      if (v !== undefined) body[key] = v;
    }
    const { client } = await connectStoppable(ctx, line);
    const answer = await client.send<MutationAnswer & { taskId: string }>('POST', '/api/kv', { body, reason: strOpt(line.opts, 'reason') });
    if (!boolOpt(line.opts, 'wait')) return printDone(ctx, line, `KV cluster ${line.args.NAME} created (task ${answer.taskId} starts its instances)`, answer);
    return follow(ctx, client, line.args.NAME!, answer.taskId, line.opts.json === true);
  },
};

const expand: Command = {
  path: ['kv', 'expand'],
  summary: 'add --sets N to a cluster (on its hosts and any --hosts); slots and keys move live, the fewest moved',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: { sets: { type: 'string', value: 'N', help: 'sets to add' }, hosts: { type: 'string', value: 'IP[,IP...]', help: 'more hosts the cluster may use' }, ...waitOption },
  async run(ctx, line) {
    const usage = usageLine(expand);
    const sets = integerArg(strOpt(line.opts, 'sets'), '--sets', usage);
    if (sets === undefined) throw new UsageError('say how many sets to add: --sets N', usage);
    const hosts = (strOpt(line.opts, 'hosts') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return runTask(ctx, line, 'POST', '/expand', { sets, ...(hosts.length ? { hosts } : {}) }, `expand by ${sets} set(s)`);
  },
};

const shrink: Command = {
  path: ['kv', 'shrink'],
  summary: 'remove --set ID from a cluster after moving its slots and keys to the other sets',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: { set: { type: 'string', value: 'ID', help: 'the set to remove (msec kv show lists them)' }, ...waitOption },
  async run(ctx, line) {
    const usage = usageLine(shrink);
    const set = integerArg(strOpt(line.opts, 'set'), '--set', usage);
    if (set === undefined) throw new UsageError('say which set to remove: --set ID', usage);
    return runTask(ctx, line, 'POST', '/shrink', { set }, `shrink: remove set ${set}`);
  },
};

const recover: Command = {
  path: ['kv', 'recover'],
  summary: 'replace the instances that do not answer (a dead master once its replica serves) with new replicas on live hosts',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: { ...waitOption },
  run: (ctx, line) => runTask(ctx, line, 'POST', '/recover', {}, 'recover'),
};

const failover: Command = {
  path: ['kv', 'failover'],
  summary: 'promote a replica to master of its set (replicas only, as MSEC)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }, { name: 'IP:PORT' }],
  options: { ...waitOption },
  run: (ctx, line) => runTask(ctx, line, 'POST', '/failover', { instance: line.args['IP:PORT']! }, `fail over to ${line.args['IP:PORT']}`),
};

const remove: Command = {
  path: ['kv', 'delete'],
  summary: 'delete a cluster: its instances stopped and removed by their agents (the data goes with them)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: { ...waitOption },
  run: (ctx, line) => runTask(ctx, line, 'DELETE', '', undefined, 'delete'),
};

const show: Command = {
  path: ['kv', 'show'],
  summary: 'a cluster as Redis reports it: sets, instances, roles, slots, keys, memory, ops/s, hit ratio, lag; risk flags; recent tasks',
  kind: 'query',
  positionals: [{ name: 'NAME' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const c = await client.get<ClusterAnswer>(`/api/kv/${seg(line.args.NAME!)}`);
    if (line.opts.json === true) return printJson(ctx, c);
    const s = c.settings;
    const live = c.live!;
    const keys = live.instances.filter((i) => i.role === 'master').reduce((n, i) => n + i.keys, 0);
    ctx.out(`KV cluster ${c.name}: ${live.state}, ${live.slotsCovered}/16384 slots covered, ${keys} keys\n`);
    ctx.out(`  ${s.replicas} replica(s) per set, ${mb(s.memoryBytes)} per instance (${s.maxmemoryPolicy}), ports from ${s.basePort}, node timeout ${s.nodeTimeoutMs} ms${s.appendonly ? ', AOF' : ''}\n`);
    ctx.out(`  hosts: ${c.hosts.join(', ')}${s.memo ? `\n  memo: ${s.memo}` : ''}\n`);
    ctx.out(formatTable(['SET', 'INSTANCE', 'ROLE', 'MASTER', 'SLOTS', 'KEYS', 'MEMORY', 'OPS/S', 'HIT', 'LAG'], live.instances.map((i) => [
      i.setId, `${i.ip}:${i.port}`, i.role, i.master, i.role === 'master' ? `${i.slots}${i.ranges && i.ranges.length < 30 ? ` (${i.ranges})` : ''}` : '', i.keys,
      i.role === 'down' ? '' : `${mb(i.memoryBytes)}/${mb(i.maxmemoryBytes)}`, i.opsPerSec, i.hitRatio < 0 ? '' : `${(i.hitRatio * 100).toFixed(0)}%`,
      i.lagBytes < 0 ? '' : `${i.lagBytes}B${i.linkUp ? '' : ' (link down)'}`,
    ]), { color: ctx.color }));
    if (live.risks.length) ctx.out(`risks:\n${live.risks.map((r) => `  ! ${r}\n`).join('')}`);
    if (c.tasks.length) {
      ctx.out('tasks:\n');
      ctx.out(formatTable(['TASK', 'KIND', 'STARTED', 'OUTCOME', 'SUMMARY'], c.tasks.slice(0, 10).map((t) => [
        t.taskId, t.kind, shortTime(new Date(t.startedAtMs).toISOString()), t.outcome || 'under way', `${t.summary}${t.error ? ` — ${t.error}` : ''}`,
      ]), { color: ctx.color }));
    }
  },
};

const endpoints: Command = {
  path: ['kv', 'endpoints'],
  summary: 'seed nodes for a Redis cluster client (ioredis Cluster, redis-cli -c): one IP:PORT a line, masters first',
  kind: 'query',
  positionals: [{ name: 'NAME' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.get<{ seeds: string[] }>(`/api/kv/${seg(line.args.NAME!)}/endpoints`);
    if (line.opts.json === true) return printJson(ctx, answer);
    if (!answer.seeds.length) throw new CliError(`no instance of ${line.args.NAME} answers (msec kv show ${line.args.NAME})`);
    ctx.out(answer.seeds.map((s) => `${s}\n`).join(''));
  },
};

const wait: Command = {
  path: ['kv', 'wait'],
  summary: 'follow the task under way on a cluster (or TASK) until it ends, printing its steps; exit 0 only if it succeeded',
  kind: 'query',
  positionals: [{ name: 'NAME' }, { name: 'TASK', optional: true }],
  async run(ctx, line) {
    const name = line.args.NAME!;
    const { client } = await connectStoppable(ctx, line);
    let taskId = line.args.TASK;
    if (!taskId) {
      const c = await client.get<ClusterAnswer>(`/api/kv/${seg(name)}`, { query: { live: 'false' } });
      taskId = c.running || c.tasks[0]?.taskId;
      if (!taskId) throw new CliError(`KV cluster ${name} has had no task`);
    }
    return follow(ctx, client, name, taskId, line.opts.json === true);
  },
};

export const kvCommands: readonly Command[] = [list, create, show, endpoints, expand, shrink, recover, failover, remove, wait];
