import type { HostProtocol, ServiceEvent, ServiceKind } from './events.ts';
import { hostKey } from './names.ts';

/** What a second-level service (stream `service-<First>.<Second>`) remembers of its past. */
export interface ServiceState {
  exists: boolean;
  name: string | null;
  kind: ServiceKind | null;
  lang: string;
  port: number;
  /** Keyed "ip:port" (see hostKey). */
  hosts: ReadonlyMap<string, HostState>;
  /** Keyed by tag. */
  configVersions: ReadonlyMap<string, VersionState>;
  idlVersions: ReadonlyMap<string, VersionState>;
}

export interface HostState {
  ip: string;
  port: number;
  protocol: HostProtocol;
  weight: number;
  /** Enabled hosts are in the name service; MSEC calls enabling "scale out". */
  enabled: boolean;
}

export interface VersionState {
  text: string;
  memo: string;
}

export const missingService: ServiceState = {
  exists: false,
  name: null,
  kind: null,
  lang: '',
  port: 0,
  hosts: new Map(),
  configVersions: new Map(),
  idlVersions: new Map(),
};

export function evolveService(state: ServiceState, event: ServiceEvent): ServiceState {
  switch (event.type) {
    case 'ServiceCreated': {
      const { service, kind, lang, port } = event.data;
      return { ...missingService, exists: true, name: service, kind, lang, port };
    }
    case 'ServiceDeleted':
      // Back to "never existed": the name can be created again from scratch.
      return missingService;
    case 'HostAdded': {
      const { ip, port, protocol, weight } = event.data;
      return withHost(state, hostKey(ip, port), { ip, port, protocol, weight, enabled: false });
    }
    case 'HostEnabled':
      return updateHost(state, event.data, (host) => ({ ...host, enabled: true }));
    case 'HostDisabled':
      return updateHost(state, event.data, (host) => ({ ...host, enabled: false }));
    case 'HostWeightSet':
      return updateHost(state, event.data, (host) => ({ ...host, weight: event.data.weight }));
    case 'HostRemoved': {
      const hosts = new Map(state.hosts);
      hosts.delete(hostKey(event.data.ip, event.data.port));
      return { ...state, hosts };
    }
    case 'ConfigVersionAdded': {
      const { tag, text, memo } = event.data;
      return { ...state, configVersions: new Map(state.configVersions).set(tag, { text, memo }) };
    }
    case 'ConfigVersionDeleted': {
      const configVersions = new Map(state.configVersions);
      configVersions.delete(event.data.tag);
      return { ...state, configVersions };
    }
    case 'IdlVersionAdded': {
      const { tag, text, memo } = event.data;
      return { ...state, idlVersions: new Map(state.idlVersions).set(tag, { text, memo }) };
    }
    case 'IdlVersionDeleted': {
      const idlVersions = new Map(state.idlVersions);
      idlVersions.delete(event.data.tag);
      return { ...state, idlVersions };
    }
    // First-level events live on the first-level stream.
    case 'FirstLevelServiceCreated':
    case 'FirstLevelServiceDeleted':
    case 'ChildServiceClaimed':
    case 'ChildServiceLinked':
    case 'ChildServiceUnlinked':
      return state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function withHost(state: ServiceState, key: string, host: HostState): ServiceState {
  return { ...state, hosts: new Map(state.hosts).set(key, host) };
}

function updateHost(state: ServiceState, at: { ip: string; port: number }, change: (host: HostState) => HostState): ServiceState {
  const key = hostKey(at.ip, at.port);
  const host = state.hosts.get(key);
  return host ? withHost(state, key, change(host)) : state;
}
