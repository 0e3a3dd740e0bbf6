/**
 * Carries out the KV's tasks (create, expand, shrink, recover, failover, delete), one per
 * cluster at a time. Each task is a reconciliation toward what the task asked for, read from
 * Redis itself every time it runs: a console restarted mid-task (or a second console) picks the
 * task up and goes on from what the instances say, never from memory. Instances are started and
 * removed by the hosts' agents (signed `kv` commands); the console joins them, assigns and
 * migrates slots (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) and waits for the
 * cluster to agree. Every step is an event with an id derived from (task, step), so repeating
 * a step records nothing twice. A task that cannot go on ends failed, after closing any slot it
 * left open, saying so.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { kvClusterDecider, planSlotMoves, formatRanges, KV_SLOTS, type KvClusterState, type KvCommand, type KvInstanceState, type KvTaskState } from '../../../domain/kv/index.ts';
import { DomainError } from '../../../domain/decider.ts';
import { streams } from '../../../domain/streams.ts';
import { findAgent, outcomeOf } from '../../../projections/agents.ts';
import { busyKvClusters } from '../../../projections/kv.ts';
import type { CommandBus, CommandMeta } from '../command-bus.ts';
import { issueCommand } from '../agents/command-issuer.ts';
import type { CommandKeys } from '../agents/command-keys.ts';
import type { ConsoleReads } from '../reads.ts';
import { KeyedDriver } from '../keyed-driver.ts';
import type { KvPayload } from '../../../schemas/agent.ts';
import { stepId } from '../releases/plan-runner.ts';
import { isFailing, isMaster, nodeAddress, type ClusterNode } from './cluster-nodes.ts';
import { RedisAdmin, RedisUnreachable } from './redis-admin.ts';
import { readLive } from './live.ts';

export interface KvTaskRunnerOptions {
  commands: CommandBus;
  reads: ConsoleReads;
  keys: CommandKeys;
  logger: Logger;
  redis?: RedisAdmin;
  clock?: () => number;
  pollMs?: number;
  /** How long an agent has to start or stop an instance (the command's lifetime). */
  agentTimeoutMs?: number;
  /** How long the cluster has to agree (joins, replication, a failover) before the task fails. */
  settleTimeoutMs?: number;
}

/** A task cannot go on: it ends failed with this message. */
export class KvTaskFailed extends Error {}

const addr = (i: { ip: string; port: number }) => `${i.ip}:${i.port}`;
/** Keys moved per MIGRATE. */
const migrateBatch = 500;
/** Slots migrated at once between two masters. */
const parallelSlots = 8;
/** Slots per recorded progress step of a migration. */
const progressEvery = 256;
/** An instance removed while its agent is down: the command waits this long for the agent. */
const removeTtlMs = 24 * 3600_000;

export class KvTaskRunner {
  readonly redis: RedisAdmin;
  private readonly clock: () => number;
  private readonly tries = new Map<string, number>();
  private readonly driver: KeyedDriver;

  constructor(private readonly o: KvTaskRunnerOptions) {
    this.clock = o.clock ?? Date.now;
    this.redis = o.redis ?? new RedisAdmin();
    this.driver = new KeyedDriver({
      keys: () => busyKvClusters(this.o.reads.kv()).map((c) => c.name),
      drive: (name) => this.drive(name),
      failed: (name, err) => this.o.logger.warn({ err, cluster: name }, `KV cluster ${name}: ${err.message}; trying again`),
      pollMs: o.pollMs ?? 250,
    });
  }

  start(): void {
    this.driver.start();
  }

  async stop(): Promise<void> {
    await this.driver.stop();
    this.redis.close();
  }

  /** Drives the cluster's task now (a no-op while it is being driven). */
  nudge(name: string): void {
    this.driver.nudge(name);
  }

  private get stopped(): boolean {
    return this.driver.isStopped;
  }

  private async state(name: string): Promise<KvClusterState> {
    return this.o.commands.state(streams.kvCluster(name), kvClusterDecider);
  }

