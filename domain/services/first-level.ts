import { refuse, type Decider } from '../decider.ts';
import type { FirstLevelCommand } from './commands.ts';
import type { ServiceEvent, ServiceKind } from './events.ts';
import { checkKind } from './kinds.ts';
import { RESERVED, isReservedFirstLevel, parseChildName, parseFirstLevelName } from './names.ts';

/**
 * A first-level service ("Flight"), stream `service-<First>`: a folder of second-level
 * services of one kind. MSEC keeps standard and odd (heterogeneous) services in separate
 * trees, so a first level holds children of its own kind only.
 */
export interface FirstLevelState {
  exists: boolean;
  name: string | null;
  kind: ServiceKind | null;
  /** Second-level names ("mod_flight") linked under this first level. */
  children: ReadonlySet<string>;
  /** RESERVED holds the platform's monitor and log services and is never deleted. */
  systemReserved: boolean;
}

const missing: FirstLevelState = { exists: false, name: null, kind: null, children: new Set(), systemReserved: false };

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
        children: new Set(),
        systemReserved: isReservedFirstLevel(event.data.name),
      };
    case 'FirstLevelServiceDeleted':
      // Back to "never existed": the name can be created again, with either kind.
      return missing;
    case 'ChildServiceLinked':
      return { ...state, children: new Set(state.children).add(event.data.child) };
    case 'ChildServiceUnlinked': {
      const children = new Set(state.children);
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
        const names = [...state.children].sort().map((child) => `${name}.${child}`).join(', ');
        return refuse('conflict', `first-level service ${name} still has second-level services (${names}); delete them first`);
      }
      return [{ type: 'FirstLevelServiceDeleted', data: { name } }];
    }

    case 'LinkChildService': {
      const parent = parseFirstLevelName(command.parent);
      const child = parseChildName(command.child);
      const kind = checkKind(command.kind);
      refuseReservedUnlessSystem(parent, command.system);
      if (!state.exists) {
        // Creating Flight.mod_flight before Flight exists creates Flight too, like MSEC's
        // "add service" form which takes both levels at once.
        return [
          { type: 'FirstLevelServiceCreated', data: { name: parent, kind } },
          { type: 'ChildServiceLinked', data: { parent, child } },
        ];
      }
      if (state.kind !== kind) {
        return refuse('invalid', `${parent} is ${describeKind(state.kind!)} first-level service, so ${parent}.${child} (${kind}) cannot go under it; `
          + `MSEC keeps standard and odd services apart, so create it under ${describeKind(kind)} first-level service instead`);
      }
      // Already linked: a retried "create service" resumes without a duplicate link.
      if (state.children.has(child)) return [];
      return [{ type: 'ChildServiceLinked', data: { parent, child } }];
    }

    case 'UnlinkChildService': {
      const parent = parseFirstLevelName(command.parent);
      const child = parseChildName(command.child);
      // Not linked (or no first level at all): a retried "delete service" resumes quietly.
      if (!state.exists || !state.children.has(child)) return [];
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

function describeKind(kind: ServiceKind): string {
  return kind === 'odd' ? 'an odd (heterogeneous)' : 'a standard';
}
