/**
 * Events of releases. Stream "releases-<First>.<Second>": the service's artifacts (versioned
 * builds), its library files (unversioned), and which plan runs on it now (MSEC's rule: one at
 * a time per service). Stream "release-<planId>": one release plan, from creation to its end,
 * with every step of every host. Shapes mirror schemas/events/releases.proto.
 */
import type { ReleaseType } from './rules.ts';

export interface ArtifactData { service: string; tag: string; sha256: string; size: number; memo: string; fileName: string }
export interface LibraryFileData { service: string; name: string; sha256: string; size: number; memo: string }

export interface PlanHost { ip: string; port: number }
export interface PlanFile { name: string; sha256: string; size: number }

export interface ReleasePlanCreatedData {
  planId: string;
  service: string;
  releaseType: ReleaseType;
  hosts: PlanHost[];
  /** The config version as saved (the console writes each host's `[SRPC] listen` into it when it sends it). */
  configTag: string; configSha256: string; configSize: number;
  idlTag: string;
  artifactTag: string; artifactSha256: string; artifactSize: number;
  libraries: PlanFile[];
  /** Hosts released first, alone; 0: no canary. */
  canary: number;
  /** After a healthy canary: wait this many seconds then go on (0: wait for the operator's resume). */
  canaryAutoSeconds: number;
  /** Hosts released at once after the canary (0: all the rest). */
  batch: number;
  /** Disable each host in routing before it is stopped, enable it once healthy. */
  enable: boolean;
  /** When a host fails (or an alarm of the service fires): roll back every host released so far. */
  autoRollback: boolean;
  healthTimeoutMs: number;
  /** How long a host's agent has to answer (the command's lifetime). */
  hostTimeoutMs: number;
  /** Seconds between disabling a host in routing and stopping it (clients see the change first). */
  drainSeconds: number;
  memo: string;
}

export type HostOperation = 'install' | 'rollback';
export type PlanOutcome = 'succeeded' | 'failed' | 'partially_failed' | 'cancelled' | 'rolled_back' | 'rollback_failed';

export type ReleaseEvent =
  | { type: 'ArtifactAdded'; data: ArtifactData }
  | { type: 'ArtifactDeleted'; data: { service: string; tag: string } }
  | { type: 'LibraryFileAdded'; data: LibraryFileData }
  | { type: 'LibraryFileDeleted'; data: { service: string; name: string } }
  /** The plan holds the service: no other plan of it starts (or rolls back) until it ends. */
  | { type: 'ReleaseRunClaimed'; data: { service: string; planId: string } }
  | { type: 'ReleaseRunEnded'; data: { service: string; planId: string } }
  | { type: 'ReleasePlanCreated'; data: ReleasePlanCreatedData }
  | { type: 'ReleaseStarted'; data: { planId: string } }
  /** why: "operator" (paused by hand) | "canary" (the canary is healthy: waiting for a resume). */
  | { type: 'ReleasePaused'; data: { planId: string; why: string } }
  | { type: 'ReleaseResumed'; data: { planId: string } }
  /** No further host is started; hosts under way finish. */
  | { type: 'ReleaseCancelled'; data: { planId: string } }
  /** A host's operation was handed to its agent as the signed command `commandId`. */
  | { type: 'ReleaseHostDispatched'; data: { planId: string; ip: string; operation: HostOperation; commandId: string; atMs: number } }
  /** One step on the host, as its agent reported it (pushed, backed-up, stopped, installed, started, healthy, restored, removed). */
  | { type: 'ReleaseHostStepped'; data: { planId: string; ip: string; operation: HostOperation; step: string; ok: boolean; detail: string; atMs: number } }
  | { type: 'ReleaseHostSucceeded'; data: { planId: string; ip: string; operation: HostOperation; atMs: number } }
  /** output: the agent's last output (at most 8 KiB), so the operator sees why. */
  | { type: 'ReleaseHostFailed'; data: { planId: string; ip: string; operation: HostOperation; error: string; output: string; atMs: number } }
  | { type: 'ReleaseRollbackStarted'; data: { planId: string; reason: string; ips: string[] } }
  | { type: 'ReleaseFinished'; data: { planId: string; outcome: PlanOutcome; failedIps: string[]; detail: string } };

export type ReleaseEventType = ReleaseEvent['type'];

export const releaseEventTypes: readonly ReleaseEventType[] = [
  'ArtifactAdded', 'ArtifactDeleted', 'LibraryFileAdded', 'LibraryFileDeleted', 'ReleaseRunClaimed', 'ReleaseRunEnded',
  'ReleasePlanCreated', 'ReleaseStarted', 'ReleasePaused', 'ReleaseResumed', 'ReleaseCancelled', 'ReleaseHostDispatched',
  'ReleaseHostStepped', 'ReleaseHostSucceeded', 'ReleaseHostFailed', 'ReleaseRollbackStarted', 'ReleaseFinished',
];
