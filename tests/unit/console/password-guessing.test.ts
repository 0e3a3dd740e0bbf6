/**
 * Password guessing against a running console, as an attacker would: many guesses at once,
 * and a stranger trying to lock the admin out.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminPassword, consoleHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await consoleHarness();
});
after(() => h.close());

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('40 parallel guesses: only the budget (5) is checked, the rest are refused before any hash is computed', async () => {
  // Count the passwords actually looked up and hashed.
  let checked = 0;
  const findUser = h.ctx.users.findUser.bind(h.ctx.users);
  h.ctx.users.findUser = (name) => {
    checked++;
    return findUser(name);
  };
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => h.app.inject({
    method: 'POST', url: '/api/login', remoteAddress: '203.0.113.66', payload: { user: 'admin', password: `guess-${i}` },
  })));
  const counts = new Map<number, number>();
  for (const a of answers) counts.set(a.statusCode, (counts.get(a.statusCode) ?? 0) + 1);
  console.log(`parallel guesses: ${[...counts].map(([code, n]) => `${n} × ${code}`).join(', ')}`);
  h.ctx.users.findUser = findUser;
  assert.equal(checked, 5, 'exactly five passwords were checked');
  assert.equal(counts.get(401), 5);
  assert.equal(counts.get(429), 35);
});

test("a stranger's wrong passwords do not stop the admin's token, nor a login from another address", async () => {
  const issued = await h.call({ method: 'POST', url: '/api/tokens', payload: { label: 'ops laptop' } });
  const { token } = issued.json() as { token: string };
  // The stranger keeps guessing from several addresses, well past every budget.
  for (let round = 0; round < 3; round++) {
    await Promise.all(['203.0.113.1', '203.0.113.2', '203.0.113.3'].flatMap((ip) => Array.from({ length: 10 }, (_, i) =>
      h.app.inject({ method: 'GET', url: '/api/services', remoteAddress: ip, headers: basic('admin', `wrong-${round}-${i}`) }))));
  }
  const stranger = await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '203.0.113.1', payload: { user: 'admin', password: adminPassword } });
  assert.equal(stranger.statusCode, 429, 'the guessing address stays refused even with the right password');
  const withToken = await h.app.inject({ method: 'GET', url: '/api/services', remoteAddress: '203.0.113.1', headers: { authorization: `Bearer ${token}` } });
  assert.equal(withToken.statusCode, 200, 'a valid API token is not throttled');
  const login = await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '10.1.1.1', payload: { user: 'admin', password: adminPassword } });
  assert.equal(login.statusCode, 200, 'the admin logs in from their own address');
  const basicElsewhere = await h.app.inject({ method: 'GET', url: '/api/services', remoteAddress: '10.1.1.2', headers: basic('admin', adminPassword) });
  assert.equal(basicElsewhere.statusCode, 200);
});

test('X-Forwarded-For is ignored unless the proxy is trusted: a client cannot pick the address it is counted under', async () => {
  for (let i = 0; i < 5; i++) {
    await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': `10.0.${i}.1` }, payload: { user: 'admin', password: `x-${i}` } });
  }
  const sixth = await h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': '10.0.99.1' }, payload: { user: 'admin', password: 'x-6' } });
  assert.equal(sixth.statusCode, 429);
});
