/**
 * Roles over HTTP: what viewers, operators (everywhere or on one first level), admins and
 * route-read tokens may do; every refusal is a 403 naming the missing permission, and audited.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { consoleHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await consoleHarness();
  const users: [string, string, string?][] = [['vera', 'viewer'], ['otto', 'operator'], ['fred', 'operator', 'Flight'], ['ada', 'admin']];
  for (const [name, role, service] of users) {
    const r = await h.call({ method: 'POST', url: '/api/users', payload: { name, password: `${name}-password`, role, ...(service ? { service } : {}) } });
    assert.equal(r.statusCode, 201, r.body);
  }
  for (const name of ['Flight.mod_flight', 'Hotel.mod_hotel']) {
    assert.equal((await h.call({ method: 'POST', url: '/api/services', payload: { name } })).statusCode, 201);
  }
});
after(() => h.close());

const as = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}` });
const detail = (r: { json(): unknown }) => (r.json() as { detail: string }).detail;

test('a viewer reads everything but users, and changes nothing', async () => {
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/services/Flight.mod_flight', headers: as('vera') })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/audit', headers: as('vera') })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes/Flight.mod_flight', headers: as('vera') })).statusCode, 200);
  const write = await h.app.inject({ method: 'POST', url: '/api/services/Flight.mod_flight/hosts', headers: as('vera'), payload: { ip: '10.0.0.1', port: 7963 } });
  assert.equal(write.statusCode, 403);
  assert.match(detail(write), /vera lacks permission services\.write on Flight\.mod_flight: ask an admin: msec user grant vera operator --service Flight/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/users', headers: as('vera') })).statusCode, 403);
});

test('an operator changes services, hosts and versions, but not users', async () => {
  const add = await h.app.inject({ method: 'POST', url: '/api/services/Hotel.mod_hotel/hosts', headers: as('otto'), payload: { ip: '10.0.0.2', port: 7963 } });
  assert.equal(add.statusCode, 201, add.body);
  const config = await h.app.inject({ method: 'PUT', url: '/api/services/Hotel.mod_hotel/configs/v1', headers: as('otto'), payload: { text: '[SRPC]\n' } });
  assert.equal(config.statusCode, 201, config.body);
  const user = await h.app.inject({ method: 'POST', url: '/api/users', headers: as('otto'), payload: { name: 'mallory', password: 'mallory-password', role: 'admin' } });
  assert.equal(user.statusCode, 403);
  assert.match(detail(user), /lacks permission users\.admin/);
  const replay = await h.app.inject({ method: 'POST', url: '/api/projections/routing/replay', headers: as('otto') });
  assert.equal(replay.statusCode, 403);
});

test('an operator of Flight works on Flight only, and sees only Flight in the tree', async () => {
  const mine = await h.app.inject({ method: 'POST', url: '/api/services', headers: as('fred'), payload: { name: 'Flight.mod_booking' } });
  assert.equal(mine.statusCode, 201, mine.body);
  const host = await h.app.inject({ method: 'POST', url: '/api/services/Flight.mod_flight/hosts', headers: as('fred'), payload: { ip: '10.0.0.3', port: 7963 } });
  assert.equal(host.statusCode, 201, host.body);
  const theirs = await h.app.inject({ method: 'POST', url: '/api/services', headers: as('fred'), payload: { name: 'Hotel.mod_rooms' } });
  assert.equal(theirs.statusCode, 403);
  assert.match(detail(theirs), /services\.write on Hotel\.mod_rooms/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/services/Hotel.mod_hotel', headers: as('fred') })).statusCode, 403);
  const tree = await h.app.inject({ method: 'GET', url: '/api/services', headers: as('fred') });
  assert.deepEqual((tree.json() as { services: { name: string }[] }).services.map((s) => s.name), ['Flight']);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/audit?stream=service-Flight.mod_flight', headers: as('fred') })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/audit', headers: as('fred') })).statusCode, 403, 'the whole audit concerns every service');
  const users = await h.app.inject({ method: 'GET', url: '/api/users', headers: as('fred') });
  assert.equal(users.statusCode, 403);
});

test('a route-read token reads routing tables and nothing else', async () => {
  const issued = await h.app.inject({ method: 'POST', url: '/api/tokens', headers: as('otto'), payload: { scope: 'routes', label: 'flight service' } });
  assert.equal(issued.statusCode, 201, issued.body);
  const { token } = issued.json() as { token: string };
  const bearer = { authorization: `Bearer ${token}` };
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes/Flight.mod_flight', headers: bearer })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes', headers: bearer })).statusCode, 200);
  for (const [method, url] of [['GET', '/api/services'], ['GET', '/api/services/Flight.mod_flight'], ['GET', '/api/audit'], ['GET', '/api/session'], ['POST', '/api/tokens']] as const) {
    const r = await h.app.inject({ method, url, headers: bearer, ...(method === 'POST' ? { payload: {} } : {}) });
    assert.equal(r.statusCode, 403, `${method} ${url}`);
    assert.match(detail(r), /route-read token/);
  }
  const write = await h.app.inject({ method: 'POST', url: '/api/services/Flight.mod_flight/hosts/10.0.0.3:7963/enable', headers: bearer });
  assert.equal(write.statusCode, 403);
});

test("changing another user's password needs admin; your own needs the current one", async () => {
  const other = await h.app.inject({ method: 'PUT', url: '/api/users/vera/password', headers: as('otto'), payload: { password: 'new-password-1' } });
  assert.equal(other.statusCode, 403);
  assert.match(detail(other), /users\.admin/);
  const noOld = await h.app.inject({ method: 'PUT', url: '/api/users/otto/password', headers: as('otto'), payload: { password: 'new-password-1' } });
  assert.equal(noOld.statusCode, 403);
  const byAdmin = await h.app.inject({ method: 'PUT', url: '/api/users/vera/password', headers: as('ada'), payload: { password: 'vera-password' } });
  assert.equal(byAdmin.statusCode, 200, byAdmin.body);
});

test('guessing the current password through a password change (a stolen session) is throttled like a login', async () => {
  const login = await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '10.7.7.7', payload: { user: 'vera', password: 'vera-password' } });
  assert.equal(login.statusCode, 200);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const { csrfToken } = login.json() as { csrfToken: string };
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await h.app.inject({
      method: 'PUT', url: '/api/users/vera/password', remoteAddress: '10.7.7.7',
      headers: { cookie, 'x-csrf-token': csrfToken }, payload: { password: 'new-password-2', oldPassword: `guess-${i}` },
    });
    codes.push(r.statusCode);
  }
  assert.deepEqual(codes, [403, 403, 403, 403, 403, 429, 429]);
});

test('roles are granted and revoked by admins, and take effect at once', async () => {
  const grant = await h.call({ method: 'POST', url: '/api/users/vera/roles', payload: { role: 'operator', service: 'Hotel', reason: 'on call' } });
  assert.equal(grant.statusCode, 200, grant.body);
  const add = await h.app.inject({ method: 'POST', url: '/api/services/Hotel.mod_hotel/hosts', headers: as('vera'), payload: { ip: '10.0.0.9', port: 7963 } });
  assert.equal(add.statusCode, 201, add.body);
  const revoke = await h.call({ method: 'DELETE', url: '/api/users/vera/roles', payload: { role: 'operator', service: 'Hotel' } });
  assert.equal(revoke.statusCode, 200, revoke.body);
  const again = await h.app.inject({ method: 'POST', url: '/api/services/Hotel.mod_hotel/hosts', headers: as('vera'), payload: { ip: '10.0.0.10', port: 7963 } });
  assert.equal(again.statusCode, 403);
  const unknown = await h.call({ method: 'POST', url: '/api/users/nobody/roles', payload: { role: 'viewer' } });
  assert.equal(unknown.statusCode, 404);
  const scopedAdmin = await h.call({ method: 'POST', url: '/api/users/vera/roles', payload: { role: 'admin', service: 'Hotel' } });
  assert.equal(scopedAdmin.statusCode, 400);
  const list = await h.call({ method: 'GET', url: '/api/users' });
  const vera = (list.json() as { users: { name: string; roles: unknown[] }[] }).users.find((u) => u.name === 'vera');
  assert.deepEqual(vera?.roles, [{ role: 'viewer', service: '' }]);
});

test('refusals are in the audit, with who, what and which permission; a flood is counted, not written one by one', async () => {
  for (let i = 0; i < 25; i++) {
    await h.app.inject({ method: 'DELETE', url: '/api/services/Hotel.mod_hotel', headers: as('vera') });
  }
  const audit = await h.call({ method: 'GET', url: '/api/audit?stream=access-refusals&actor=vera&limit=1000' });
  const entries = (audit.json() as { entries: { type: string; summary: string }[] }).entries;
  const deletes = entries.filter((e) => e.summary.includes('DELETE /api/services/:name'));
  assert.ok(deletes.length >= 1 && deletes.length <= 10, `${deletes.length} refusal rows`);
  assert.ok(entries.every((e) => e.type === 'AccessRefused'));
  assert.match(deletes[deletes.length - 1]!.summary, /refused DELETE \/api\/services\/:name to vera: needs services\.write on Hotel\.mod_hotel/);
});

test('a route that declares no permission is refused to everyone, admins included (fail closed)', async () => {
  const extra = await consoleHarness({
    extraRoutes: (app) => app.get('/api/forgotten', async () => ({ secret: true })),
  });
  try {
    const r = await extra.call({ method: 'GET', url: '/api/forgotten' });
    assert.equal(r.statusCode, 403);
    assert.doesNotMatch(r.body, /secret/);
  } finally {
    await extra.close();
  }
});
