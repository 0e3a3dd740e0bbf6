/** What the console reads: the projections' current read models, behind one small interface. */
import type { RowFilter } from '../../adapters/views/port.ts';
import type { WaitScope } from '../projector/runner.ts';
import type { AgentsState } from '../../projections/agents.ts';
import type { MonitoringState } from '../../projections/monitoring.ts';
import type { ReleasesState } from '../../projections/releases.ts';
import type { KvState } from '../../projections/kv.ts';
import type { RouteTable } from '../../schemas/route-table.ts';

export type VersionKind = 'config' | 'idl';

/** The audit view's filters are the view store's row filters. */
export type AuditFilter = RowFilter;

export interface ProjectionStatus {
  name: string;
  version: number;
  checkpoint: number;
}

export interface ConsoleReads {
  serviceTree(): unknown[];
  /** A first- or second-level service, or undefined. */
  service(name: string): unknown | undefined;
  versions(kind: VersionKind, service: string): unknown[] | undefined;
  version(kind: VersionKind, service: string, tag: string): { text: string } | undefined;
  route(service: string): RouteTable | undefined;
  routes(): RouteTable[];
  audit(filter: AuditFilter): Promise<unknown[]>;
  users(): unknown[];
  /** Host agents and the command keys, as events made them. */
  agents(): AgentsState;
  userCount(): number;
  /** Alarm rules, webhooks and alarms (the monitoring projection). */
  monitoring(): MonitoringState;
  /** Artifacts, library files and release plans (the releases projection). */
  releases(): ReleasesState;
  /** The KV's clusters, their layout and tasks (the kv projection). */
  kv(): KvState;
  /** IPs of a second-level service's hosts in the catalog ([] when unknown). */
  hostIps(service: string): string[];
}

/** The projection runner, as the console uses it. */
export interface ProjectionControl {
  waitFor(position: number, timeoutMs: number, scope?: WaitScope): Promise<boolean>;
  /** Calls `listener` after each batch the named projection folded; returns the function that stops it. */
  onChange(projection: string, listener: () => void): () => void;
  status(): ProjectionStatus[];
  replay(name: string): Promise<{ projection: string; events: number; identical: boolean; before: string; after: string }>;
}

