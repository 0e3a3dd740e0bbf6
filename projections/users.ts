import type { DomainEventType, RecordedEvent } from '../domain/events.ts';
import { userEventTypes, type TokenScope, type UserEvent } from '../domain/users/events.ts';
import { accessEventTypes, type AccessEvent } from '../domain/access/events.ts';
import { grantChanges } from '../domain/access/grants.ts';
import type { Grant } from '../domain/access/roles.ts';
import type { StateProjection } from './projection.ts';
import { keyedList } from './sorted-list.ts';

/**
 * Console users for authentication and authorization: password hashes and API token hashes
 * (never secrets), each user's roles (stream "access"), and logged-out sessions.
 * `tokenOwners` indexes tokens by hash so a bearer token is checked with one binary search.
 * Removing a user revokes their tokens; a user created again under the same name starts
 * with no tokens.
 */
export interface UsersState {
  /** Sorted by name. */
  users: UserRecord[];
  /** Sorted by token hash. */
  tokenOwners: TokenOwner[];
  /** Roles. Before access control was initialized, every user had full rights (as before roles existed). */
  access: { initialized: boolean; grants: UserGrants[] };
  /** Logged-out sessions by nonce, kept until they would have expired. */
  endedSessions: EndedSession[];
}

export interface UserGrants {
  user: string;
  grants: Grant[];
}

export interface EndedSession {
  nonce: string;
  expiresAtMs: number;
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
  /** '' acts with the user's roles; 'routes' reads routing tables only. */
  scope: TokenScope;
}

/** A user as listed by GET /api/users: no hashes. */
export interface UserListing {
  name: string;
  createdAt: string;
  roles: Grant[];
  tokens: { tokenId: string; label: string; issuedAt: string; scope: TokenScope }[];
}

/** Refusals change nobody's grants: the users projection does not read them. */
const grantEventTypes: readonly DomainEventType[] = accessEventTypes.filter((t) => t !== 'AccessRefused');

export const usersProjection: StateProjection<UsersState> = {
  kind: 'state',
  name: 'users',
  version: 2,
  handles: [...userEventTypes, ...grantEventTypes],
  initialState: () => ({ users: [], tokenOwners: [], access: { initialized: false, grants: [] }, endedSessions: [] }),
  apply: (state, event) => (grantEventTypes.includes(event.type)
    ? applyAccessEvent(state, event as RecordedEvent<AccessEvent>)
    : applyUserEvent(forgetExpiredSessions(state, Date.parse(event.occurredAt)), event as RecordedEvent<UserEvent>)),
};

/**
 * A user's grants. Until access control is initialized (a store written before roles
 * existed), every existing user has full rights, as it had then.
 */
export function grantsOf(state: UsersState, name: string): Grant[] {
  if (!state.access.initialized) return findUser(state, name) ? [{ role: 'admin', service: '' }] : [];
  return grantList.find(state.access.grants, name)?.grants ?? [];
}

export function isSessionEnded(state: UsersState, nonce: string): boolean {
  return sessionList.find(state.endedSessions, nonce) !== undefined;
}

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
    name, createdAt, roles: grantsOf(state, name),
    tokens: tokens.map(({ tokenId, label, issuedAt, scope }) => ({ tokenId, label, issuedAt, scope: scope ?? '' })),
  }));
}

function applyAccessEvent(state: UsersState, event: RecordedEvent<AccessEvent>): UsersState {
  let grants = state.access.grants;
  for (const change of grantChanges(event, (user) => grantList.find(grants, user)?.grants ?? [])) {
    grants = change.grants.length ? grantList.with(grants, change) : grantList.without(grants, change.user);
  }
  return { ...state, access: { initialized: state.access.initialized || event.type === 'AccessInitialized', grants } };
}

/** Ended sessions past their expiry are dropped as time (the events' time) goes by. */
function forgetExpiredSessions(state: UsersState, nowMs: number): UsersState {
  const first = state.endedSessions.findIndex((s) => s.expiresAtMs < nowMs);
  if (first < 0 || Number.isNaN(nowMs)) return state;
  return { ...state, endedSessions: state.endedSessions.filter((s) => s.expiresAtMs >= nowMs) };
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
      const token: TokenRecord = { tokenId, label, tokenHash, issuedAt: event.occurredAt, scope: event.data.scope ?? '' };
      const withoutOld = withoutTokens(state, user.tokens.filter((t) => t.tokenId === tokenId));
      return {
        ...withoutOld,
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
    case 'SessionEnded': {
      const { nonce, expiresAtMs } = event.data;
      if (expiresAtMs < Date.parse(event.occurredAt)) return state;
      return { ...state, endedSessions: sessionList.with(state.endedSessions, { nonce, expiresAtMs }) };
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

const userList = keyedList<UserRecord>((user) => user.name);
const ownerList = keyedList<TokenOwner>((owner) => owner.tokenHash);
const grantList = keyedList<UserGrants>((g) => g.user);
const sessionList = keyedList<EndedSession>((s) => s.nonce);

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
