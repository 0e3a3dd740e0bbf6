/**
 * A cluster as Redis reports it now, beside the layout msec decided: each instance's role,
 * master, slots, keys, memory, ops/s, hit ratio and replication lag; the cluster's state and
 * uncovered slots; and the risk flags an operator must see (MSEC's risk icon and more).
 */
import type { KvClusterState, KvInstanceState } from '../../../domain/kv/index.ts';
import { KV_SLOTS, formatRanges } from '../../../domain/kv/index.ts';
import { isFailing, isMaster, keysOf, nodeAddress, type ClusterNode } from './cluster-nodes.ts';
import type { RedisAdmin } from './redis-admin.ts';

export interface LiveInstance {
  setId: number;
  ip: string;
  port: number;
  /** As msec placed it. */
  placedRole: string;
  /** As Redis says now: master | replica | down. */
  role: 'master' | 'replica' | 'down';
  nodeId: string;
  /** The master it replicates (ip:port), for a replica. */
  master: string;
  slots: number;
  ranges: string;
  keys: number;
  memoryBytes: number;
  maxmemoryBytes: number;
  opsPerSec: number;
  /** keyspace hits / (hits + misses), -1 before any read. */
  hitRatio: number;
  /** Bytes the replica is behind its master (-1 for a master). */
  lagBytes: number;
  linkUp: boolean;
  /** cluster_state as this instance says it ("" when down). */
  clusterState: string;
  /** Nodes this instance's own view holds that are not failing (0 when down). */
  knownLive: number;
  error: string;
}

export interface LiveCluster {
  /** ok | fail | unreachable (no instance answers). */
  state: string;
  slotsCovered: number;
  instances: LiveInstance[];
  /** Nodes in Redis's view that msec did not place (a stray or an old node): ip:port. */
  strangers: string[];
  risks: string[];
  /** Node ids by ip:port, from the cluster's view. */
  ids: Map<string, string>;
  /** The cluster's view from a live instance (empty when none answers). */
  nodes: ClusterNode[];
}

const num = (v: string | undefined) => (v === undefined || v === '' ? 0 : Number(v));

/** Reads every instance of the layout (in parallel, each with a short timeout). */
export async function readLive(redis: RedisAdmin, cluster: KvClusterState): Promise<LiveCluster> {
  const read = await Promise.all(cluster.instances.map(async (i) => {
    try {
      const [nodes, info, cluster] = await Promise.all([redis.nodes(i.ip, i.port), redis.info(i.ip, i.port), redis.clusterInfo(i.ip, i.port)]);
      for (const [k, v] of cluster) info.set(k, v);
      return { i, nodes, info, error: '' };
    } catch (err) {
      return { i, nodes: [] as ClusterNode[], info: new Map<string, string>(), error: (err as Error).message };
    }
  }));
  // The view of the cluster: from a live master that sees most nodes (a fresh node sees only itself).
  const views = read.filter((r) => !r.error).sort((a, b) => b.nodes.length - a.nodes.length);
  const nodes = views[0]?.nodes ?? [];
  const byAddress = new Map(nodes.map((n) => [nodeAddress(n), n]));
  const ids = new Map(nodes.map((n) => [nodeAddress(n), n.id]));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  // Each instance's own line tells its role best; the shared view gives slots as the cluster agrees on them.
  const instances: LiveInstance[] = read.map(({ i, nodes: own, info, error }) => {
    const self = own.find((n) => n.flags.includes('myself'));
    const agreed = byAddress.get(nodeAddress(i));
    const role: LiveInstance['role'] = error ? 'down' : self && isMaster(self) ? 'master' : 'replica';
    const masterNode = self?.masterId ? byId.get(self.masterId) : undefined;
    const hits = num(info.get('keyspace_hits'));
    const misses = num(info.get('keyspace_misses'));
    const slots = agreed && isMaster(agreed) && !isFailing(agreed) ? agreed.slots : [];
    let lagBytes = -1;
    if (role === 'replica') {
      const masterOffset = masterNode ? read.find((r) => nodeAddress(r.i) === nodeAddress(masterNode))?.info.get('master_repl_offset') : undefined;
      lagBytes = Math.max(0, num(masterOffset) - num(info.get('slave_repl_offset')));
    }
    return {
      setId: i.setId, ip: i.ip, port: i.port, placedRole: i.role, role, nodeId: self?.id ?? ids.get(nodeAddress(i)) ?? '',
      master: masterNode ? nodeAddress(masterNode) : '', slots: slots.length, ranges: formatRanges(slots), keys: keysOf(info),
      memoryBytes: num(info.get('used_memory')), maxmemoryBytes: num(info.get('maxmemory')), opsPerSec: num(info.get('instantaneous_ops_per_sec')),
      hitRatio: hits + misses > 0 ? hits / (hits + misses) : -1, lagBytes, linkUp: role === 'replica' ? info.get('master_link_status') === 'up' : role === 'master',
      clusterState: info.get('cluster_state') ?? '', knownLive: own.filter((n) => !isFailing(n)).length, error,
    };
  });
  const covered = new Set<number>();
  for (const n of nodes) if (isMaster(n) && !isFailing(n)) for (const s of n.slots) covered.add(s);
  const placed = new Set(cluster.instances.map(nodeAddress));
  const strangers = nodes.filter((n) => !placed.has(nodeAddress(n)) && !isFailing(n)).map(nodeAddress);
  const clusterState = views.length === 0 ? 'unreachable' : (views[0]!.info.get('cluster_state') ?? 'unknown');
  const live: LiveCluster = { state: clusterState, slotsCovered: covered.size, instances, strangers, risks: [], ids, nodes };
  live.risks = riskFlags(cluster, live);
  return live;
}

