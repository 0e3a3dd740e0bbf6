import type { RecordedEvent } from '../domain/events.ts';
import { userEventTypes, type UserEvent } from '../domain/users/events.ts';
import type { StateProjection } from './projection.ts';
import { keyedList } from './sorted-list.ts';

/**
 * Console users for authentication: password hashes and API token hashes (never secrets).
 * `tokenOwners` indexes tokens by hash so a bearer token is checked with one binary search.
 * Removing a user revokes their tokens; a user created again under the same name starts
 * with no tokens.
 */
export interface UsersState {
  /** Sorted by name. */
  users: UserRecord[];
  /** Sorted by token hash. */
  tokenOwners: TokenOwner[];
}

export interface TokenOwner {
  tokenHash: string;
  user: string;
  tokenId: string;
}

export interface UserRecord {
  name: string;
  passwordHash: string;
  createdAt: string;
  passwordChangedAt: string;
  /** In the order they were issued. */
  tokens: TokenRecord[];
}

export interface TokenRecord {
  tokenId: string;
  label: string;
  tokenHash: string;
  issuedAt: string;
}

/** A user as listed by GET /api/users: no hashes. */
export interface UserListing {
  name: string;
  createdAt: string;
  tokens: { tokenId: string; label: string; issuedAt: string }[];
}

export const usersProjection: StateProjection<UsersState> = {
  kind: 'state',
  name: 'users',
  version: 1,
  handles: userEventTypes,
  initialState: () => ({ users: [], tokenOwners: [] }),
  apply: (state, event) => applyUserEvent(state, event as RecordedEvent<UserEvent>),
};

export function findUser(state: UsersState, name: string): UserRecord | null {
  return userList.find(state.users, name) ?? null;
}

export function findTokenByHash(state: UsersState, tokenHash: string): { user: UserRecord; token: TokenRecord } | null {
  const owner = ownerList.find(state.tokenOwners, tokenHash);
  const user = owner && userList.find(state.users, owner.user);
  const token = user?.tokens.find((t) => t.tokenId === owner!.tokenId);
  return user && token ? { user, token } : null;
}

export function userCount(state: UsersState): number {
  return state.users.length;
}

/** Users by name, without any hash. */
export function listUsers(state: UsersState): UserListing[] {
  return state.users.map(({ name, createdAt, tokens }) => ({
    name, createdAt, tokens: tokens.map(({ tokenId, label, issuedAt }) => ({ tokenId, label, issuedAt })),
  }));
}

function applyUserEvent(state: UsersState, event: RecordedEvent<UserEvent>): UsersState {
  switch (event.type) {
    case 'UserCreated': {
      const { name, passwordHash } = event.data;
      const user: UserRecord = { name, passwordHash, createdAt: event.occurredAt, passwordChangedAt: event.occurredAt, tokens: [] };
      // A stale record under this name (should not exist) must not leave tokens behind.
      const cleared = dropUser(state, name);
      return { ...cleared, users: userList.with(cleared.users, user) };
    }
    case 'PasswordChanged':
      return updateUser(state, event.data.name, (u) => ({ ...u, passwordHash: event.data.passwordHash, passwordChangedAt: event.occurredAt }));
    case 'UserRemoved':
      return dropUser(state, event.data.name);
    case 'ApiTokenIssued': {
      const { name, tokenId, tokenHash, label } = event.data;
      const user = findUser(state, name);
      if (!user) return state;
      const token: TokenRecord = { tokenId, label, tokenHash, issuedAt: event.occurredAt };
      const withoutOld = withoutTokens(state, user.tokens.filter((t) => t.tokenId === tokenId));
      return {
        users: userList.with(withoutOld.users, { ...user, tokens: [...user.tokens.filter((t) => t.tokenId !== tokenId), token] }),
        tokenOwners: ownerList.with(withoutOld.tokenOwners, { tokenHash, user: name, tokenId }),
      };
    }
    case 'ApiTokenRevoked': {
      const { name, tokenId } = event.data;
      const user = findUser(state, name);
      const revoked = user?.tokens.filter((t) => t.tokenId === tokenId) ?? [];
      if (!user || revoked.length === 0) return state;
      const cleared = withoutTokens(state, revoked);
      return { ...cleared, users: userList.with(cleared.users, { ...user, tokens: user.tokens.filter((t) => t.tokenId !== tokenId) }) };
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

const userList = keyedList<UserRecord>((user) => user.name);
const ownerList = keyedList<TokenOwner>((owner) => owner.tokenHash);

function updateUser(state: UsersState, name: string, change: (user: UserRecord) => UserRecord): UsersState {
  const user = findUser(state, name);
  return user ? { ...state, users: userList.with(state.users, change(user)) } : state;
}

function dropUser(state: UsersState, name: string): UsersState {
  const user = findUser(state, name);
  if (!user) return state;
  const cleared = withoutTokens(state, user.tokens);
  return { ...cleared, users: userList.without(cleared.users, name) };
}

function withoutTokens(state: UsersState, tokens: TokenRecord[]): UsersState {
  let tokenOwners = state.tokenOwners;
  for (const t of tokens) tokenOwners = ownerList.without(tokenOwners, t.tokenHash);
  return { ...state, tokenOwners };
}
