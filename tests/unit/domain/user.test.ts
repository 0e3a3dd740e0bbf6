import { describe, test } from 'node:test';
import { userDecider, type UserEvent } from '../../../domain/users/index.ts';
import { spec } from '../support/given-when-then.ts';

const user = spec(userDecider);
const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const created = (name = 'alice', passwordHash = HASH): UserEvent => ({ type: 'UserCreated', data: { name, passwordHash } });
const removed = (name = 'alice'): UserEvent => ({ type: 'UserRemoved', data: { name } });
const issued = (tokenId: string, label = 'ci', name = 'alice'): UserEvent =>
  ({ type: 'ApiTokenIssued', data: { name, tokenId, tokenHash: `h-${tokenId}`, label, scope: '' } });
const revoked = (tokenId: string, name = 'alice'): UserEvent => ({ type: 'ApiTokenRevoked', data: { name, tokenId } });
const issue = (tokenId: string, label = 'ci') =>
  ({ type: 'IssueApiToken' as const, name: 'alice', tokenId, tokenHash: `h-${tokenId}`, label });

describe('users: create', () => {
  test('a new user is created with the password hash', () => {
    user.given([]).when({ type: 'CreateUser', name: 'alice', passwordHash: HASH }).then([created()]);
  });

  test('an existing name is a conflict', () => {
    user.given([created()]).when({ type: 'CreateUser', name: 'alice', passwordHash: HASH }).thenFails('conflict', /alice already exists/);
  });

  test('a removed user can be created again', () => {
    user.given([created(), removed()]).when({ type: 'CreateUser', name: 'alice', passwordHash: 'new' }).then([created('alice', 'new')]);
  });

  test('names with digits, "_", "." and "-" are fine', () => {
    user.given([]).when({ type: 'CreateUser', name: 'ops_1.team-a', passwordHash: HASH }).then([created('ops_1.team-a')]);
  });

  test('32 characters is the longest name', () => {
    const name = `a${'b'.repeat(31)}`;
    user.given([]).when({ type: 'CreateUser', name, passwordHash: HASH }).then([created(name)]);
  });

  test('33 characters is too long', () => {
    user.given([]).when({ type: 'CreateUser', name: 'a'.repeat(33), passwordHash: HASH }).thenFails('invalid', /use 1-32 lowercase letters/);
  });

  test('uppercase letters are refused', () => {
    user.given([]).when({ type: 'CreateUser', name: 'Alice', passwordHash: HASH }).thenFails('invalid', /user name "Alice" is not valid/);
  });

  test('a leading digit is refused', () => {
    user.given([]).when({ type: 'CreateUser', name: '1alice', passwordHash: HASH }).thenFails('invalid', /starting with a letter/);
  });

  test('an empty name is refused', () => {
    user.given([]).when({ type: 'CreateUser', name: '', passwordHash: HASH }).thenFails('invalid', /not valid/);
  });

  test('a missing password hash is refused', () => {
    user.given([]).when({ type: 'CreateUser', name: 'alice', passwordHash: '' }).thenFails('invalid', /hash is required/);
  });
});

describe('users: password', () => {
  test('the password is changed', () => {
    user.given([created()]).when({ type: 'ChangePassword', name: 'alice', passwordHash: 'h2' })
      .then([{ type: 'PasswordChanged', data: { name: 'alice', passwordHash: 'h2' } }]);
  });

  test('changing the password of a missing user is not found', () => {
    user.given([]).when({ type: 'ChangePassword', name: 'alice', passwordHash: 'h2' }).thenFails('not_found', /user alice does not exist/);
  });
});

describe('users: remove', () => {
  test('another user removes a user', () => {
    user.given([created()]).when({ type: 'RemoveUser', name: 'alice', actor: 'bob' }).then([removed()]);
  });

  test('nobody removes themselves', () => {
    user.given([created()]).when({ type: 'RemoveUser', name: 'alice', actor: 'alice' }).thenFails('forbidden', /you cannot remove yourself/);
  });

  test('removing a missing user is not found', () => {
    user.given([]).when({ type: 'RemoveUser', name: 'alice', actor: 'bob' }).thenFails('not_found', /does not exist/);
  });

  test('removing a removed user is not found', () => {
    user.given([created(), removed()]).when({ type: 'RemoveUser', name: 'alice', actor: 'bob' }).thenFails('not_found', /does not exist/);
  });
});

describe('users: API tokens', () => {
  test('a token is issued with its hash and label', () => {
    user.given([created()]).when(issue('t1', 'laptop')).then([issued('t1', 'laptop')]);
  });

  test('a token id in use is a conflict', () => {
    user.given([created(), issued('t1')]).when(issue('t1')).thenFails('conflict', /already had a token with id t1/);
  });

  test('a revoked token id is never issued again', () => {
    user.given([created(), issued('t1'), revoked('t1')]).when(issue('t1')).thenFails('conflict', /already had a token with id t1/);
  });

  test('a second token gets its own id', () => {
    user.given([created(), issued('t1')]).when(issue('t2')).then([issued('t2')]);
  });

  test('an empty token id is refused', () => {
    user.given([created()]).when(issue('')).thenFails('invalid', /token id is required/);
  });

  test('a label above 64 characters is refused', () => {
    user.given([created()]).when(issue('t1', 'x'.repeat(65))).thenFails('invalid', /at most 64 characters/);
  });

  test('issuing a token for a missing user is not found', () => {
    user.given([]).when(issue('t1')).thenFails('not_found', /does not exist/);
  });

  test('an active token is revoked', () => {
    user.given([created(), issued('t1')]).when({ type: 'RevokeApiToken', name: 'alice', tokenId: 't1' }).then([revoked('t1')]);
  });

  test('revoking an unknown token is not found', () => {
    user.given([created()]).when({ type: 'RevokeApiToken', name: 'alice', tokenId: 't9' })
      .thenFails('not_found', /no active token t9 \(no such token\)/);
  });

  test('revoking a revoked token is not found, and says so', () => {
    user.given([created(), issued('t1'), revoked('t1')]).when({ type: 'RevokeApiToken', name: 'alice', tokenId: 't1' })
      .thenFails('not_found', /already revoked/);
  });

  test('tokens of a removed user do not survive re-creation', () => {
    user.given([created(), issued('t1'), removed(), created()]).when({ type: 'RevokeApiToken', name: 'alice', tokenId: 't1' })
      .thenFails('not_found', /no such token/);
  });
});
