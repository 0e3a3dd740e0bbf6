import { refuse, type Decider } from '../decider.ts';
import { checkUserName } from '../users/user-name.ts';
import { parseFirstLevelName } from '../services/names.ts';
import type { AccessCommand } from './commands.ts';
import type { AccessEvent } from './events.ts';
import { grantChanges } from './grants.ts';
import { checkRole, describeGrant, sameGrant, type Grant } from './roles.ts';

/**
 * Access control, stream "access": every user's grants. The rule that needs every user at
 * once lives here: the console always keeps someone who can manage users (an unscoped
 * admin), so neither revoking a role nor removing an account may take away the last one.
 */
export interface AccessState {
  initialized: boolean;
  grants: ReadonlyMap<string, readonly Grant[]>;
}

const initial: AccessState = { initialized: false, grants: new Map() };

export const accessDecider: Decider<AccessCommand, AccessEvent, AccessState> = {
  initialState: () => initial,
  evolve,
  decide,
};

/** Users holding an unscoped admin grant. */
export function admins(state: AccessState): string[] {
  return [...state.grants].filter(([, gs]) => gs.some(isFullAdmin)).map(([user]) => user).sort();
}

const isFullAdmin = (g: Grant) => g.role === 'admin' && g.service === '';

function evolve(state: AccessState, event: AccessEvent): AccessState {
  const changes = grantChanges(event, (user) => state.grants.get(user) ?? []);
  if (changes.length === 0 && event.type !== 'AccessInitialized') return state;
  const grants = new Map(state.grants);
  for (const { user, grants: now } of changes) {
    if (now.length) grants.set(user, now);
    else grants.delete(user);
  }
  return { initialized: state.initialized || event.type === 'AccessInitialized', grants };
}

function decide(command: AccessCommand, state: AccessState): AccessEvent[] {
  if (command.type === 'InitializeAccess') {
    if (state.initialized) return [];
    return [{ type: 'AccessInitialized', data: { admins: [...new Set(command.existingUsers.map(checkUserName))].sort() } }];
  }
  if (!state.initialized) {
    return refuse('conflict', 'access control is not initialized yet: the console does it when it starts; try again in a moment');
  }
  switch (command.type) {
    case 'SetUserAccess': {
      const user = checkUserName(command.user);
      const grants = dedupe(command.grants.map(checkGrant));
      const held = state.grants.get(user) ?? [];
      if (held.length === grants.length && held.every((g) => grants.some((x) => sameGrant(g, x)))) return [];
      return [{ type: 'UserAccessSet', data: { user, grants } }];
    }
    case 'GrantRole': {
      const user = checkUserName(command.user);
      const grant = checkGrant({ role: command.role, service: command.service });
      if ((state.grants.get(user) ?? []).some((g) => sameGrant(g, grant))) return [];
      return [{ type: 'RoleGranted', data: { user, ...grant } }];
    }
    case 'RevokeRole': {
      const user = checkUserName(command.user);
      const grant = checkGrant({ role: command.role, service: command.service });
      const held = state.grants.get(user) ?? [];
      if (!held.some((g) => sameGrant(g, grant))) {
        return refuse('not_found', `${user} does not hold ${describeGrant(grant)}${held.length ? ` (holds: ${held.map(describeGrant).join(', ')})` : ''}`);
      }
      if (isFullAdmin(grant)) keepAnAdmin(state, user, 'revoke admin from');
      return [{ type: 'RoleRevoked', data: { user, ...grant } }];
    }
    case 'RemoveUserAccess': {
      const user = checkUserName(command.user);
      if (command.actor === user) return refuse('forbidden', 'you cannot remove yourself; ask another admin to remove your account');
      if ((state.grants.get(user) ?? []).some(isFullAdmin)) keepAnAdmin(state, user, 'remove');
      return state.grants.has(user) ? [{ type: 'UserAccessRemoved', data: { user } }] : [];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function keepAnAdmin(state: AccessState, user: string, doing: string): void {
  const others = admins(state).filter((a) => a !== user);
  if (others.length === 0) {
    refuse('conflict', `cannot ${doing} ${user}: it is the last admin; grant admin to another user first (msec user grant NAME admin)`);
  }
}

function checkGrant(g: Grant): Grant {
  const role = checkRole(g.role);
  const service = g.service ?? '';
  if (service !== '') {
    if (role === 'admin') return refuse('invalid', 'admin is never scoped to a service: grant operator or viewer with --service, or admin without it');
    if (service.includes('.')) return refuse('invalid', `roles are scoped to a first-level service: use ${service.slice(0, service.indexOf('.'))}, not ${service}`);
    parseFirstLevelName(service);
  }
  return { role, service };
}

function dedupe(grants: Grant[]): Grant[] {
  return grants.filter((g, i) => grants.findIndex((x) => sameGrant(x, g)) === i);
}
