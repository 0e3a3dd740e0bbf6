/** Browser sessions: logout holds on every console and after a restart; Secure cookies behind TLS proxies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { adminPassword, consoleHarness } from './harness.ts';

async function login(h: Awaited<ReturnType<typeof consoleHarness>>, headers: Record<string, string> = {}) {
  const r = await h.app.inject({ method: 'POST', url: '/api/login', headers, payload: { user: 'admin', password: adminPassword } });
  assert.equal(r.statusCode, 200, r.body);
  const setCookie = String(r.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, setCookie, csrfToken: (r.json() as { csrfToken: string }).csrfToken };
}

test('a logout made on one console is refused by another console on the same store, and by a console started later', async () => {
  const store = new MemoryEventStore();
  const first = await consoleHarness({ store });
  const second = await consoleHarness({ store });
  try {
    const session = await login(first);
    const before = await second.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: session.cookie } });
    assert.equal(before.statusCode, 200, 'both consoles accept the session (same key)');
    const out = await first.app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    assert.equal(out.statusCode, 200);
    assert.equal((await first.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: session.cookie } })).statusCode, 401);
    await second.ctx.projections.waitFor(await store.headPosition(), 5000);
    assert.equal((await second.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: session.cookie } })).statusCode, 401,
      'the other console refuses the logged-out session');
    const later = await consoleHarness({ store });
    try {
      assert.equal((await later.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: session.cookie } })).statusCode, 401,
        'a console started after the logout (a restart) refuses it too');
    } finally {
      await later.close();
    }
    const audit = await first.call({ method: 'GET', url: '/api/audit?type=SessionEnded' });
    assert.match(audit.body, /admin logged out/);
  } finally {
    await second.close();
    await first.close();
    await store.close();
  }
});

test('the session cookie is Secure when the request came over https through a trusted proxy, and only then', async () => {
  const trusting = await consoleHarness({ trustProxy: ['127.0.0.1'] });
  try {
    const proxied = await login(trusting, { 'x-forwarded-proto': 'https' });
    assert.match(proxied.setCookie, /; Secure/);
    const plain = await login(trusting);
    assert.doesNotMatch(plain.setCookie, /Secure/);
  } finally {
    await trusting.close();
  }
  const untrusting = await consoleHarness();
  try {
    const spoofed = await login(untrusting, { 'x-forwarded-proto': 'https' });
    assert.doesNotMatch(spoofed.setCookie, /Secure/, 'an untrusted X-Forwarded-Proto is ignored');
  } finally {
    await untrusting.close();
  }
});