/**
 * MSEC's risk icon: a set short of replicas, more than half of the masters on one host; and
 * what else an operator must act on: uncovered slots, instances down, two of a set on one host.
 */
export function riskFlags(cluster: KvClusterState, live: Pick<LiveCluster, 'instances' | 'slotsCovered' | 'strangers'>): string[] {
  const risks: string[] = [];
  if (cluster.instances.length === 0) return risks;
  const wanted = cluster.settings?.replicas ?? 0;
  if (live.slotsCovered < KV_SLOTS) risks.push(`${KV_SLOTS - live.slotsCovered} slot(s) uncovered: keys in them cannot be read or written`);
  const sets = [...new Set(cluster.instances.map((i) => i.setId))].sort((a, b) => a - b);
  for (const setId of sets) {
    const members = live.instances.filter((i) => i.setId === setId);
    const replicas = members.filter((i) => i.role === 'replica' && i.linkUp).length;
    if (replicas < wanted) risks.push(`set ${setId} has ${replicas} of ${wanted} replica(s) in sync: one more loss may lose its data (msec kv recover)`);
    const hosts = members.filter((i) => i.role !== 'down').map((i) => i.ip);
    const twice = hosts.find((ip, n) => hosts.indexOf(ip) !== n);
    if (twice) risks.push(`set ${setId} has two instances on ${twice}: losing that host loses the set`);
  }
  const masters = live.instances.filter((i) => i.role === 'master' && i.slots > 0);
  const perHost = new Map<string, number>();
  for (const m of masters) perHost.set(m.ip, (perHost.get(m.ip) ?? 0) + 1);
  for (const [ip, n] of perHost) if (masters.length > 1 && n > masters.length / 2) risks.push(`${n} of ${masters.length} masters are on ${ip}: more than half (fail one over: msec kv failover)`);
  for (const i of live.instances.filter((x) => x.role === 'down')) risks.push(`${i.ip}:${i.port} (set ${i.setId}) does not answer (msec kv recover)`);
  for (const s of live.strangers) risks.push(`${s} is in the cluster but not in msec's layout`);
  return risks;
}

/** The layout instances of a set. */
export const membersOf = (cluster: KvClusterState, setId: number): KvInstanceState[] => cluster.instances.filter((i) => i.setId === setId);
