import { refuse, type Decider } from '../decider.ts';
import { checkMemo } from '../services/versions.ts';
import { checkTag, parseSecondLevelName } from '../services/names.ts';
import type { ServiceReleasesCommand } from './commands.ts';
import type { ArtifactData, LibraryFileData, ReleaseEvent } from './events.ts';
import { checkDigest, checkFileSize, checkLibraryName, checkPlanId, MAX_ARTIFACT_BYTES, MAX_LIBRARY_BYTES, MAX_LIBRARY_FILES } from './rules.ts';

/**
 * What a service has to release, stream "releases-<First>.<Second>": artifacts by tag
 * (immutable once added, content by sha256), library files by name (a new upload replaces the
 * file: MSEC's were unversioned), and the plan that runs on the service now, if any.
 */
export interface ServiceReleasesState {
  artifacts: ReadonlyMap<string, ArtifactData>;
  libraries: ReadonlyMap<string, LibraryFileData>;
  /** The plan carrying out or rolling back now ("" none). */
  running: string;
}

type Event = ReleaseEvent;

export const serviceReleasesDecider: Decider<ServiceReleasesCommand, Event, ServiceReleasesState> = {
  initialState: () => ({ artifacts: new Map(), libraries: new Map(), running: '' }),
  evolve,
  decide,
};

function evolve(state: ServiceReleasesState, event: Event): ServiceReleasesState {
  switch (event.type) {
    case 'ArtifactAdded':
      return { ...state, artifacts: new Map(state.artifacts).set(event.data.tag, event.data) };
    case 'ArtifactDeleted': {
      const artifacts = new Map(state.artifacts);
      artifacts.delete(event.data.tag);
      return { ...state, artifacts };
    }
    case 'LibraryFileAdded':
      return { ...state, libraries: new Map(state.libraries).set(event.data.name, event.data) };
    case 'LibraryFileDeleted': {
      const libraries = new Map(state.libraries);
      libraries.delete(event.data.name);
      return { ...state, libraries };
    }
    case 'ReleaseRunClaimed':
      return { ...state, running: event.data.planId };
    case 'ReleaseRunEnded':
      return state.running === event.data.planId ? { ...state, running: '' } : state;
    default:
      return state;
  }
}

function decide(command: ServiceReleasesCommand, state: ServiceReleasesState): Event[] {
  const service = parseSecondLevelName(command.service).full;
  switch (command.type) {
    case 'AddArtifact': {
      const tag = checkTag(command.tag);
      const sha256 = checkDigest(command.sha256, 'an artifact');
      const size = checkFileSize(command.size, MAX_ARTIFACT_BYTES, `artifact ${tag}`);
      const memo = checkMemo(command.memo);
      const existing = state.artifacts.get(tag);
      if (existing) {
        if (existing.sha256 === sha256) return [];
        return refuse('conflict', `artifact ${tag} of ${service} exists with other content (sha256 ${existing.sha256.slice(0, 12)}…): artifacts are immutable, use a new tag`);
      }
      const fileName = String(command.fileName ?? '').replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 128);
      return [{ type: 'ArtifactAdded', data: { service, tag, sha256, size, memo, fileName } }];
    }
    case 'DeleteArtifact':
      if (!state.artifacts.has(command.tag)) return refuse('not_found', `${service} has no artifact ${command.tag} (msec artifact list ${service})`);
      return [{ type: 'ArtifactDeleted', data: { service, tag: command.tag } }];
    case 'AddLibraryFile': {
      const name = checkLibraryName(command.name);
      const sha256 = checkDigest(command.sha256, 'a library file');
      const size = checkFileSize(command.size, MAX_LIBRARY_BYTES, `library file ${name}`);
      const memo = checkMemo(command.memo);
      const existing = state.libraries.get(name);
      if (existing && existing.sha256 === sha256 && existing.memo === memo) return [];
      if (!existing && state.libraries.size >= MAX_LIBRARY_FILES) return refuse('invalid', `${service} has ${MAX_LIBRARY_FILES} library files, the most it may have: delete one first`);
      return [{ type: 'LibraryFileAdded', data: { service, name, sha256, size, memo } }];
    }
    case 'DeleteLibraryFile':
      if (!state.libraries.has(command.name)) return refuse('not_found', `${service} has no library file ${command.name} (msec library list ${service})`);
      return [{ type: 'LibraryFileDeleted', data: { service, name: command.name } }];
    case 'ClaimReleaseRun': {
      const planId = checkPlanId(command.planId);
      if (state.running === planId) return [];
      if (state.running) return refuse('conflict', `release plan ${state.running} of ${service} is under way: wait for it to end, or cancel it (msec release cancel ${state.running})`);
      return [{ type: 'ReleaseRunClaimed', data: { service, planId } }];
    }
    case 'EndReleaseRun':
      return state.running === command.planId ? [{ type: 'ReleaseRunEnded', data: { service, planId: command.planId } }] : [];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