  private async drive(name: string): Promise<void> {
    const state = await this.state(name);
    const task = state.tasks.find((t) => t.taskId === state.running);
    if (!task) return;
    const t = new Task(this, name, task);
    try {
      await t.run(state);
      if (this.stopped) return;
      await this.record({ type: 'EndKvTask', name, taskId: task.taskId, outcome: 'succeeded', error: '', atMs: this.clock() }, stepId(task.taskId, 'end'));
      this.o.logger.info({ cluster: name, task: task.taskId, kind: task.kind }, `KV cluster ${name}: ${task.kind} succeeded`);
    } catch (caught) {
      if (this.stopped) return;
      let err = caught as Error;
      if (!(err instanceof KvTaskFailed)) {
        // Something unexpected (an instance that stopped answering mid-step): the task is tried
        // again from what Redis says; past a few tries it fails instead of looping.
        const tries = (this.tries.get(task.taskId) ?? 0) + 1;
        this.tries.set(task.taskId, tries);
        if (tries < 5) throw err;
        err = new KvTaskFailed(`${err.message} (tried ${tries} times)`);
      }
      // Never leave a slot half-migrated without saying so: close what is open, then end.
      let open = '';
      try {
        const closed = await t.closeOpenSlots(await this.state(name));
        if (closed) open = ` (${closed} slot(s) left open by the task were finished)`;
        else open = ' (no slot is left half-migrated)';
      } catch (e) {
        open = ` (slots may be left open: ${(e as Error).message}; msec kv recover ${name} finishes them)`;
      }
      await this.record({ type: 'EndKvTask', name, taskId: task.taskId, outcome: 'failed', error: `${err.message}${open}`, atMs: this.clock() }, stepId(task.taskId, 'end'));
      this.o.logger.warn({ cluster: name, task: task.taskId, kind: task.kind }, `KV cluster ${name}: ${task.kind} failed: ${err.message}`);
    }
  }

  meta(taskId: string, commandId: string): CommandMeta {
    return { commandId, actor: 'msec', reason: `KV task ${taskId}`, at: this.clock() };
  }

  async record(command: KvCommand, commandId: string): Promise<void> {
    await this.o.commands.execute(streams.kvCluster(command.name), kvClusterDecider, command, this.meta(command.taskId, commandId));
  }

  get options(): KvTaskRunnerOptions {
    return this.o;
  }

