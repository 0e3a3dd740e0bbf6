/** Events of console users. Payload shapes mirror schemas/events/users.proto. */
export type UserEvent =
  | { type: 'UserCreated'; data: { name: string; passwordHash: string } }
  | { type: 'PasswordChanged'; data: { name: string; passwordHash: string } }
  | { type: 'UserRemoved'; data: { name: string } }
  /** `scope`: '' acts with the user's roles; 'routes' may read routing tables and nothing else. */
  | { type: 'ApiTokenIssued'; data: { name: string; tokenId: string; tokenHash: string; label: string; scope: TokenScope } }
  | { type: 'ApiTokenRevoked'; data: { name: string; tokenId: string } }
  /** Logout: the browser session with this nonce is refused until it would have expired anyway. */
  | { type: 'SessionEnded'; data: { name: string; nonce: string; expiresAtMs: number } };

export type TokenScope = '' | 'routes';
export const tokenScopes: readonly TokenScope[] = ['', 'routes'];

export type UserEventType = UserEvent['type'];

export const userEventTypes: readonly UserEventType[] = [
  'UserCreated', 'PasswordChanged', 'UserRemoved', 'ApiTokenIssued', 'ApiTokenRevoked', 'SessionEnded',
];
