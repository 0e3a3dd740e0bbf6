/**
 * One Redis cluster of the KV, stream "kvcluster-<name>" (pure decider). It holds the layout
 * msec decided (which instance of which set on which host and port), the hosts it may use, and
 * its tasks: one at a time, each started by an operator's command, its steps recorded by the
 * console's task runner as it does them, then ended. What Redis reports live (roles after a
 * failover, slots, keys) is not here: the console reads it from the instances.
 */
import { refuse, type Decider } from '../decider.ts';
import { checkMemo } from '../services/versions.ts';
import { parseIpv4 } from '../services/names.ts';
import type { KvClusterCreatedData, KvEvent, KvRole, KvTaskKind, KvTaskOutcome } from './events.ts';
import { placeReplacement, placeSets, withPorts, type Placed } from './placement.ts';
import { checkClusterName, checkCount, checkMemoryBytes, checkPolicy, MAX_BASE_PORT, MAX_REPLICAS, MAX_SETS, MIN_BASE_PORT } from './rules.ts';

export interface KvInstanceState { setId: number; ip: string; port: number; role: KvRole; taskId: string }
export interface KvStep { step: string; ok: boolean; detail: string; atMs: number }
export interface KvTaskState {
  taskId: string; kind: KvTaskKind; summary: string; setId: number; instances: string[]; hosts: string[];
  startedAtMs: number; steps: KvStep[]; outcome: KvTaskOutcome | ''; error: string; endedAtMs: number;
}
export interface KvClusterState {
  settings: KvClusterCreatedData | undefined;
  hosts: string[];
  instances: KvInstanceState[];
  tasks: KvTaskState[];
  /** The task under way ("" none). */
  running: string;
  nextSetId: number;
}

export type KvCommand =
  | { type: 'CreateKvCluster'; name: string; sets: number; replicas: number; memoryBytes: number; maxmemoryPolicy: string; basePort: number; nodeTimeoutMs: number; appendonly: boolean; hosts: string[]; avoid?: string[]; memo: string; taskId: string; atMs: number }
  | { type: 'ExpandKvCluster'; name: string; sets: number; hosts: string[]; avoid?: string[]; taskId: string; atMs: number }
  | { type: 'ShrinkKvCluster'; name: string; setId: number; taskId: string; atMs: number }
  /**
   * `dead`: instances the console found not answering; `avoid`: hosts whose agents are down;
   * `abandon`: sets that never served a slot and have no live member (a failed expansion): their
   * instances are removed, not replaced.
   */
  | { type: 'RecoverKvCluster'; name: string; dead: { ip: string; port: number }[]; avoid: string[]; abandon?: number[]; taskId: string; atMs: number }
  | { type: 'FailoverKvInstance'; name: string; ip: string; port: number; taskId: string; atMs: number }
  | { type: 'DeleteKvCluster'; name: string; taskId: string; atMs: number }
  | { type: 'RecordKvStep'; name: string; taskId: string; step: string; ok: boolean; detail: string; atMs: number }
  | { type: 'RemoveKvInstance'; name: string; taskId: string; ip: string; port: number; why: string }
  | { type: 'EndKvTask'; name: string; taskId: string; outcome: KvTaskOutcome; error: string; atMs: number };

const MAX_DETAIL = 4000;
const MAX_HOSTS = 256;

export const kvClusterDecider: Decider<KvCommand, KvEvent, KvClusterState> = {
  initialState: () => ({ settings: undefined, hosts: [], instances: [], tasks: [], running: '', nextSetId: 1 }),
  evolve,
  decide,
};

function evolve(state: KvClusterState, event: KvEvent): KvClusterState {
  switch (event.type) {
    case 'KvClusterCreated':
      return { ...kvClusterDecider.initialState(), tasks: state.tasks, nextSetId: state.nextSetId, settings: event.data };
    case 'KvTaskStarted': {
      const d = event.data;
      const task: KvTaskState = { taskId: d.taskId, kind: d.kind, summary: d.summary, setId: d.setId, instances: d.instances, hosts: d.hosts, startedAtMs: d.atMs, steps: [], outcome: '', error: '', endedAtMs: 0 };
      return { ...state, tasks: [...state.tasks, task], running: d.taskId, hosts: [...new Set([...state.hosts, ...d.hosts])] };
    }
    case 'KvInstancePlaced': {
      const d = event.data;
      return { ...state, instances: [...state.instances, { setId: d.setId, ip: d.ip, port: d.port, role: d.role, taskId: d.taskId }], nextSetId: Math.max(state.nextSetId, d.setId + 1) };
    }
    case 'KvInstanceRemoved':
      return { ...state, instances: state.instances.filter((i) => !(i.ip === event.data.ip && i.port === event.data.port)) };
    case 'KvTaskStepped': {
      const d = event.data;
      return { ...state, tasks: state.tasks.map((t) => (t.taskId === d.taskId ? { ...t, steps: [...t.steps, { step: d.step, ok: d.ok, detail: d.detail, atMs: d.atMs }] } : t)) };
    }
    case 'KvTaskEnded': {
      const d = event.data;
      return {
        ...state, running: state.running === d.taskId ? '' : state.running,
        tasks: state.tasks.map((t) => (t.taskId === d.taskId ? { ...t, outcome: d.outcome, error: d.error, endedAtMs: d.atMs } : t)),
      };
    }
    case 'KvClusterDeleted':
      return { ...kvClusterDecider.initialState(), tasks: state.tasks, nextSetId: state.nextSetId };
    default:
      return state;
  }
}

