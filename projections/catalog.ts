import type { RecordedEvent } from '../domain/events.ts';
import { serviceEventTypes, type ServiceEvent } from '../domain/services/events.ts';
import { streams } from '../domain/streams.ts';
import type { StateProjection } from './projection.ts';
import { compareText } from './sorted-list.ts';
import {
  emptyCatalog, firstLevelList, serviceList,
  type CatalogHost, type CatalogState, type FirstLevelService, type SecondLevelService, type VersionRecord,
} from './catalog-state.ts';

export * from './catalog-state.ts';
export * from './catalog-queries.ts';

/**
 * Folds the service events into the service tree. Deleting a service forgets it entirely
 * (hosts, versions): a service created again under the same name starts empty, as in MSEC
 * where the rows were deleted. Events about a service that does not exist are ignored:
 * the deciders never write them, and a read model must not crash on the log it is given.
 */
export const catalogProjection: StateProjection<CatalogState> = {
  kind: 'state',
  name: 'catalog',
  version: 1,
  handles: serviceEventTypes,
  initialState: emptyCatalog,
  apply: (state, event) => applyServiceEvent(state, event as RecordedEvent<ServiceEvent>),
};

function applyServiceEvent(state: CatalogState, event: RecordedEvent<ServiceEvent>): CatalogState {
  switch (event.type) {
    case 'FirstLevelServiceCreated': {
      const { name, kind } = event.data;
      const created: FirstLevelService = { name, kind, revision: event.revision, createdAt: event.occurredAt, children: [] };
      return { ...state, firstLevels: firstLevelList.with(state.firstLevels, created) };
    }
    case 'FirstLevelServiceDeleted':
      return { ...state, firstLevels: firstLevelList.without(state.firstLevels, event.data.name) };
    // A claimed child is listed at once (as a child whose service does not exist yet), like a
    // linked one in logs from before claims: the tree shows the creation in progress.
    case 'ChildServiceClaimed':
    case 'ChildServiceLinked':
      return updateFirstLevel(state, event, (first) => ({
        ...first, children: [...first.children.filter((c) => c !== childName(event.data)), childName(event.data)].sort(compareText),
      }));
    case 'ChildServiceUnlinked':
      return updateFirstLevel(state, event, (first) => ({
        ...first, children: first.children.filter((c) => c !== childName(event.data)),
      }));

    case 'ServiceCreated': {
      const { service, kind, lang, port } = event.data;
      const [parent, name] = splitFullName(service);
      const created: SecondLevelService = {
        fullName: service, parent, name, kind, lang, port,
        revision: event.revision, createdAt: event.occurredAt, hosts: [], configs: [], idls: [],
      };
      return { ...state, services: serviceList.with(state.services, created) };
    }
    case 'ServiceDeleted':
      return { ...state, services: serviceList.without(state.services, event.data.service) };

    case 'HostAdded': {
      const { ip, port, protocol, weight } = event.data;
      const host: CatalogHost = { ip, port, protocol, weight, enabled: false, addedAt: event.occurredAt };
      return updateService(state, event, (s) => ({ ...s, hosts: [...s.hosts.filter((h) => !sameHost(h, event.data)), host] }));
    }
    case 'HostEnabled':
      return updateHost(state, event, (h) => ({ ...h, enabled: true }));
    case 'HostDisabled':
      return updateHost(state, event, (h) => ({ ...h, enabled: false }));
    case 'HostWeightSet':
      return updateHost(state, event, (h) => ({ ...h, weight: event.data.weight }));
    case 'HostRemoved':
      return updateService(state, event, (s) => ({ ...s, hosts: s.hosts.filter((h) => !sameHost(h, event.data)) }));

    case 'ConfigVersionAdded':
      return updateService(state, event, (s) => ({ ...s, configs: withVersion(s.configs, versionRecord(event)) }));
    case 'ConfigVersionDeleted':
      return updateService(state, event, (s) => ({ ...s, configs: s.configs.filter((v) => v.tag !== event.data.tag) }));
    case 'IdlVersionAdded':
      return updateService(state, event, (s) => ({ ...s, idls: withVersion(s.idls, versionRecord(event)) }));
    case 'IdlVersionDeleted':
      return updateService(state, event, (s) => ({ ...s, idls: s.idls.filter((v) => v.tag !== event.data.tag) }));

    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** "Flight.mod_flight" → ["Flight", "mod_flight"]. */
export function splitFullName(fullName: string): [string, string] {
  const dot = fullName.indexOf('.');
  return dot < 0 ? [fullName, ''] : [fullName.slice(0, dot), fullName.slice(dot + 1)];
}

/** The events name the child by its second level ("mod_flight"); accept a full name too. */
function childName(data: { parent: string; child: string }): string {
  return data.child.startsWith(`${data.parent}.`) ? data.child.slice(data.parent.length + 1) : data.child;
}

/** Applies `change` to a first level; the stream revision follows events of its own stream. */
function updateFirstLevel(
  state: CatalogState,
  event: RecordedEvent<Extract<ServiceEvent, { data: { parent: string } }>>,
  change: (first: FirstLevelService) => FirstLevelService,
): CatalogState {
  const first = firstLevelList.find(state.firstLevels, event.data.parent);
  if (!first) return state;
  const changed = change(first);
  const revision = event.stream === streams.service(first.name) ? event.revision : first.revision;
  return { ...state, firstLevels: firstLevelList.with(state.firstLevels, { ...changed, revision }) };
}

function updateService(
  state: CatalogState,
  event: RecordedEvent<Extract<ServiceEvent, { data: { service: string } }>>,
  change: (service: SecondLevelService) => SecondLevelService,
): CatalogState {
  const service = serviceList.find(state.services, event.data.service);
  if (!service) return state;
  const changed = change(service);
  const revision = event.stream === streams.service(service.fullName) ? event.revision : service.revision;
  return { ...state, services: serviceList.with(state.services, { ...changed, revision }) };
}

function updateHost(
  state: CatalogState,
  event: RecordedEvent<Extract<ServiceEvent, { data: { service: string; ip: string; port: number } }>>,
  change: (host: CatalogHost) => CatalogHost,
): CatalogState {
  return updateService(state, event, (s) => ({
    ...s, hosts: s.hosts.map((h) => (sameHost(h, event.data) ? change(h) : h)),
  }));
}

function sameHost(a: { ip: string; port: number }, b: { ip: string; port: number }): boolean {
  return a.ip === b.ip && a.port === b.port;
}

/** A tag saved again (after a delete) goes to the end, where a new version belongs. */
function withVersion(versions: VersionRecord[], added: VersionRecord): VersionRecord[] {
  return [...versions.filter((v) => v.tag !== added.tag), added];
}

function versionRecord(event: RecordedEvent<Extract<ServiceEvent, { type: 'ConfigVersionAdded' | 'IdlVersionAdded' }>>): VersionRecord {
  const { tag, memo, text } = event.data;
  return { tag, memo, text, size: utf8Bytes.encode(text).byteLength, addedAt: event.occurredAt, actor: event.actor };
}

const utf8Bytes = new TextEncoder();
