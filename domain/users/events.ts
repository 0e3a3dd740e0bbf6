/** Events of console users. Payload shapes mirror schemas/events/users.proto. */
export type UserEvent =
  | { type: 'UserCreated'; data: { name: string; passwordHash: string } }
  | { type: 'PasswordChanged'; data: { name: string; passwordHash: string } }
  | { type: 'UserRemoved'; data: { name: string } }
  | { type: 'ApiTokenIssued'; data: { name: string; tokenId: string; tokenHash: string; label: string } }
  | { type: 'ApiTokenRevoked'; data: { name: string; tokenId: string } };

export type UserEventType = UserEvent['type'];

export const userEventTypes: readonly UserEventType[] = [
  'UserCreated', 'PasswordChanged', 'UserRemoved', 'ApiTokenIssued', 'ApiTokenRevoked',
];