const instanceName = (i: { ip: string; port: number }) => `${i.ip}:${i.port}`;

function checkHosts(hosts: unknown, required: boolean): string[] {
  if (!Array.isArray(hosts) || (required && hosts.length === 0)) return refuse('invalid', 'give the hosts to place instances on: --hosts IP,IP,...');
  if (hosts.length > MAX_HOSTS) return refuse('invalid', `at most ${MAX_HOSTS} hosts at once`);
  const ips = hosts.map((h) => parseIpv4(String(h)));
  const twice = ips.find((ip, i) => ips.indexOf(ip) !== i);
  if (twice) return refuse('invalid', `host ${twice} is given twice`);
  return ips;
}

function existing(state: KvClusterState, name: string): KvClusterCreatedData {
  if (!state.settings) return refuse('not_found', `no KV cluster ${name}: msec kv list shows the clusters`);
  return state.settings;
}

function idle(state: KvClusterState, name: string): void {
  if (!state.running) return;
  const t = state.tasks.find((x) => x.taskId === state.running)!;
  refuse('conflict', `task ${t.taskId} (${t.kind}) of KV cluster ${name} is under way: one task at a time; wait for it (msec kv show ${name})`);
}

function started(name: string, taskId: string, kind: KvTaskKind, summary: string, atMs: number, more: Partial<{ setId: number; instances: string[]; hosts: string[] }> = {}): KvEvent {
  if (typeof taskId !== 'string' || !/^[0-9a-f-]{36}$/.test(taskId)) refuse('invalid', 'a task id is a UUID');
  return { type: 'KvTaskStarted', data: { name, taskId, kind, summary, setId: more.setId ?? 0, instances: more.instances ?? [], hosts: more.hosts ?? [], atMs } };
}

function placedEvents(name: string, taskId: string, basePort: number, state: KvClusterState, placed: Placed[]): KvEvent[] {
  return withPorts(basePort, state.instances, placed).map((p) => ({ type: 'KvInstancePlaced', data: { name, taskId, ...p } }));
}

