/**
 * Events of access control (stream "access"): who holds which roles. One stream for every
 * user's grants, so "there is always an admin" is one aggregate's rule and holds across
 * console processes (optimistic concurrency on this stream). Shapes mirror
 * schemas/events/access.proto.
 */
import type { Grant } from './roles.ts';

export type AccessEvent =
  /** Roles arrive: every user that existed before keeps full rights as an admin. */
  | { type: 'AccessInitialized'; data: { admins: string[] } }
  /** A new account's grants (replacing any left from an earlier account of that name). */
  | { type: 'UserAccessSet'; data: { user: string; grants: Grant[] } }
  | { type: 'RoleGranted'; data: { user: string; role: Grant['role']; service: string } }
  | { type: 'RoleRevoked'; data: { user: string; role: Grant['role']; service: string } }
  /** The account is being removed: it holds nothing any more. */
  | { type: 'UserAccessRemoved'; data: { user: string } }
  /** A request refused for lack of a permission (stream "access-refusals"). */
  | { type: 'AccessRefused'; data: { user: string; permission: string; service: string; method: string; route: string; suppressed: number } };

export type AccessEventType = AccessEvent['type'];

export const accessEventTypes: readonly AccessEventType[] = [
  'AccessInitialized', 'UserAccessSet', 'RoleGranted', 'RoleRevoked', 'UserAccessRemoved', 'AccessRefused',
];