  get now(): number {
    return this.clock();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/** One run of one task: the steps of its kind, each safe to repeat. */
class Task {
  private readonly redis: RedisAdmin;
  private readonly settleMs: number;

  constructor(private readonly r: KvTaskRunner, private readonly name: string, private readonly task: KvTaskState) {
    this.redis = r.redis;
    this.settleMs = r.options.settleTimeoutMs ?? 60_000;
  }

  async run(state: KvClusterState): Promise<void> {
    switch (this.task.kind) {
      case 'create': {
        const mine = state.instances.filter((i) => i.taskId === this.task.taskId);
        await this.startInstances(state, mine);
        await this.join(state);
        await this.assignOrphanSlots(state);
        await this.replicate(state, mine.filter((i) => i.role === 'replica'));
        await this.settle(state);
        return;
      }
      case 'expand': {
        const mine = state.instances.filter((i) => i.taskId === this.task.taskId);
        await this.startInstances(state, mine);
        await this.join(state);
        await this.replicate(state, mine.filter((i) => i.role === 'replica'));
        await this.closeOpenSlots(state);
        await this.rebalance(state, setsOf(state));
        await this.settle(state);
        return;
      }
      case 'shrink': {
        const gone = state.instances.filter((i) => i.setId === this.task.setId);
        await this.closeOpenSlots(state);
        await this.rebalance(state, setsOf(state).filter((s) => s !== this.task.setId));
        await this.removeInstances(state, gone, `set ${this.task.setId} shrunk away`);
        await this.settle(await this.r.options.commands.state(streams.kvCluster(this.name), kvClusterDecider));
        return;
      }
      case 'recover':
        return this.recover(state);
      case 'failover':
        return this.failover(state);
      case 'delete': {
        await this.removeInstances(state, state.instances, 'the cluster is deleted');
        return;
      }
    }
  }

  // ---- steps ----------------------------------------------------------------------------------

  private async step(step: string, detail: string, ok = true, key = step): Promise<void> {
    await this.r.record({ type: 'RecordKvStep', name: this.name, taskId: this.task.taskId, step, ok, detail, atMs: this.r.now }, stepId(this.task.taskId, 'step', key));
  }

  private fail(message: string): never {
    throw new KvTaskFailed(message);
  }

  /** Each instance started by its host's agent (fresh: no old data), all at once; each must answer. */
  private async startInstances(state: KvClusterState, instances: KvInstanceState[]): Promise<void> {
    const todo = [];
    for (const i of instances) if (!(await this.redis.answers(i.ip, i.port))) todo.push(i);
    const results = await Promise.all(todo.map((i) => this.agentCommand(state, i, 'start')));
    const failed = results.filter((x) => !x.ok);
    for (const [n, i] of todo.entries()) await this.step(`start ${addr(i)}`, results[n]!.ok ? results[n]!.detail : results[n]!.error, results[n]!.ok);
    if (failed.length) this.fail(`${failed.length} instance(s) could not be started: ${failed.map((f) => f.error).join('; ')}`);
  }

  private async agentCommand(state: KvClusterState, i: KvInstanceState, operation: 'start' | 'stop' | 'remove', options: { waitMs?: number } = {}): Promise<{ ok: boolean; detail: string; error: string; pending?: boolean }> {
    const s = state.settings!;
    const o = this.r.options;
    const commandId = stepId(this.task.taskId, 'agent', operation, addr(i));
    const ttlMs = operation === 'remove' ? removeTtlMs : (o.agentTimeoutMs ?? 60_000);
    try {
      await issueCommand(o.commands, o.keys, {
        ip: i.ip, action: 'kv', ttlMs, summary: `${operation} Redis instance ${addr(i)} of KV cluster ${this.name}`, paths: [`kv/${this.name}/${i.port}`],
        payload: {
          cluster: this.name, operation, port: i.port, maxmemoryBytes: s.memoryBytes, maxmemoryPolicy: s.maxmemoryPolicy as KvPayload['maxmemoryPolicy'], nodeTimeoutMs: s.nodeTimeoutMs,
          appendonly: s.appendonly, fresh: operation === 'start', healthTimeoutMs: 20_000, stopTimeoutMs: 10_000,
        },
      }, this.r.meta(this.task.taskId, commandId));
    } catch (err) {
      if (err instanceof DomainError) return { ok: false, detail: '', error: `${i.ip}: ${err.message}` };
      throw err;
    }
    const deadline = performance.now() + (options.waitMs ?? ttlMs + 5000);
    while (performance.now() < deadline && !this.r.isStopped) {
      const outcome = outcomeOf(o.reads.agents(), i.ip, commandId);
      if (outcome?.kind === 'refused') return { ok: false, detail: '', error: `the agent of ${i.ip} refused: ${outcome.reason}${outcome.detail ? ` (${outcome.detail})` : ''}` };
      if (outcome) {
        const text = Buffer.from(outcome.output, 'base64').toString('utf8').trim();
        return outcome.exitCode === 0 ? { ok: true, detail: text || `${operation} done on ${addr(i)}`, error: '' } : { ok: false, detail: text, error: `${addr(i)}: ${outcome.error || text || `exit code ${outcome.exitCode}`}` };
      }
      await sleep(100);
    }
    if (this.r.isStopped) this.fail('the console is stopping');
    return { ok: false, detail: '', error: `the agent of ${i.ip} did not answer in time (is it down? msec agents)`, pending: true };
  }

  /** Every live instance of the layout knows every other (CLUSTER MEET), and none is still in handshake. */
  private async join(state: KvClusterState): Promise<void> {
    const live: KvInstanceState[] = [];
    for (const i of state.instances) if (await this.redis.answers(i.ip, i.port)) live.push(i);
    if (live.length === 0) this.fail('no instance of the cluster answers');
    const seed = live[0]!;
    const known = new Set((await this.redis.nodes(seed.ip, seed.port)).map(nodeAddress));
    const meet = live.filter((i) => !known.has(addr(i)));
    for (const i of meet) await this.redis.call(seed.ip, seed.port, 'CLUSTER', 'MEET', i.ip, i.port);
    await this.until(`every instance knows the ${live.length} others`, async () => {
      for (const i of live) {
        const nodes = await this.redis.nodes(i.ip, i.port);
        const seen = new Set(nodes.filter((n) => !n.flags.includes('handshake')).map(nodeAddress));
        if (live.some((x) => !seen.has(addr(x)))) return false;
      }
      return true;
    });
    if (meet.length) await this.step('join', `${meet.map(addr).join(', ')} joined the cluster (${live.length} instances)`, true, `join ${meet.map(addr).join(',')}`);
  }

  /** The live view, failing the task when no instance answers. */
  private async view(state: KvClusterState): Promise<{ nodes: ClusterNode[]; byAddress: Map<string, ClusterNode> }> {
    let best: ClusterNode[] = [];
    for (const i of state.instances) {
      try {
        const nodes = await this.redis.nodes(i.ip, i.port);
        if (nodes.length > best.length) best = nodes;
      } catch { /* another instance's view will do */ }
    }
    if (!best.length) this.fail('no instance of the cluster answers');
    return { nodes: best, byAddress: new Map(best.map((n) => [nodeAddress(n), n])) };
  }

  /** The node that serves a set now: its live master (holding slots first). */
  private masterOf(state: KvClusterState, byAddress: Map<string, ClusterNode>, setId: number): ClusterNode | undefined {
    const members = state.instances.filter((i) => i.setId === setId).map((i) => byAddress.get(addr(i))).filter((n): n is ClusterNode => !!n && isMaster(n) && !isFailing(n));
    return members.sort((a, b) => b.slots.length - a.slots.length || (a.flags.includes('fail?') ? 1 : 0))[0];
  }

  private holding(state: KvClusterState, byAddress: Map<string, ClusterNode>, sets: number[]): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const setId of setsOf(state)) {
      const m = this.masterOf(state, byAddress, setId);
      if (m || sets.includes(setId)) out.set(setId, m?.slots ?? []);
    }
    return out;
  }

