import type { RecordedEvent } from '../domain/events.ts';
import { kvClusterDecider, kvEventTypes, MAX_INSTANCE_PORTS, type KvClusterState, type KvEvent } from '../domain/kv/index.ts';
import type { StateProjection } from './projection.ts';
import { keyedList } from './sorted-list.ts';

/**
 * The KV's clusters as msec decided them: settings, layout (set, host, port, placed role), the
 * hosts each may use, and its recent tasks with their steps. Folded with the cluster's own
 * decider, so the view and the rules never disagree. What Redis says live (roles now, slots,
 * keys, memory) is read from the instances by the console (apps/console/kv/).
 */
export interface KvState {
  /** Sorted by name; a deleted cluster stays with no settings and no instances, for its task history (liveKvClusters leaves it out). */
  clusters: KvClusterView[];
}

export interface KvClusterView {
  name: string;
  createdAt: string;
  createdBy: string;
  cluster: KvClusterState;
  revision: number;
}

const clusterList = keyedList<KvClusterView>((c) => c.name);
/** Tasks kept per cluster in the view (the stream has them all). */
export const keptKvTasks = 20;

export const kvProjection: StateProjection<KvState> = {
  kind: 'state',
  name: 'kv',
  version: 1,
  handles: kvEventTypes,
  initialState: () => ({ clusters: [] }),
  apply: (state, event) => applyKv(state, event as RecordedEvent<KvEvent>),
};

/** The cluster, deleted or not (a deleted one has no settings). */
export function findKvCluster(state: KvState, name: string): KvClusterView | undefined {
  return clusterList.find(state.clusters, name);
}

/** Clusters that exist (not deleted). */
export function liveKvClusters(state: KvState): KvClusterView[] {
  return state.clusters.filter((c) => c.cluster.settings !== undefined);
}

/** Clusters with a task under way (the task runner drives them). */
export function busyKvClusters(state: KvState): KvClusterView[] {
  return state.clusters.filter((c) => c.cluster.running !== '');
}

/** Base ports other clusters use on any host: a new cluster takes the next free block of 100. */
export function nextKvBasePort(state: KvState, first = 7000): number {
  const taken = liveKvClusters(state).map((c) => c.cluster.settings!.basePort);
  let port = first;
  // A base port given with --port may be off the grid of 100: any overlap of the two blocks is a clash.
  while (taken.some((base) => Math.abs(base - port) < MAX_INSTANCE_PORTS)) port += MAX_INSTANCE_PORTS;
  return port;
}

function applyKv(state: KvState, event: RecordedEvent<KvEvent>): KvState {
  const name = event.data.name;
  const found = clusterList.find(state.clusters, name);
  if (!found && event.type !== 'KvClusterCreated') return state;
  // Created again after a deletion: the decider keeps the task history (and set ids), so does the view.
  const base: KvClusterView = !found
    ? { name, createdAt: event.occurredAt, createdBy: event.actor, cluster: kvClusterDecider.initialState(), revision: event.revision }
    : event.type === 'KvClusterCreated' ? { ...found, createdAt: event.occurredAt, createdBy: event.actor } : found;
  let cluster = kvClusterDecider.evolve(base.cluster, event);
  if (cluster.tasks.length > keptKvTasks) cluster = { ...cluster, tasks: cluster.tasks.slice(-keptKvTasks) };
  return { clusters: clusterList.with(state.clusters, { ...base, cluster, revision: event.revision }) };
}
