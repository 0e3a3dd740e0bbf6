import type { AccessEvent } from './events.ts';
import { sameGrant, type Grant } from './roles.ts';

/**
 * The users whose grants an access event changes, each with its grants after the event.
 * One fold shared by the access decider and the users projection, so the console checks
 * requests against exactly the grants the decider reasons about.
 */
export function grantChanges(event: AccessEvent, held: (user: string) => readonly Grant[]): Array<{ user: string; grants: Grant[] }> {
  switch (event.type) {
    case 'AccessInitialized':
      return event.data.admins.filter((user) => held(user).length === 0).map((user) => ({ user, grants: [{ role: 'admin', service: '' }] }));
    case 'UserAccessSet':
      return [{ user: event.data.user, grants: event.data.grants.map(({ role, service }) => ({ role, service })) }];
    case 'RoleGranted': {
      const { user, role, service } = event.data;
      const now = held(user);
      return now.some((g) => sameGrant(g, { role, service })) ? [] : [{ user, grants: [...now, { role, service }] }];
    }
    case 'RoleRevoked': {
      const { user, role, service } = event.data;
      return [{ user, grants: held(user).filter((g) => !sameGrant(g, { role, service })) }];
    }
    case 'UserAccessRemoved':
      return [{ user: event.data.user, grants: [] }];
    case 'AccessRefused':
      return [];
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
