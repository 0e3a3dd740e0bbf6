/**
 * Events of the Redis-cluster KV. Stream "kvcluster-<name>": one cluster, from its creation to
 * its deletion: its settings, every instance placed on a host or taken away, and every task
 * (create, expand, shrink, recover, failover, delete) with its steps. One task at a time.
 * Shapes mirror schemas/events/kv.proto.
 */

export type KvTaskKind = 'create' | 'expand' | 'shrink' | 'recover' | 'failover' | 'delete';
export type KvRole = 'master' | 'replica';
export type KvTaskOutcome = 'succeeded' | 'failed';

export interface KvClusterCreatedData {
  name: string;
  /** Replicas per set (each set is one master and this many replicas). */
  replicas: number;
  /** maxmemory of every instance. */
  memoryBytes: number;
  maxmemoryPolicy: string;
  /** Instance ports are taken from [basePort, basePort + 99] per host (the cluster bus is port + 10000). */
  basePort: number;
  nodeTimeoutMs: number;
  appendonly: boolean;
  memo: string;
}

export interface KvTaskStartedData {
  name: string;
  taskId: string;
  kind: KvTaskKind;
  /** One line: what the task is to do ("expand by 1 set on 127.0.0.2, 127.0.0.3"). */
  summary: string;
  /** shrink: the set removed. */
  setId: number;
  /** failover: the replica to promote; recover: the instances found dead ("ip:port"). */
  instances: string[];
  /** Hosts the cluster may place instances on from now (create, expand --hosts). */
  hosts: string[];
  atMs: number;
}

export interface KvInstancePlacedData { name: string; taskId: string; setId: number; ip: string; port: number; role: KvRole }
export interface KvInstanceRemovedData { name: string; taskId: string; ip: string; port: number; why: string }
export interface KvTaskSteppedData { name: string; taskId: string; step: string; ok: boolean; detail: string; atMs: number }
export interface KvTaskEndedData { name: string; taskId: string; outcome: KvTaskOutcome; error: string; atMs: number }

export type KvEvent =
  | { type: 'KvClusterCreated'; data: KvClusterCreatedData }
  | { type: 'KvTaskStarted'; data: KvTaskStartedData }
  | { type: 'KvInstancePlaced'; data: KvInstancePlacedData }
  | { type: 'KvInstanceRemoved'; data: KvInstanceRemovedData }
  | { type: 'KvTaskStepped'; data: KvTaskSteppedData }
  | { type: 'KvTaskEnded'; data: KvTaskEndedData }
  | { type: 'KvClusterDeleted'; data: { name: string; taskId: string } };

export type KvEventType = KvEvent['type'];
export const kvEventTypes: readonly KvEventType[] = ['KvClusterCreated', 'KvTaskStarted', 'KvInstancePlaced', 'KvInstanceRemoved', 'KvTaskStepped', 'KvTaskEnded', 'KvClusterDeleted'];
