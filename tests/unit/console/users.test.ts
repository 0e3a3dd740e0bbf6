/** Console users over HTTP: add, change password, remove; the rules that protect access. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminPassword, consoleHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await consoleHarness();
});
after(() => h.close());

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('a new user can log in; the list shows users without hashes', async () => {
  const add = await h.call({ method: 'POST', url: '/api/users', payload: { name: 'alice', password: 'alice-pass-1', reason: 'new ops engineer' } });
  assert.equal(add.statusCode, 201, add.body);
  const asAlice = await h.app.inject({ method: 'GET', url: '/api/services', headers: basic('alice', 'alice-pass-1') });
  assert.equal(asAlice.statusCode, 200);
  const list = await h.call({ method: 'GET', url: '/api/users' });
  assert.deepEqual((list.json() as { users: { name: string }[] }).users.map((u) => u.name).sort(), ['admin', 'alice']);
  assert.doesNotMatch(list.body, /scrypt|Hash/);
});

test('bad user names and short passwords are refused with a reason; duplicates are 409', async () => {
  const bad = await h.call({ method: 'POST', url: '/api/users', payload: { name: 'Bob Smith', password: 'long-enough-1' } });
  assert.equal(bad.statusCode, 400);
  const short = await h.call({ method: 'POST', url: '/api/users', payload: { name: 'bob', password: 'short' } });
  assert.equal(short.statusCode, 400);
  assert.match((short.json() as { detail: string }).detail, /8/);
  const dup = await h.call({ method: 'POST', url: '/api/users', payload: { name: 'alice', password: 'whatever-123' } });
  assert.equal(dup.statusCode, 409);
});

test('changing your own password needs the current one; the old one stops working', async () => {
  const wrong = await h.app.inject({ method: 'PUT', url: '/api/users/alice/password', headers: basic('alice', 'alice-pass-1'), payload: { password: 'alice-pass-2', oldPassword: 'nope' } });
  assert.equal(wrong.statusCode, 403);
  const ok = await h.app.inject({ method: 'PUT', url: '/api/users/alice/password', headers: basic('alice', 'alice-pass-1'), payload: { password: 'alice-pass-2', oldPassword: 'alice-pass-1' } });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes', headers: basic('alice', 'alice-pass-1') })).statusCode, 401);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes', headers: basic('alice', 'alice-pass-2') })).statusCode, 200);
});

test('nobody removes themselves; a removed user is locked out', async () => {
  const self = await h.call({ method: 'DELETE', url: '/api/users/admin' });
  assert.equal(self.statusCode, 403);
  const remove = await h.call({ method: 'DELETE', url: '/api/users/alice' });
  assert.equal(remove.statusCode, 200, remove.body);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes', headers: basic('alice', 'alice-pass-2') })).statusCode, 401);
  const audit = await h.call({ method: 'GET', url: '/api/audit?stream=user-alice' });
  const types = (audit.json() as { entries: { type: string; actor: string }[] }).entries.map((e) => e.type);
  assert.deepEqual(types, ['UserRemoved', 'PasswordChanged', 'UserCreated']);
});

test('the last admin cannot be removed, even by another user with the right to manage users', async () => {
  const self = await h.call({ method: 'DELETE', url: '/api/users/admin' });
  assert.equal(self.statusCode, 403);
  assert.match((self.json() as { detail: string }).detail, /cannot remove yourself/);
  const revoke = await h.call({ method: 'DELETE', url: '/api/users/admin/roles', payload: { role: 'admin' } });
  assert.equal(revoke.statusCode, 409);
  assert.match((revoke.json() as { detail: string }).detail, /last admin/);
});

test('password guessing is throttled per user and source: after 5 wrong passwords from one address even the right one gets 429 there', async () => {
  const add = await h.call({ method: 'POST', url: '/api/users', payload: { name: 'carol', password: 'carol-pass-1' } });
  assert.equal(add.statusCode, 201);
  for (let i = 0; i < 5; i++) {
    const wrong = await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '10.9.9.9', payload: { user: 'carol', password: `guess-${i}` } });
    assert.equal(wrong.statusCode, 401);
  }
  const locked = await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '10.9.9.9', payload: { user: 'carol', password: 'carol-pass-1' } });
  assert.equal(locked.statusCode, 429);
  assert.match((locked.json() as { detail: string }).detail, /try again in \d+ s/);
  const basic = await h.app.inject({ method: 'GET', url: '/api/routes', remoteAddress: '10.9.9.9', headers: { authorization: `Basic ${Buffer.from('carol:carol-pass-1').toString('base64')}` } });
  assert.equal(basic.statusCode, 429, 'Basic auth shares the throttle');
  const elsewhere = await h.app.inject({ method: 'GET', url: '/api/routes', remoteAddress: '10.8.8.8', headers: { authorization: `Basic ${Buffer.from('carol:carol-pass-1').toString('base64')}` } });
  assert.equal(elsewhere.statusCode, 200, 'carol from another address is not locked out by the guesses');
  const other = await h.app.inject({ method: 'GET', url: '/api/routes', remoteAddress: '10.9.9.9', headers: { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` } });
  assert.equal(other.statusCode, 200, 'other users are not locked out');
});