function decide(command: KvCommand, state: KvClusterState): KvEvent[] {
  const name = checkClusterName(command.name);
  switch (command.type) {
    case 'CreateKvCluster': {
      if (state.settings) refuse('conflict', `KV cluster ${name} exists already: msec kv show ${name}`);
      const sets = checkCount(command.sets, '--sets', 1, MAX_SETS);
      const replicas = checkCount(command.replicas, '--replicas', 0, MAX_REPLICAS);
      const memoryBytes = checkMemoryBytes(command.memoryBytes);
      const maxmemoryPolicy = checkPolicy(command.maxmemoryPolicy);
      const basePort = checkCount(command.basePort, '--port', MIN_BASE_PORT, MAX_BASE_PORT);
      const nodeTimeoutMs = checkCount(command.nodeTimeoutMs, 'the node timeout (ms)', 500, 60_000);
      const hosts = checkHosts(command.hosts, true);
      const memo = checkMemo(command.memo);
      const settings: KvClusterCreatedData = { name, replicas, memoryBytes, maxmemoryPolicy, basePort, nodeTimeoutMs, appendonly: command.appendonly === true, memo };
      const placed = placeSets({ hosts, existing: [], sets, replicas, firstSetId: state.nextSetId, avoid: command.avoid ?? [] });
      return [
        { type: 'KvClusterCreated', data: settings },
        started(name, command.taskId, 'create', `create ${sets} set(s) × ${1 + replicas} instance(s) on ${hosts.join(', ')}`, command.atMs, { hosts }),
        ...placedEvents(name, command.taskId, basePort, { ...state, instances: [] }, placed),
      ];
    }
    case 'ExpandKvCluster': {
      const s = existing(state, name);
      idle(state, name);
      const setCount = new Set(state.instances.map((i) => i.setId)).size;
      if (setCount >= MAX_SETS) refuse('conflict', `KV cluster ${name} has ${setCount} sets, the most a cluster may have: create another cluster`);
      const sets = checkCount(command.sets, '--sets', 1, MAX_SETS - setCount);
      const extra = checkHosts(command.hosts ?? [], false);
      const hosts = [...new Set([...state.hosts, ...extra])];
      const placed = placeSets({ hosts, existing: state.instances, sets, replicas: s.replicas, firstSetId: state.nextSetId, avoid: command.avoid ?? [] });
      return [
        started(name, command.taskId, 'expand', `expand by ${sets} set(s): ${placed.filter((p) => p.role === 'master').map((p) => `set ${p.setId}`).join(', ')}`, command.atMs, { hosts: extra }),
        ...placedEvents(name, command.taskId, s.basePort, state, placed),
      ];
    }
    case 'ShrinkKvCluster': {
      existing(state, name);
      idle(state, name);
      const setIds = [...new Set(state.instances.map((i) => i.setId))];
      if (!setIds.includes(command.setId)) refuse('not_found', `KV cluster ${name} has no set ${String(command.setId)}: its sets are ${setIds.sort((a, b) => a - b).join(', ')}`);
      if (setIds.length === 1) refuse('conflict', `set ${command.setId} is the last set of ${name}: delete the cluster instead (msec kv delete ${name})`);
      return [started(name, command.taskId, 'shrink', `shrink: move the slots of set ${command.setId} to the other sets and remove its instances`, command.atMs, { setId: command.setId })];
    }
    case 'RecoverKvCluster': {
      const s = existing(state, name);
      idle(state, name);
      const dead = command.dead.map((d) => {
        const i = state.instances.find((x) => x.ip === d.ip && x.port === d.port);
        if (!i) return refuse('not_found', `${instanceName(d)} is not an instance of ${name}`);
        return i;
      });
      if (dead.length === 0) refuse('conflict', `every instance of ${name} answers: nothing to recover`);
      // Not on a dead instance's host when another is left (it may be the host that died), never on a host whose agent is down.
      const avoidAll = [...new Set([...command.avoid, ...dead.map((d) => d.ip)])];
      let layout: Placed[] = state.instances.filter((i) => !dead.includes(i));
      const placed: Placed[] = [];
      const abandon = new Set(command.abandon ?? []);
      for (const d of dead) {
        if (abandon.has(d.setId)) continue;
        const avoid = state.hosts.some((h) => !avoidAll.includes(h)) ? avoidAll : command.avoid;
        const ip = placeReplacement({ hosts: state.hosts, existing: layout, setId: d.setId, avoid });
        const p: Placed = { setId: d.setId, ip, role: 'replica' };
        placed.push(p);
        layout = [...layout, p];
      }
      return [
        started(name, command.taskId, 'recover', `recover: ${placed.length ? `replace ${dead.filter((d) => !abandon.has(d.setId)).map(instanceName).join(', ')} with new replicas` : ''}${placed.length && abandon.size ? '; ' : ''}${abandon.size ? `remove set(s) ${[...abandon].join(', ')}, which never served a slot` : ''}`, command.atMs, { instances: dead.map(instanceName) }),
        ...placedEvents(name, command.taskId, s.basePort, state, placed),
      ];
    }
    case 'FailoverKvInstance': {
      existing(state, name);
      idle(state, name);
      const i = state.instances.find((x) => x.ip === command.ip && x.port === command.port);
      if (!i) refuse('not_found', `${command.ip}:${command.port} is not an instance of ${name}: msec kv show ${name} lists them`);
      return [started(name, command.taskId, 'failover', `fail over to the replica ${command.ip}:${command.port}`, command.atMs, { instances: [`${command.ip}:${command.port}`] })];
    }
    case 'DeleteKvCluster': {
      existing(state, name);
      idle(state, name);
      return [started(name, command.taskId, 'delete', `delete the cluster: stop and remove its ${state.instances.length} instance(s)`, command.atMs)];
    }
    case 'RecordKvStep': {
      running(state, name, command.taskId);
      if (typeof command.step !== 'string' || !command.step || command.step.length > 200) refuse('invalid', 'a step is named in 1 to 200 characters');
      return [{ type: 'KvTaskStepped', data: { name, taskId: command.taskId, step: command.step, ok: command.ok === true, detail: String(command.detail).slice(0, MAX_DETAIL), atMs: command.atMs } }];
    }
    case 'RemoveKvInstance': {
      running(state, name, command.taskId);
      if (!state.instances.some((x) => x.ip === command.ip && x.port === command.port)) return [];
      return [{ type: 'KvInstanceRemoved', data: { name, taskId: command.taskId, ip: command.ip, port: command.port, why: String(command.why).slice(0, MAX_DETAIL) } }];
    }
    case 'EndKvTask': {
      const t = running(state, name, command.taskId);
      const ended: KvEvent = { type: 'KvTaskEnded', data: { name, taskId: command.taskId, outcome: command.outcome, error: String(command.error).slice(0, MAX_DETAIL), atMs: command.atMs } };
      return t.kind === 'delete' && command.outcome === 'succeeded' ? [ended, { type: 'KvClusterDeleted', data: { name, taskId: command.taskId } }] : [ended];
    }
  }
}

function running(state: KvClusterState, name: string, taskId: string): KvTaskState {
  if (!state.running || state.running !== taskId) return refuse('conflict', `task ${taskId} of KV cluster ${name} is not under way`);
  return state.tasks.find((t) => t.taskId === taskId)!;
}
