import type { Grant, Role } from './roles.ts';

/** Commands on the access stream. `actor` is the user asking. */
export type AccessCommand =
  | { type: 'InitializeAccess'; existingUsers: string[] }
  | { type: 'SetUserAccess'; user: string; grants: Grant[] }
  | { type: 'GrantRole'; user: string; role: Role; service: string }
  | { type: 'RevokeRole'; user: string; role: Role; service: string; actor: string }
  | { type: 'RemoveUserAccess'; user: string; actor: string };
