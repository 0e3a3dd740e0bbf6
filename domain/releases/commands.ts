/** Commands of the release aggregates. Digests, sizes, ids and times arrive computed. */
import type { ArtifactData, HostOperation, LibraryFileData, ReleasePlanCreatedData } from './events.ts';
import type { ReleaseStepReport } from './plan.ts';

/** Stream "releases-<service>". */
export type ServiceReleasesCommand =
  | ({ type: 'AddArtifact' } & ArtifactData)
  | { type: 'DeleteArtifact'; service: string; tag: string }
  | ({ type: 'AddLibraryFile' } & LibraryFileData)
  | { type: 'DeleteLibraryFile'; service: string; name: string }
  | { type: 'ClaimReleaseRun'; service: string; planId: string }
  | { type: 'EndReleaseRun'; service: string; planId: string };

/** Stream "release-<planId>". */
export type ReleasePlanCommand =
  | ({ type: 'CreateReleasePlan' } & ReleasePlanCreatedData)
  | { type: 'StartRelease'; planId: string }
  | { type: 'PauseRelease'; planId: string; why: 'operator' | 'canary' }
  | { type: 'ResumeRelease'; planId: string }
  | { type: 'CancelRelease'; planId: string }
  | { type: 'DispatchReleaseHost'; planId: string; ip: string; operation: HostOperation; commandId: string; atMs: number }
  | { type: 'RecordReleaseHostOutcome'; planId: string; ip: string; operation: HostOperation; commandId: string; ok: boolean; error: string; output: string; steps: ReleaseStepReport[]; atMs: number }
  | { type: 'StartReleaseRollback'; planId: string; reason: string }
  | { type: 'FinishRelease'; planId: string };
