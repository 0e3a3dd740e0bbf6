import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessDecider, allows, scopesAllowing, type AccessEvent, type Grant } from '../../../domain/access/index.ts';
import { spec } from '../support/given-when-then.ts';

const access = spec(accessDecider);
const init = (...admins: string[]): AccessEvent => ({ type: 'AccessInitialized', data: { admins } });
const set = (user: string, grants: Grant[]): AccessEvent => ({ type: 'UserAccessSet', data: { user, grants } });
const granted = (user: string, role: Grant['role'], service = ''): AccessEvent => ({ type: 'RoleGranted', data: { user, role, service } });
const revoked = (user: string, role: Grant['role'], service = ''): AccessEvent => ({ type: 'RoleRevoked', data: { user, role, service } });
const removed = (user: string): AccessEvent => ({ type: 'UserAccessRemoved', data: { user } });
const admin: Grant = { role: 'admin', service: '' };

describe('access: initialization', () => {
  test('the users that existed before roles become admins, once', () => {
    access.given([]).when({ type: 'InitializeAccess', existingUsers: ['zoe', 'admin', 'zoe'] }).then([init('admin', 'zoe')]);
    access.given([init('admin')]).when({ type: 'InitializeAccess', existingUsers: ['admin', 'bob'] }).thenNothing();
  });

  test('nothing else is decided before initialization', () => {
    access.given([]).when({ type: 'GrantRole', user: 'alice', role: 'viewer', service: '' }).thenFails('conflict', /not initialized/);
  });
});

describe('access: grants', () => {
  test('a new account gets its grants; setting the same again decides nothing', () => {
    access.given([init()]).when({ type: 'SetUserAccess', user: 'alice', grants: [{ role: 'operator', service: 'Flight' }] })
      .then([set('alice', [{ role: 'operator', service: 'Flight' }])]);
    access.given([init(), set('alice', [{ role: 'operator', service: 'Flight' }])])
      .when({ type: 'SetUserAccess', user: 'alice', grants: [{ role: 'operator', service: 'Flight' }] }).thenNothing();
  });

  test('granting a held role decides nothing; a new one is granted', () => {
    access.given([init('admin'), granted('alice', 'viewer')]).when({ type: 'GrantRole', user: 'alice', role: 'viewer', service: '' }).thenNothing();
    access.given([init('admin')]).when({ type: 'GrantRole', user: 'alice', role: 'operator', service: 'Flight' }).then([granted('alice', 'operator', 'Flight')]);
  });

  test('admin is never scoped, scopes are first levels, roles are known ones', () => {
    access.given([init('admin')]).when({ type: 'GrantRole', user: 'alice', role: 'admin', service: 'Flight' }).thenFails('invalid', /admin is never scoped/);
    access.given([init('admin')]).when({ type: 'GrantRole', user: 'alice', role: 'operator', service: 'Flight.mod' }).thenFails('invalid', /use Flight, not Flight.mod/);
    access.given([init('admin')]).when({ type: 'GrantRole', user: 'alice', role: 'root' as 'admin', service: '' }).thenFails('invalid', /unknown role "root"/);
    access.given([init('admin')]).when({ type: 'GrantRole', user: 'Bad Name', role: 'viewer', service: '' }).thenFails('invalid', /user name/);
  });

  test('revoking a role not held says what is held', () => {
    access.given([init('admin'), granted('alice', 'viewer')]).when({ type: 'RevokeRole', user: 'alice', role: 'operator', service: '', actor: 'admin' })
      .thenFails('not_found', /alice does not hold operator \(holds: viewer\)/);
  });
});

describe('access: there is always an admin', () => {
  test('the last admin cannot lose the role, not even by their own hand', () => {
    access.given([init('admin')]).when({ type: 'RevokeRole', user: 'admin', role: 'admin', service: '', actor: 'admin' })
      .thenFails('conflict', /last admin; grant admin to another user first/);
  });

  test('with a second admin, either may lose the role', () => {
    access.given([init('admin'), granted('bob', 'admin')]).when({ type: 'RevokeRole', user: 'admin', role: 'admin', service: '', actor: 'bob' })
      .then([revoked('admin', 'admin')]);
  });

  test('the last admin cannot be removed; another admin can', () => {
    access.given([init('admin'), granted('alice', 'operator')]).when({ type: 'RemoveUserAccess', user: 'admin', actor: 'alice' })
      .thenFails('conflict', /last admin/);
    access.given([init('admin', 'bob')]).when({ type: 'RemoveUserAccess', user: 'bob', actor: 'admin' }).then([removed('bob')]);
  });

  test('nobody removes themselves', () => {
    access.given([init('admin', 'bob')]).when({ type: 'RemoveUserAccess', user: 'bob', actor: 'bob' }).thenFails('forbidden', /cannot remove yourself/);
  });

  test('removing a user without grants decides nothing (a retried removal)', () => {
    access.given([init('admin')]).when({ type: 'RemoveUserAccess', user: 'ghost', actor: 'admin' }).thenNothing();
  });

  test('a scoped operator is not an admin: it does not keep the console managed', () => {
    access.given([init('admin'), granted('alice', 'operator')]).when({ type: 'RevokeRole', user: 'admin', role: 'admin', service: '', actor: 'admin' })
      .thenFails('conflict', /last admin/);
  });
});

describe('permissions', () => {
  const operatorOfFlight: Grant[] = [{ role: 'operator', service: 'Flight' }];
  test('viewers read, operators write services, admins manage users', () => {
    assert.equal(allows([{ role: 'viewer', service: '' }], 'read', 'Flight.x'), true);
    assert.equal(allows([{ role: 'viewer', service: '' }], 'services.write', 'Flight.x'), false);
    assert.equal(allows([{ role: 'operator', service: '' }], 'services.write', 'Hotel.y'), true);
    assert.equal(allows([{ role: 'operator', service: '' }], 'users.admin'), false);
    assert.equal(allows([admin], 'users.admin'), true);
    assert.equal(allows([], 'routes.read'), false);
  });

  test('a scoped grant counts on its first level only, and never for what concerns no service', () => {
    assert.equal(allows(operatorOfFlight, 'services.write', 'Flight.mod_flight'), true);
    assert.equal(allows(operatorOfFlight, 'services.write', 'Flight'), true);
    assert.equal(allows(operatorOfFlight, 'services.write', 'Flights.x'), false);
    assert.equal(allows(operatorOfFlight, 'services.write', 'Hotel.x'), false);
    assert.equal(allows(operatorOfFlight, 'read'), false);
    assert.deepEqual(scopesAllowing([...operatorOfFlight, { role: 'viewer', service: 'Hotel' }], 'read'), { all: false, services: ['Flight', 'Hotel'] });
  });
});
