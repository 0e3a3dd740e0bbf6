import { refuse, type Decider } from '../decider.ts';
import type { ServiceCommand } from './commands.ts';
import type { ServiceEvent } from './events.ts';
import { DEFAULT_HOST_WEIGHT, checkProtocol, checkWeight } from './hosts.ts';
import { checkKind } from './kinds.ts';
import { checkServiceSettings } from './settings.ts';
import { RESERVED, checkPort, checkTag, hostKey, isReservedFirstLevel, parseIpv4, parseSecondLevelName } from './names.ts';
import { evolveService, missingService, type HostState, type ServiceState } from './service-state.ts';
import { checkConfigText, checkIdlText, checkMemo } from './versions.ts';

export type { HostState, ServiceState, VersionState } from './service-state.ts';

/**
 * A second-level service ("Flight.mod_flight"), stream `service-<First>.<Second>`: its
 * hosts (what the name service routes to) and its config and IDL versions.
 */
export const serviceDecider: Decider<ServiceCommand, ServiceEvent, ServiceState> = {
  initialState: () => missingService,
  evolve: evolveService,
  decide,
};

function decide(command: ServiceCommand, state: ServiceState): ServiceEvent[] {
  if (command.type === 'CreateService') return decideCreate(command, state);
  if (!state.exists) {
    return refuse('not_found', `service ${command.service} does not exist; create it first`);
  }
  const { service } = command;

  switch (command.type) {
    case 'DeleteService': {
      if (isReservedFirstLevel(parseSecondLevelName(service).first)) {
        return refuse('forbidden', `${service} belongs to the platform (${RESERVED} holds the monitor and log services) and cannot be deleted`);
      }
      if (state.hosts.size > 0) {
        return refuse('conflict', `${service} still has ${state.hosts.size} host(s); remove them first (disable, then remove each host)`);
      }
      return [{ type: 'ServiceDeleted', data: { service } }];
    }

    case 'AddHost': {
      const ip = parseIpv4(command.ip);
      const port = checkPort(command.port, 'host port');
      const protocol = checkProtocol(command.protocol);
      const weight = checkWeight(command.weight ?? DEFAULT_HOST_WEIGHT);
      if (state.hosts.has(hostKey(ip, port))) {
        return refuse('conflict', `host ${hostKey(ip, port)} is already in ${service}; change its weight or state instead`);
      }
      // A new host starts disabled, as in MSEC: it joins the name service only when
      // enabled (scale out), after something has been released to it.
      return [{ type: 'HostAdded', data: { service, ip, port, protocol, weight } }];
    }

    // Enabling an enabled host (or disabling a disabled one) decides nothing instead of
    // failing: in MSEC scaling out a host twice is not an error, the wanted state simply
    // holds already, and retried commands must not fail on their own first success.
    case 'EnableHost': {
      const host = findHost(state, service, command);
      return host.enabled ? [] : [{ type: 'HostEnabled', data: { service, ip: host.ip, port: host.port } }];
    }
    case 'DisableHost': {
      const host = findHost(state, service, command);
      return host.enabled ? [{ type: 'HostDisabled', data: { service, ip: host.ip, port: host.port } }] : [];
    }

    case 'RemoveHost': {
      const host = findHost(state, service, command);
      if (host.enabled) {
        return refuse('conflict', `host ${hostKey(host.ip, host.port)} still receives traffic; disable (scale in) the host first, then remove it`);
      }
      return [{ type: 'HostRemoved', data: { service, ip: host.ip, port: host.port } }];
    }

    case 'SetHostWeight': {
      const weight = checkWeight(command.weight);
      const host = findHost(state, service, command);
      if (host.weight === weight) return [];
      return [{ type: 'HostWeightSet', data: { service, ip: host.ip, port: host.port, weight } }];
    }

    case 'AddConfigVersion':
      return addVersion(versionRules.config, state, service, command);
    case 'DeleteConfigVersion':
      return deleteVersion(versionRules.config, state, service, command.tag);
    case 'AddIdlVersion':
      return addVersion(versionRules.idl, state, service, command);
    case 'DeleteIdlVersion':
      return deleteVersion(versionRules.idl, state, service, command.tag);

    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function decideCreate(command: Extract<ServiceCommand, { type: 'CreateService' }>, state: ServiceState): ServiceEvent[] {
  const { first, full: service } = parseSecondLevelName(command.service);
  const kind = checkKind(command.kind);
  if (isReservedFirstLevel(first) && command.system !== true) {
    return refuse('forbidden', `${RESERVED} is reserved for the platform's monitor and log services; choose another first-level name`);
  }
  if (state.exists) {
    return refuse('conflict', `service ${service} already exists; pick another name or delete it first`);
  }
  const { lang, port } = checkServiceSettings({ kind, lang: command.lang, port: command.port });
  return [{ type: 'ServiceCreated', data: { service, kind, lang, port } }];
}

function findHost(state: ServiceState, service: string, at: { ip: string; port: number }): HostState {
  const host = state.hosts.get(hostKey(at.ip, at.port));
  if (!host) {
    return refuse('not_found', `${service} has no host ${hostKey(at.ip, at.port)}; add it first`);
  }
  return host;
}

/** Config and IDL versions follow one set of rules; only their text check and event names differ. */
const versionRules = {
  config: {
    label: 'config', versions: (s: ServiceState) => s.configVersions, checkText: checkConfigText,
    added: 'ConfigVersionAdded', deleted: 'ConfigVersionDeleted',
  },
  idl: {
    label: 'IDL', versions: (s: ServiceState) => s.idlVersions, checkText: checkIdlText,
    added: 'IdlVersionAdded', deleted: 'IdlVersionDeleted',
  },
} as const;

type VersionRules = (typeof versionRules)[keyof typeof versionRules];

function addVersion(rules: VersionRules, state: ServiceState, service: string, command: { tag: string; text: string; memo: string }): ServiceEvent[] {
  if (state.kind === 'odd') {
    // MSEC's heterogeneous services are an IP:port list with scaling only: msec builds and releases nothing for them.
    return refuse('invalid', `${service} is an odd (non-standard) service: it has hosts and routing only, no ${rules.label} versions`);
  }
  const tag = checkTag(command.tag);
  const memo = checkMemo(command.memo);
  const text = rules.checkText(command.text);
  if (rules.versions(state).has(tag)) {
    return refuse('conflict', `${service} already has ${rules.label} version ${tag}; versions never change, so save under a new tag`);
  }
  return [{ type: rules.added, data: { service, tag, text, memo } }];
}

function deleteVersion(rules: VersionRules, state: ServiceState, service: string, tag: string): ServiceEvent[] {
  if (!rules.versions(state).has(tag)) {
    return refuse('not_found', `${service} has no ${rules.label} version ${tag}`);
  }
  return [{ type: rules.deleted, data: { service, tag } }];
}
