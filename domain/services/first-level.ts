import { refuse, type Decider } from '../decider.ts';
import type { FirstLevelCommand } from './commands.ts';
import type { ServiceEvent, ServiceKind } from './events.ts';
import { checkKind } from './kinds.ts';
import { RESERVED, isReservedFirstLevel, parseChildName, parseFirstLevelName } from './names.ts';
import { checkServiceSettings, sameSettings, type ServiceSettings } from './settings.ts';

/**
 * A first-level service ("Flight"), stream `service-<First>`: a folder of second-level
 * services of one kind. MSEC keeps standard and odd (heterogeneous) services in separate
 * trees, so a first level holds children of its own kind only.
 */
/**
 * How a first level holds a second-level name. A creation claims the name first (so the first
 * level cannot be deleted and no other creation takes it), then creates the service in its own
 * stream, then confirms the link; see tree-workflows.ts for why every step is safe when several
 * consoles run them at once.
 */
export type ChildLink =
  /** A creation is in progress with these settings; its service may exist already. */
  | ({ status: 'claimed' } & ServiceSettings)
  /** The service was created (or, in logs from before claims, linked then created). */
  | { status: 'linked' };

export interface FirstLevelState {
  exists: boolean;
  name: string | null;
  kind: ServiceKind | null;
  /** Second-level names ("mod_flight") held under this first level, claimed or linked. */
  children: ReadonlyMap<string, ChildLink>;
  /** RESERVED holds the platform's monitor and log services and is never deleted. */
  systemReserved: boolean;
}

const missing: FirstLevelState = { exists: false, name: null, kind: null, children: new Map(), systemReserved: false };

export const firstLevelDecider: Decider<FirstLevelCommand, ServiceEvent, FirstLevelState> = {
  initialState: () => missing,
  evolve,
  decide,
};

function evolve(state: FirstLevelState, event: ServiceEvent): FirstLevelState {
  switch (event.type) {
    case 'FirstLevelServiceCreated':
      return {
        exists: true,
        name: event.data.name,
        kind: event.data.kind,
        children: new Map(),
        systemReserved: isReservedFirstLevel(event.data.name),
      };
    case 'FirstLevelServiceDeleted':
      // Back to "never existed": the name can be created again, with either kind.
      return missing;
    case 'ChildServiceClaimed': {
      const { child, kind, lang, port } = event.data;
      return { ...state, children: new Map(state.children).set(child, { status: 'claimed', kind, lang, port }) };
    }
    case 'ChildServiceLinked':
      return { ...state, children: new Map(state.children).set(event.data.child, { status: 'linked' }) };
    case 'ChildServiceUnlinked': {
      const children = new Map(state.children);
      children.delete(event.data.child);
      return { ...state, children };
    }
    // Events of second-level streams never reach a first-level stream.
    case 'ServiceCreated':
    case 'ServiceDeleted':
    case 'HostAdded':
    case 'HostEnabled':
    case 'HostDisabled':
    case 'HostRemoved':
    case 'HostWeightSet':
    case 'ConfigVersionAdded':
    case 'ConfigVersionDeleted':
    case 'IdlVersionAdded':
    case 'IdlVersionDeleted':
      return state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function decide(command: FirstLevelCommand, state: FirstLevelState): ServiceEvent[] {
  switch (command.type) {
    case 'CreateFirstLevelService': {
      const name = parseFirstLevelName(command.name);
      const kind = checkKind(command.kind);
      refuseReservedUnlessSystem(name, command.system);
      if (state.exists) {
        return refuse('conflict', `first-level service ${name} already exists; add second-level services under it or pick another name`);
      }
      return [{ type: 'FirstLevelServiceCreated', data: { name, kind } }];
    }

    case 'DeleteFirstLevelService': {
      const name = parseFirstLevelName(command.name);
      if (!state.exists) return refuse('not_found', `first-level service ${name} does not exist`);
      if (state.systemReserved) {
        return refuse('forbidden', `${RESERVED} is required by the monitor and log services and cannot be deleted`);
      }
      if (state.children.size > 0) {
        const names = [...state.children.keys()].sort()
          .map((child) => `${name}.${child}${state.children.get(child)!.status === 'claimed' ? ' (being created)' : ''}`).join(', ');
        return refuse('conflict', `first-level service ${name} still has second-level services (${names}); delete them first`);
      }
      return [{ type: 'FirstLevelServiceDeleted', data: { name } }];
    }

    case 'ClaimChildService': {
      const parent = parseFirstLevelName(command.parent);
      const child = parseChildName(command.child);
      checkKind(command.kind);
      refuseReservedUnlessSystem(parent, command.system);
      const settings = checkServiceSettings(command);
      const claimed: ServiceEvent = { type: 'ChildServiceClaimed', data: { parent, child, ...settings } };
      if (!state.exists) {
        // Creating Flight.mod_flight before Flight exists creates Flight too, like MSEC's
        // "add service" form which takes both levels at once.
        return [{ type: 'FirstLevelServiceCreated', data: { name: parent, kind: settings.kind } }, claimed];
      }
      if (state.kind !== settings.kind) {
        return refuse('invalid', `${parent} is ${describeKind(state.kind!)} first-level service, so ${parent}.${child} (${settings.kind}) cannot go under it; `
          + `MSEC keeps standard and odd services apart, so create it under ${describeKind(settings.kind)} first-level service instead`);
      }
      const link = state.children.get(child);
      if (link?.status === 'linked') return refuse('conflict', `service ${parent}.${child} already exists; pick another name or delete it first`);
      if (link) {
        // The same creation sent again (it stopped half-way, or two consoles got it) resumes.
        if (sameSettings(link, settings)) return [];
        return refuse('conflict', `service ${parent}.${child} is being created by another request with other settings (${describeSettings(link)}); `
          + 'pick another name, or change its settings once it exists');
      }
      return [claimed];
    }

    case 'LinkChildService': {
      const parent = parseFirstLevelName(command.parent);
      const child = parseChildName(command.child);
      const link = state.exists ? state.children.get(child) : undefined;
      if (!link) return refuse('not_found', `service ${parent}.${child} is not being created; create it (which claims its name) first`);
      // Already linked: a creation finished by another request decides nothing more.
      return link.status === 'linked' ? [] : [{ type: 'ChildServiceLinked', data: { parent, child } }];
    }

    case 'UnlinkChildService': {
      const parent = parseFirstLevelName(command.parent);
      const child = parseChildName(command.child);
      const link = state.exists ? state.children.get(child) : undefined;
      // Not linked (or no first level at all): a retried "delete service" resumes quietly.
      if (!link) return [];
      if (link.status === 'claimed') {
        // Only a created service is ever deleted: a claim ends by its link, so a creation in
        // progress never finds its name taken away under it.
        return refuse('conflict', `service ${parent}.${child} is being created; wait for that request to finish, or send the same creation again if it stopped half-way, then delete it`);
      }
      return [{ type: 'ChildServiceUnlinked', data: { parent, child } }];
    }

    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function refuseReservedUnlessSystem(first: string, system: boolean | undefined): void {
  if (isReservedFirstLevel(first) && system !== true) {
    refuse('forbidden', `${RESERVED} is reserved for the platform's monitor and log services; choose another first-level name`);
  }
}

function describeSettings(s: ServiceSettings): string {
  return `${s.kind}, ${s.lang || 'no language'}, port ${s.port}`;
}

function describeKind(kind: ServiceKind): string {
  return kind === 'odd' ? 'an odd (heterogeneous)' : 'a standard';
}