  /** Slots nobody holds go to the sets, evenly (a new cluster's whole range). */
  private async assignOrphanSlots(state: KvClusterState): Promise<void> {
    const { byAddress } = await this.view(state);
    const sets = setsOf(state);
    const moves = planSlotMoves(this.holding(state, byAddress, sets), sets).filter((m) => m.from === null);
    for (const setId of sets) {
      const slots = moves.filter((m) => m.to === setId).map((m) => m.slot);
      if (!slots.length) continue;
      const master = this.masterOf(state, byAddress, setId);
      if (!master) this.fail(`set ${setId} has no live master to hold its slots`);
      const ranges = formatRanges(slots).split(' ').flatMap((r) => { const [a, b] = r.split('-'); return [a!, b ?? a!]; });
      await this.redis.call(master.ip, master.port, 'CLUSTER', 'ADDSLOTSRANGE', ...ranges);
      await this.step(`slots set ${setId}`, `set ${setId} (${nodeAddress(master)}) holds slots ${formatRanges(slots)} (${slots.length})`);
    }
  }

  /** Each replica follows its set's master. */
  private async replicate(state: KvClusterState, replicas: KvInstanceState[]): Promise<void> {
    if (!replicas.length) return;
    const { byAddress } = await this.view(state);
    for (const r of replicas) {
      const master = this.masterOf(state, byAddress, r.setId);
      if (!master) this.fail(`set ${r.setId} has no live master for ${addr(r)} to replicate`);
      if (nodeAddress(master) === addr(r)) continue;
      const mine = (await this.redis.nodes(r.ip, r.port)).find((n) => n.flags.includes('myself'));
      if (mine?.masterId === master.id) continue;
      if (mine && mine.slots.length) this.fail(`${addr(r)} holds slots: it cannot become a replica`);
      await this.redis.call(r.ip, r.port, 'CLUSTER', 'REPLICATE', master.id);
      await this.step(`replicate ${addr(r)}`, `${addr(r)} replicates ${nodeAddress(master)} (set ${r.setId})`);
    }
  }

  /** Until every live instance says cluster_state:ok (a node that just joined learns the slots by gossip first). */
  private async clusterOk(state: KvClusterState): Promise<void> {
    await this.until('every instance sees the cluster ok', async () => {
      for (const i of state.instances) {
        let s: string | undefined;
        try {
          s = (await this.redis.clusterInfo(i.ip, i.port)).get('cluster_state');
        } catch (err) {
          if (err instanceof RedisUnreachable) continue;
          throw err;
        }
        if (s !== 'ok') return `${addr(i)} says cluster_state:${s}`;
      }
      return true;
    });
  }

