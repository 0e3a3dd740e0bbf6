import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../../domain/events.ts';
import { findTokenByHash, findUser, grantsOf, isSessionEnded, listUsers, userCount, usersProjection, type UsersState } from '../../../projections/users.ts';
import {
  accessInitialized, foldState, hostAdded, passwordChanged, recorded, roleGranted, roleRevoked, sessionEnded, startTime,
  tokenIssued, tokenRevoked, userAccessRemoved, userAccessSet, userCreated, userRemoved,
} from './events.ts';

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
    assert.deepEqual(found!.token, { tokenId: 't1', label: 'laptop', tokenHash: 'h1', issuedAt: '2024-05-01T08:02:00.000Z', scope: '' });
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
      { name: 'alice', createdAt: '2024-05-01T08:02:00.000Z', roles: [{ role: 'admin', service: '' }], tokens: [{ tokenId: 't1', label: 'ci', issuedAt: '2024-05-01T08:03:00.000Z', scope: '' }] },
      { name: 'zoe', createdAt: '2024-05-01T08:01:00.000Z', roles: [{ role: 'admin', service: '' }], tokens: [] },
    ]);
    assert.doesNotMatch(JSON.stringify(listed), /hash|scrypt|h1/i);
  });

  it('ignores events about users it does not know', () => {
    const state = given(passwordChanged('ghost', 'x'), tokenIssued('ghost', 't', 'h'), tokenRevoked('ghost', 't'), userRemoved('ghost'));
    assert.deepEqual(state, usersProjection.initialState());
  });

  it('reads user and grant events only', () => {
    assert.ok(!usersProjection.handles.includes(hostAdded('A.b', '1.1.1.1:1').type));
    assert.ok(!usersProjection.handles.includes('AccessRefused'));
    assert.equal(usersProjection.handles.length, 11);
  });
});

describe('users projection: roles', () => {
  it('before access control is initialized, every existing user has full rights (as before roles existed)', () => {
    const state = given(userCreated('old'));
    assert.deepEqual(grantsOf(state, 'old'), [{ role: 'admin', service: '' }]);
    assert.deepEqual(grantsOf(state, 'nobody'), []);
  });

  it('once initialized, the users named keep admin and later users have only what they are given', () => {
    const state = given(userCreated('old'), accessInitialized(['old']), userCreated('alice'),
      userAccessSet('alice', [{ role: 'operator', service: 'Flight' }]), userCreated('bob'));
    assert.deepEqual(grantsOf(state, 'old'), [{ role: 'admin', service: '' }]);
    assert.deepEqual(grantsOf(state, 'alice'), [{ role: 'operator', service: 'Flight' }]);
    assert.deepEqual(grantsOf(state, 'bob'), []);
  });

  it('grants add up, revokes take one away, removal takes them all', () => {
    let state = given(accessInitialized([]), userCreated('alice'), roleGranted('alice', 'viewer'), roleGranted('alice', 'operator', 'Flight'),
      roleGranted('alice', 'viewer'));
    assert.deepEqual(grantsOf(state, 'alice'), [{ role: 'viewer', service: '' }, { role: 'operator', service: 'Flight' }]);
    state = given(accessInitialized([]), userCreated('alice'), roleGranted('alice', 'viewer'), roleGranted('alice', 'operator', 'Flight'),
      roleRevoked('alice', 'viewer'));
    assert.deepEqual(grantsOf(state, 'alice'), [{ role: 'operator', service: 'Flight' }]);
    state = given(accessInitialized([]), userCreated('alice'), roleGranted('alice', 'viewer'), userAccessRemoved('alice'));
    assert.deepEqual(grantsOf(state, 'alice'), []);
  });

  it('a user created again gets the grants set for the new account, not the old ones', () => {
    const state = given(accessInitialized([]), userCreated('alice'), roleGranted('alice', 'operator'), userRemoved('alice'),
      userCreated('alice'), userAccessSet('alice', [{ role: 'viewer', service: '' }]));
    assert.deepEqual(grantsOf(state, 'alice'), [{ role: 'viewer', service: '' }]);
  });

  it('lists tokens with their scope', () => {
    const state = given(userCreated('svc'), tokenIssued('svc', 't1', 'h1', 'flight', 'routes'));
    assert.equal(listUsers(state)[0]!.tokens[0]!.scope, 'routes');
    assert.equal(findTokenByHash(state, 'h1')!.token.scope, 'routes');
  });
});

describe('users projection: logged-out sessions', () => {
  it('remembers a logout until the session would have expired, then forgets it', () => {
    const expires = startTime + 3 * 60_000 + 30_000; // between the 3rd and 4th event
    let state = given(userCreated('alice'), sessionEnded('alice', 'nonce-aaaa1111', expires));
    assert.equal(isSessionEnded(state, 'nonce-aaaa1111'), true);
    assert.equal(isSessionEnded(state, 'nonce-other'), false);
    state = given(userCreated('alice'), sessionEnded('alice', 'nonce-aaaa1111', expires), passwordChanged('alice', 'x'), passwordChanged('alice', 'y'));
    assert.equal(isSessionEnded(state, 'nonce-aaaa1111'), false, 'pruned once an event later than its expiry is folded');
  });

  it('ignores a logout of a session that had expired already', () => {
    const state = given(userCreated('alice'), sessionEnded('alice', 'nonce-old', startTime));
    assert.deepEqual(state.endedSessions, []);
  });
});
