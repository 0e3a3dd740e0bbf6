import type { TokenScope } from './events.ts';

/** Commands on a console user (stream "user-<name>"). Hashes are computed before deciding
 *  (domain/users/password-hash.ts), so the decider stays pure. */
export type UserCommand =
  | { type: 'CreateUser'; name: string; passwordHash: string }
  | { type: 'ChangePassword'; name: string; passwordHash: string }
  /** `actor` is the user asking; nobody removes themselves. */
  | { type: 'RemoveUser'; name: string; actor: string }
  | { type: 'IssueApiToken'; name: string; tokenId: string; tokenHash: string; label: string; scope?: TokenScope }
  | { type: 'RevokeApiToken'; name: string; tokenId: string }
  | { type: 'EndSession'; name: string; nonce: string; expiresAtMs: number };