  /** Moves slots (and their keys, live) to even shares over `keep`: the fewest slots moved. */
  private async rebalance(state: KvClusterState, keep: number[]): Promise<void> {
    await this.clusterOk(state);
    const { byAddress } = await this.view(state);
    const holding = this.holding(state, byAddress, keep);
    const moves = planSlotMoves(holding, keep);
    if (!moves.length) return;
    const masters = new Map(setsOf(state).map((s) => [s, this.masterOf(state, byAddress, s)]));
    const others = [...masters.values()].filter((m): m is ClusterNode => !!m);
    let done = 0;
    let keys = 0;
    const started = performance.now();
    for (let i = 0; i < moves.length;) {
      // A run of moves between the same two sets, at most progressEvery slots: one progress step.
      const { from, to } = moves[i]!;
      let j = i;
      while (j < moves.length && j - i < progressEvery && moves[j]!.from === from && moves[j]!.to === to) j++;
      const run = moves.slice(i, j);
      const source = from === null ? undefined : masters.get(from);
      const target = masters.get(to);
      if (!target) this.fail(`set ${to} has no live master to take slots`);
      if (from !== null && !source) this.fail(`set ${from} has no live master: its slots cannot be moved (msec kv recover ${this.name} first)`);
      // A few slots at once between the same two masters (Redis allows several open slots).
      let moved = 0;
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(parallelSlots, run.length) }, async () => {
        while (next < run.length) {
          if (this.r.isStopped) this.fail('the console is stopping');
          const m = run[next++]!;
          const keys = source ? await this.migrateSlot(source, target, m.slot, others) : await this.addSlot(target, m.slot);
          moved += keys;
        }
      }));
      keys += moved;
      done += run.length;
      await this.step(`migrate ${run[0]!.slot}`, `set ${from ?? '-'} → set ${to}: slots ${formatRanges(run.map((m) => m.slot))} (${run.length} slots, ${moved} keys); ${done}/${moves.length} slots moved`,
        true, `migrate ${from}->${to}@${run[0]!.slot}`);
      i = j;
    }
    await this.step('rebalanced', `${moves.length} slot(s) and ${keys} key(s) moved in ${Math.round(performance.now() - started)} ms; each of ${keep.length} set(s) holds ${Math.floor(KV_SLOTS / keep.length)}–${Math.ceil(KV_SLOTS / keep.length)} slots`);
  }

  private async addSlot(target: ClusterNode, slot: number): Promise<number> {
    await this.redis.call(target.ip, target.port, 'CLUSTER', 'ADDSLOTS', slot).catch(ignoreReply(/already busy/i));
    return 0;
  }

  /** One slot from source to target with its keys, as redis-cli does; safe to run again on a half-moved slot. */
  async migrateSlot(source: ClusterNode, target: ClusterNode, slot: number, masters: ClusterNode[]): Promise<number> {
    const s = source, t = target;
    let owner = true;
    await Promise.all([
      this.redis.call(t.ip, t.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', s.id).catch(ignoreReply(/already the owner/i)),
      this.redis.call(s.ip, s.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', t.id).catch((err) => {
        if (/not the owner/i.test(String((err as Error).message))) owner = false;
        else throw err;
      }),
    ]);
    let moved = 0;
    while (owner) {
      const keys = await this.redis.call(s.ip, s.port, 'CLUSTER', 'GETKEYSINSLOT', slot, migrateBatch) as string[];
      if (!keys.length) break;
      await this.redis.call(s.ip, s.port, 'MIGRATE', t.ip, t.port, '', 0, 60_000, 'REPLACE', 'KEYS', ...keys);
      moved += keys.length;
    }
    // The target first, then the source: once the source hears it, its clients are sent on for good.
    await this.redis.call(t.ip, t.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', t.id);
    await this.redis.call(s.ip, s.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', t.id).catch(ignoreReply(/./));
    // The other masters would learn it by gossip; telling them saves their clients a redirect.
    await Promise.all(masters.filter((m) => m.id !== s.id && m.id !== t.id).map((m) => this.redis.call(m.ip, m.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', t.id).catch(() => undefined)));
    return moved;
  }

  /** Slots some instance has open (migrating or importing): finished toward the importing side. Returns how many. */
  async closeOpenSlots(state: KvClusterState): Promise<number> {
    const own: ClusterNode[] = [];
    for (const i of state.instances) {
      try {
        const self = (await this.redis.nodes(i.ip, i.port)).find((n) => n.flags.includes('myself'));
        if (self) own.push(self);
      } catch { /* a dead instance has nothing open that can be finished */ }
    }
    const byId = new Map(own.map((n) => [n.id, n]));
    const open = new Map<number, { source: ClusterNode; target: ClusterNode }>();
    for (const n of own) {
      for (const [slot, targetId] of n.migrating) { const t = byId.get(targetId); if (t) open.set(slot, { source: n, target: t }); }
      for (const [slot, sourceId] of n.importing) { const s = byId.get(sourceId); if (s && !open.has(slot)) open.set(slot, { source: s, target: n }); }
    }
    if (!open.size) return 0;
    const masters = own.filter(isMaster);
    let keys = 0;
    for (const [slot, { source, target }] of open) keys += await this.migrateSlot(source, target, slot, masters);
    await this.step('open slots finished', `slots ${formatRanges(open.keys())} were left half-migrated (a task cut short): finished toward their new owners (${keys} keys moved)`, true, `open ${formatRanges(open.keys())}`);
    return open.size;
  }

  /** Takes instances out: forgotten by every other node, then stopped and deleted by their agents. */
  private async removeInstances(state: KvClusterState, gone: KvInstanceState[], why: string): Promise<void> {
    const staying = state.instances.filter((i) => !gone.includes(i));
    const { byAddress } = staying.length ? await this.view(state) : { byAddress: new Map<string, ClusterNode>() };
    const ids = gone.map((g) => byAddress.get(addr(g))?.id).filter((x): x is string => !!x);
    for (const s of staying) {
      // An instance not started yet (a replacement) has nothing to forget.
      if (!(await this.redis.answers(s.ip, s.port))) continue;
      for (const id of ids) await this.redis.call(s.ip, s.port, 'CLUSTER', 'FORGET', id).catch(ignoreReply(/unknown node|can't forget my master/i));
    }
    const agents = this.r.options.reads.agents();
    const results = await Promise.all(gone.map(async (g) => {
      // A down agent gets the command when it is back (it lives 24 h); the task does not wait for it.
      const down = findAgent(agents, g.ip)?.down !== false;
      const result = await this.agentCommand(state, g, 'remove', { waitMs: down ? 3000 : 60_000 });
      return { g, result };
    }));
    for (const { g, result } of results) {
      const detail = result.ok ? result.detail : result.pending ? `the agent of ${g.ip} is down: the instance is removed when it comes back (within 24 h)` : result.error;
      await this.step(`remove ${addr(g)}`, detail, result.ok || !!result.pending);
      if (!result.ok && !result.pending) this.fail(`${addr(g)} could not be removed: ${result.error}`);
      await this.r.record({ type: 'RemoveKvInstance', name: this.name, taskId: this.task.taskId, ip: g.ip, port: g.port, why }, stepId(this.task.taskId, 'removed', addr(g)));
    }
  }

  /** Dead instances: their sets served by a replica (Redis's own failover, or a forced one), forgotten, replaced. */
  private async recover(state: KvClusterState): Promise<void> {
    const dead = state.instances.filter((i) => this.task.instances.includes(addr(i)));
    const fresh = state.instances.filter((i) => i.taskId === this.task.taskId);
    await this.closeOpenSlots(state).catch(() => 0);
    for (const setId of [...new Set(dead.map((d) => d.setId))]) {
      const { byAddress } = await this.view(state);
      const lostMaster = dead.some((d) => d.setId === setId && byAddress.get(addr(d))?.slots.length);
      if (!lostMaster) continue;
      const replica = state.instances.find((i) => i.setId === setId && !dead.includes(i) && !fresh.includes(i) && byAddress.get(addr(i)) && !isFailing(byAddress.get(addr(i))!));
      if (!replica) this.fail(`set ${setId} lost its master and has no live replica: its slots are lost; delete the set's instances by hand or re-create the cluster`);
      // Redis promotes a replica itself after the node timeout; past twice that, the replica takes over.
      const waited = await this.until(`a replica of set ${setId} is promoted`, async () => (await this.redis.nodes(replica.ip, replica.port)).some((n) => n.flags.includes('myself') && isMaster(n)), { timeoutMs: 2 * (state.settings!.nodeTimeoutMs) + 5000, failing: false });
      if (!waited) {
        await this.redis.call(replica.ip, replica.port, 'CLUSTER', 'FAILOVER', 'TAKEOVER');
        await this.until(`${addr(replica)} takes over set ${setId}`, async () => (await this.redis.nodes(replica.ip, replica.port)).some((n) => n.flags.includes('myself') && isMaster(n)));
      }
      await this.step(`promote set ${setId}`, `${addr(replica)} serves set ${setId} now (${waited ? 'promoted by the cluster' : 'took over: CLUSTER FAILOVER TAKEOVER'})`);
    }
    const after = await this.r.options.commands.state(streams.kvCluster(this.name), kvClusterDecider);
    const stillPlaced = dead.filter((d) => after.instances.some((i) => addr(i) === addr(d)));
    if (stillPlaced.length) await this.removeInstances(after, stillPlaced, 'dead: replaced by msec kv recover');
    const now = await this.r.options.commands.state(streams.kvCluster(this.name), kvClusterDecider);
    await this.startInstances(now, fresh);
    await this.join(now);
    await this.replicate(now, fresh);
    await this.settle(now);
  }

  private async failover(state: KvClusterState): Promise<void> {
    const target = state.instances.find((i) => addr(i) === this.task.instances[0]);
    if (!target) this.fail(`${this.task.instances[0]} is no longer an instance of ${this.name}`);
    const self = (await this.redis.nodes(target.ip, target.port)).find((n) => n.flags.includes('myself'));
    if (!self) this.fail(`${addr(target)} does not answer`);
    if (isMaster(self)) {
      // Repeated after a restart of the console: done already when it serves slots.
      if (self.slots.length) return this.step('failover', `${addr(target)} is the master of set ${target.setId}`);
      this.fail(`${addr(target)} is a master: fail over one of its replicas (as MSEC)`);
    }
    await this.redis.call(target.ip, target.port, 'CLUSTER', 'FAILOVER');
    await this.until(`${addr(target)} becomes master`, async () => (await this.redis.nodes(target.ip, target.port)).some((n) => n.flags.includes('myself') && isMaster(n) && n.slots.length > 0));
    await this.step('failover', `${addr(target)} is the master of set ${target.setId} now; its old master replicates it`);
    await this.settle(state);
  }

  /** Until the cluster agrees: state ok on every live instance, every slot covered, replicas in sync. */
  private async settle(state: KvClusterState): Promise<void> {
    await this.until('the cluster is ok on every instance, its replicas in sync', async () => {
      const live = await readLive(this.redis, state);
      const down = live.instances.find((i) => i.role === 'down');
      if (down) return `${addr(down)} does not answer`;
      if (live.slotsCovered < KV_SLOTS) return `${KV_SLOTS - live.slotsCovered} slots uncovered`;
      if (live.strangers.length) return `${live.strangers.join(', ')} still in the cluster`;
      for (const i of live.instances) {
        if (i.clusterState !== 'ok') return `${addr(i)} says cluster_state:${i.clusterState}`;
        if (i.role === 'replica' && !i.linkUp) return `${addr(i)} is not in sync with its master yet`;
      }
      // readLive keeps the layout's order: the first instance's own view.
      const known = live.instances[0]!.knownLive;
      return known === state.instances.length || `${addr(state.instances[0]!)} knows ${known} live nodes, not ${state.instances.length}`;
    });
    await this.step('settled', `the cluster is ok: ${setsOf(state).length} set(s), ${state.instances.length} instance(s), all 16384 slots covered`);
  }

  /** Polls `done` every 200 ms (true: done; false or a reason: not yet); fails the task (or answers false) past the timeout. Unreachable instances count as "not yet". */
  private async until(what: string, done: () => Promise<boolean | string>, options: { timeoutMs?: number; failing?: boolean } = {}): Promise<boolean> {
    const deadline = performance.now() + (options.timeoutMs ?? this.settleMs);
    let last = '';
    while (!this.r.isStopped) {
      try {
        const answer = await done();
        if (answer === true) return true;
        if (typeof answer === 'string') last = answer;
      } catch (err) {
        last = (err as Error).message;
      }
      if (performance.now() >= deadline) break;
      await sleep(200);
    }
    if (this.r.isStopped) this.fail('the console is stopping');
    if (options.failing === false) return false;
    return this.fail(`timed out waiting until ${what}${last ? ` (${last})` : ''}`);
  }
}

function setsOf(state: KvClusterState): number[] {
  return [...new Set(state.instances.map((i) => i.setId))].sort((a, b) => a - b);
}

/** A Redis error reply matching `pattern` is fine (the step was done already); anything else is not. */
function ignoreReply(pattern: RegExp) {
  return (err: unknown) => {
    if ((err as Error).name === 'ReplyError' && pattern.test((err as Error).message)) return undefined;
    throw err;
  };
}
