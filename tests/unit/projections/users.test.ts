import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../../domain/events.ts';
import { findTokenByHash, findUser, listUsers, userCount, usersProjection, type UsersState } from '../../../projections/users.ts';
import { foldState, hostAdded, passwordChanged, recorded, tokenIssued, tokenRevoked, userCreated, userRemoved } from './events.ts';

const given = (...events: DomainEvent[]): UsersState => foldState(usersProjection, recorded(events));

describe('users projection', () => {
  it('knows a created user by name, with password hash and creation time', () => {
    const state = given(userCreated('admin', 'scrypt$1'), userCreated('alice', 'scrypt$2'));
    assert.deepEqual(findUser(state, 'alice'), {
      name: 'alice', passwordHash: 'scrypt$2', createdAt: '2024-05-01T08:02:00.000Z', passwordChangedAt: '2024-05-01T08:02:00.000Z', tokens: [],
    });
    assert.equal(userCount(state), 2);
    assert.equal(findUser(state, 'bob'), null);
    assert.equal(findUser(state, 'constructor'), null);
  });

  it('replaces the hash when the password changes', () => {
    const state = given(userCreated('alice', 'old'), passwordChanged('alice', 'new'));
    assert.equal(findUser(state, 'alice')!.passwordHash, 'new');
    assert.equal(findUser(state, 'alice')!.passwordChangedAt, '2024-05-01T08:02:00.000Z');
  });

  it('finds a token and its owner by hash', () => {
    const state = given(userCreated('alice'), tokenIssued('alice', 't1', 'h1', 'laptop'), tokenIssued('alice', 't2', 'h2'));
    const found = findTokenByHash(state, 'h1');
    assert.equal(found!.user.name, 'alice');
    assert.deepEqual(found!.token, { tokenId: 't1', label: 'laptop', tokenHash: 'h1', issuedAt: '2024-05-01T08:02:00.000Z' });
    assert.equal(findTokenByHash(state, 'nope'), null);
    assert.equal(findTokenByHash(state, 'constructor'), null);
  });

  it('forgets a revoked token', () => {
    const state = given(userCreated('alice'), tokenIssued('alice', 't1', 'h1'), tokenIssued('alice', 't2', 'h2'), tokenRevoked('alice', 't1'));
    assert.equal(findTokenByHash(state, 'h1'), null);
    assert.deepEqual(findUser(state, 'alice')!.tokens.map((t) => t.tokenId), ['t2']);
    assert.equal(findTokenByHash(state, 'h2')!.token.tokenId, 't2');
  });

  it('forgets a removed user and their tokens; created again, the user has none', () => {
    let state = given(userCreated('alice'), tokenIssued('alice', 't1', 'h1'), userRemoved('alice'));
    assert.equal(findUser(state, 'alice'), null);
    assert.equal(findTokenByHash(state, 'h1'), null);
    assert.equal(userCount(state), 0);
    state = given(userCreated('alice'), tokenIssued('alice', 't1', 'h1'), userRemoved('alice'), userCreated('alice', 'again'));
    assert.deepEqual(findUser(state, 'alice')!.tokens, []);
    assert.equal(findTokenByHash(state, 'h1'), null);
  });

  it('lists users by name without any hash', () => {
    const state = given(userCreated('zoe'), userCreated('alice'), tokenIssued('alice', 't1', 'h1', 'ci'));
    const listed = listUsers(state);
    assert.deepEqual(listed, [
      { name: 'alice', createdAt: '2024-05-01T08:02:00.000Z', tokens: [{ tokenId: 't1', label: 'ci', issuedAt: '2024-05-01T08:03:00.000Z' }] },
      { name: 'zoe', createdAt: '2024-05-01T08:01:00.000Z', tokens: [] },
    ]);
    assert.doesNotMatch(JSON.stringify(listed), /hash|scrypt|h1/i);
  });

  it('ignores events about users it does not know', () => {
    const state = given(passwordChanged('ghost', 'x'), tokenIssued('ghost', 't', 'h'), tokenRevoked('ghost', 't'), userRemoved('ghost'));
    assert.deepEqual(state, usersProjection.initialState());
  });

  it('reads user events only', () => {
    assert.ok(!usersProjection.handles.includes(hostAdded('A.b', '1.1.1.1:1').type));
    assert.equal(usersProjection.handles.length, 5);
  });
});
