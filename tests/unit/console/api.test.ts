/** The console's HTTP API through inject: auth, bad input, conflicts, idempotency, long-poll. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { consoleHarness, adminPassword, type Harness } from './harness.ts';
import { serviceDecider } from '../../../domain/services/index.ts';

let h: Harness;
before(async () => {
  h = await consoleHarness();
});
after(() => h.close());

const flightProto = readFileSync(new URL('../../fixtures/flight.proto', import.meta.url), 'utf8');
const problem = (r: { headers: Record<string, unknown>; json(): { detail: string; status: number } }) => {
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  return r.json();
};
const head = () => h.store.headPosition();

async function createService(name: string) {
  const r = await h.call({ method: 'POST', url: '/api/services', payload: { name } });
  assert.equal(r.statusCode, 201, r.body);
}

test('every API route but login needs auth: 401 problem+json', async () => {
  const r = await h.app.inject({ method: 'GET', url: '/api/services' });
  assert.equal(r.statusCode, 401);
  assert.match(problem(r).detail, /log in/);
});

test('wrong password is refused and writes nothing', async () => {
  const at = await head();
  const r = await h.app.inject({ method: 'POST', url: '/api/login', payload: { user: 'admin', password: 'nope' } });
  assert.equal(r.statusCode, 401);
  assert.equal(await head(), at);
});

test('browser login: HttpOnly SameSite cookie; mutations need the CSRF token', async () => {
  const login = await h.app.inject({ method: 'POST', url: '/api/login', payload: { user: 'admin', password: adminPassword } });
  assert.equal(login.statusCode, 200);
  const cookie = String(login.headers['set-cookie']);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const session = cookie.split(';')[0]!;
  const { csrfToken } = login.json() as { csrfToken: string };

  const read = await h.app.inject({ method: 'GET', url: '/api/services', headers: { cookie: session } });
  assert.equal(read.statusCode, 200);
  const at = await head();
  const noCsrf = await h.app.inject({ method: 'POST', url: '/api/services', headers: { cookie: session }, payload: { name: 'Csrf.one' } });
  assert.equal(noCsrf.statusCode, 403);
  assert.match(problem(noCsrf).detail, /CSRF/);
  const wrongCsrf = await h.app.inject({ method: 'POST', url: '/api/services', headers: { cookie: session, 'x-csrf-token': 'x' + csrfToken }, payload: { name: 'Csrf.one' } });
  assert.equal(wrongCsrf.statusCode, 403);
  assert.equal(await head(), at, 'nothing written without CSRF');
  const ok = await h.app.inject({ method: 'POST', url: '/api/services', headers: { cookie: session, 'x-csrf-token': csrfToken }, payload: { name: 'Csrf.one' } });
  assert.equal(ok.statusCode, 201, ok.body);
  const forged = await h.app.inject({ method: 'GET', url: '/api/services', headers: { cookie: session.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) } });
  assert.equal(forged.statusCode, 401);
});

test('API tokens: issued once, accepted as bearer, refused once revoked', async () => {
  const issued = await h.call({ method: 'POST', url: '/api/tokens', payload: { label: 'ci' } });
  assert.equal(issued.statusCode, 201);
  const { token, tokenId } = issued.json() as { token: string; tokenId: string };
  const bearer = { authorization: `Bearer ${token}` };
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes', headers: bearer })).statusCode, 200);
  assert.equal((await h.call({ method: 'DELETE', url: `/api/tokens/${tokenId}` })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/routes', headers: bearer })).statusCode, 401);
});

test('malformed JSON → 400, oversize body → 413, wrong content type → 415; nothing written', async () => {
  const at = await head();
  const bad = await h.call({ method: 'POST', url: '/api/services', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
  assert.equal(bad.statusCode, 400);
  problem(bad);
  const big = await h.call({ method: 'PUT', url: '/api/services/RESERVED.log/configs/huge', payload: { text: 'x'.repeat(3 * 1024 * 1024) } });
  assert.equal(big.statusCode, 413);
  assert.match(problem(big).detail, /too large/);
  const xml = await h.call({ method: 'POST', url: '/api/services', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
  assert.equal(xml.statusCode, 415);
  const extra = await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Ok.fine', color: 'red' } });
  assert.equal(extra.statusCode, 400);
  assert.equal(await head(), at);
});

test('bad names, duplicates and unknown services get the right 4xx with a usable message', async () => {
  const at = await head();
  const badName = await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Flight.mod-flight' } });
  assert.equal(badName.statusCode, 400);
  assert.match(problem(badName).detail, /mod-flight/);
  const unknown = await h.call({ method: 'POST', url: '/api/services/Nope.nothing/hosts', payload: { ip: '10.0.0.1', port: 7963 } });
  assert.equal(unknown.statusCode, 404);
  assert.equal(await head(), at);

  await createService('Dup.svc');
  const dup = await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Dup.svc' } });
  assert.equal(dup.statusCode, 409);
  assert.match(problem(dup).detail, /Dup\.svc/);
});

test('RESERVED services exist from the start and cannot be deleted', async () => {
  for (const name of ['RESERVED.monitor', 'RESERVED.log']) {
    const r = await h.call({ method: 'GET', url: `/api/services/${name}` });
    assert.equal(r.statusCode, 200);
    const del = await h.call({ method: 'DELETE', url: `/api/services/${name}` });
    assert.ok(del.statusCode === 403 || del.statusCode === 409, `delete ${name}: ${del.statusCode}`);
  }
});

test('hosts: new host disabled, enable routes it, delete refused while hosts remain', async () => {
  await createService('Flight.mod_flight');
  const add = await h.call({ method: 'POST', url: '/api/services/Flight.mod_flight/hosts', payload: { ip: '10.0.0.1', port: 7963, protocol: 'both' } });
  assert.equal(add.statusCode, 201, add.body);
  let route = (await h.call({ method: 'GET', url: '/api/routes/Flight.mod_flight' })).json() as { instances: unknown[] };
  assert.deepEqual(route.instances, []);
  const enable = await h.call({ method: 'POST', url: '/api/services/Flight.mod_flight/hosts/10.0.0.1:7963/enable', payload: { reason: 'scale out' } });
  assert.equal(enable.statusCode, 200, enable.body);
  route = (await h.call({ method: 'GET', url: '/api/routes/Flight.mod_flight' })).json() as { instances: unknown[] };
  assert.deepEqual(route.instances, [{ ip: '10.0.0.1', port: 7963, protocol: 'both', weight: 100 }]);

  const del = await h.call({ method: 'DELETE', url: '/api/services/Flight.mod_flight' });
  assert.equal(del.statusCode, 409);
  const removeEnabled = await h.call({ method: 'DELETE', url: '/api/services/Flight.mod_flight/hosts/10.0.0.1:7963' });
  assert.equal(removeEnabled.statusCode, 409);
  assert.match(problem(removeEnabled).detail, /disable/i);
  const delParent = await h.call({ method: 'DELETE', url: '/api/services/Flight' });
  assert.equal(delParent.statusCode, 409);
});

test('stale If-Match revision → 409 and nothing written', async () => {
  await createService('Rev.svc');
  const detail = (await h.call({ method: 'GET', url: '/api/services/Rev.svc' })).json() as { revision: number };
  const at = await head();
  const stale = await h.call({ method: 'POST', url: '/api/services/Rev.svc/hosts', headers: { 'if-match': `"${detail.revision - 1}"` }, payload: { ip: '10.0.0.2', port: 80 } });
  assert.equal(stale.statusCode, 409);
  assert.match(problem(stale).detail, /revision/);
  assert.equal(await head(), at);
  const fresh = await h.call({ method: 'POST', url: '/api/services/Rev.svc/hosts', headers: { 'if-match': `"${detail.revision}"` }, payload: { ip: '10.0.0.2', port: 80 } });
  assert.equal(fresh.statusCode, 201);
});

test('a retried request with the same Idempotency-Key writes once', async () => {
  await createService('Idem.svc');
  const key = '0190a3c4-1111-7abc-8def-0123456789ab';
  const send = () => h.call({ method: 'POST', url: '/api/services/Idem.svc/hosts', headers: { 'idempotency-key': key }, payload: { ip: '10.0.0.3', port: 80 } });
  const a = await send();
  const at = await head();
  const b = await send();
  assert.equal(a.statusCode, 201);
  assert.equal(b.statusCode, 201);
  assert.equal((b.json() as { position: number }).position, (a.json() as { position: number }).position);
  assert.equal(await head(), at);
});

test('config and IDL versions: unique tags, .proto must parse, raw download', async () => {
  await createService('Ver.svc');
  const put = (kind: string, tag: string, text: string) => h.call({ method: 'PUT', url: `/api/services/Ver.svc/${kind}/${tag}`, payload: { text, memo: 'm' } });
  assert.equal((await put('configs', 'v1', '[LOG]\nLevel=INFO\n')).statusCode, 201);
  assert.equal((await put('configs', 'v1', '[LOG]\nLevel=DEBUG\n')).statusCode, 409);
  assert.equal((await put('idls', 'v1', flightProto)).statusCode, 201);
  const at = await head();
  const broken = await put('idls', 'v2', 'message X { required string = 1; }');
  assert.equal(broken.statusCode, 400);
  assert.match(problem(broken).detail, /line/i);
  assert.equal(await head(), at);
  const raw = await h.call({ method: 'GET', url: '/api/services/Ver.svc/idls/v1/raw' });
  assert.equal(raw.body, flightProto);
  assert.match(String(raw.headers['content-disposition']), /attachment; filename="Ver\.svc\.v1\.proto"/);
  const list = (await h.call({ method: 'GET', url: '/api/services/Ver.svc/configs' })).json() as { versions: { tag: string }[] };
  assert.deepEqual(list.versions.map((v) => v.tag), ['v1']);
  assert.equal((await h.call({ method: 'GET', url: '/api/services/Ver.svc/configs/nope' })).statusCode, 404);
});

test('routing long-poll: 304 when nothing changed, the new table as soon as it changes', async () => {
  await createService('Poll.svc');
  const first = await h.call({ method: 'GET', url: '/api/routes/Poll.svc' });
  const etag = String(first.headers.etag);
  const unchanged = await h.call({ method: 'GET', url: '/api/routes/Poll.svc?wait=1', headers: { 'if-none-match': etag } });
  assert.equal(unchanged.statusCode, 304);
  const waiting = h.call({ method: 'GET', url: '/api/routes/Poll.svc?wait=20', headers: { 'if-none-match': etag } });
  await h.call({ method: 'POST', url: '/api/services/Poll.svc/hosts', payload: { ip: '10.0.0.9', port: 80 } });
  await h.call({ method: 'POST', url: '/api/services/Poll.svc/hosts/10.0.0.9:80/enable' });
  const changed = await waiting;
  assert.equal(changed.statusCode, 200);
  assert.notEqual(changed.headers.etag, etag);
  assert.equal((changed.json() as { instances: unknown[] }).instances.length, 1);
});

test('events API never shows password or token hashes', async () => {
  const r = await h.call({ method: 'GET', url: '/api/events?after=0&limit=1000' });
  const text = r.body;
  assert.ok(text.includes('UserCreated'));
  assert.doesNotMatch(text, /scrypt\$/);
});

test('audit: every event with actor, filters by stream and actor', async () => {
  const r = await h.call({ method: 'GET', url: '/api/audit?stream=service-Flight.mod_flight&actor=admin' });
  const { entries } = r.json() as { entries: { type: string; actor: string; reason: string }[] };
  assert.deepEqual(entries.map((e) => e.type).reverse(), ['ServiceCreated', 'HostAdded', 'HostEnabled']);
  assert.equal(entries[0]!.reason, 'scale out');
  const bad = await h.call({ method: 'GET', url: '/api/audit?since=yesterday' });
  assert.equal(bad.statusCode, 400);
});

test('OpenAPI document lists the routes; unknown API paths are 404 problems', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, unknown> };
  assert.ok(doc.paths['/api/services/{name}/hosts']);
  const r = await h.call({ method: 'GET', url: '/api/nothing' });
  assert.equal(r.statusCode, 404);
  problem(r);
});

test('a JSON content type with an empty body counts as no body; prototype keys are refused', async () => {
  await createService('Empty.body');
  const del = await h.call({ method: 'DELETE', url: '/api/services/Empty.body', headers: { 'content-type': 'application/json' }, payload: '' });
  assert.equal(del.statusCode, 200, del.body);
  const poisoned = await h.call({ method: 'POST', url: '/api/services', headers: { 'content-type': 'application/json' }, payload: '{"name":"A.b","__proto__":{"admin":true}}' });
  assert.equal(poisoned.statusCode, 400);
});

test('encoded or absolute-form paths reach no API route without auth', async () => {
  for (const url of ['/%61pi/users', '/%61pi/events?after=0', '/api%2Fusers', 'http://localhost/api/users']) {
    const r = await h.app.inject({ method: 'GET', url });
    const leaked = r.statusCode === 200 && String(r.headers['content-type']).startsWith('application/json');
    assert.ok(!leaked, `${url}: ${r.statusCode} ${r.body.slice(0, 80)}`);
    assert.doesNotMatch(r.body, /"users"|"events"/);
  }
  const write = await h.app.inject({ method: 'POST', url: '/%61pi/services', payload: { name: 'Sneaky.one' } });
  assert.ok(write.statusCode === 401 || write.statusCode === 404);
});

test('a refused creation writes nothing, not even the first level or the link', async () => {
  const at = await head();
  const r = await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Newfirst.svc', lang: 'cobol' } });
  assert.equal(r.statusCode, 400);
  assert.equal(await head(), at);
  const tree = (await h.call({ method: 'GET', url: '/api/services' })).json() as { services: { name: string }[] };
  assert.ok(!tree.services.some((s) => s.name === 'Newfirst'));
});

test('a half-done delete retried after the service was created again does not unlink the live service', async () => {
  await createService('Again.svc');
  const key = '01900000-0000-7000-8000-00000000a9a9';
  // The first attempt died after its first step: the service is deleted, its link not yet removed.
  await h.ctx.commands.execute('service-Again.svc', serviceDecider, { type: 'DeleteService', service: 'Again.svc' },
    { commandId: key, actor: 'admin', reason: '', at: Date.now() });
  await createService('Again.svc');
  const retry = await h.call({ method: 'DELETE', url: '/api/services/Again.svc', headers: { 'idempotency-key': key } });
  assert.ok(retry.statusCode < 500, retry.body);
  const parentDelete = await h.call({ method: 'DELETE', url: '/api/services/Again' });
  assert.equal(parentDelete.statusCode, 409, 'the first level still has its (live) child');
  assert.equal((await h.call({ method: 'GET', url: '/api/services/Again.svc' })).statusCode, 200);
});

test('an Idempotency-Key reused for a different request is refused; a plain retry with If-Match answers the same', async () => {
  await createService('Keys.svc');
  const key = '01900000-0000-7000-8000-00000000b1b1';
  const detail = (await h.call({ method: 'GET', url: '/api/services/Keys.svc' })).json() as { revision: number };
  const send = (ip: string) => h.call({ method: 'POST', url: '/api/services/Keys.svc/hosts', headers: { 'idempotency-key': key, 'if-match': `"${detail.revision}"` }, payload: { ip, port: 80 } });
  assert.equal((await send('10.0.0.5')).statusCode, 201);
  assert.equal((await send('10.0.0.5')).statusCode, 201, 'the same request again answers the same, If-Match notwithstanding');
  const other = await send('10.0.0.6');
  assert.equal(other.statusCode, 409);
  assert.match((other.json() as { detail: string }).detail, /Idempotency-Key/);
});

test('sessions end at logout and when the password changes; a mangled cookie is 401, not 500', async () => {
  const login = async (password: string) => {
    const r = await h.app.inject({ method: 'POST', url: '/api/login', payload: { user: 'sess', password } });
    assert.equal(r.statusCode, 200, r.body);
    return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: (r.json() as { csrfToken: string }).csrfToken };
  };
  assert.equal((await h.call({ method: 'POST', url: '/api/users', payload: { name: 'sess', password: 'sess-pass-1' } })).statusCode, 201);
  const a = await login('sess-pass-1');
  const b = await login('sess-pass-1');
  const session = (cookie: string) => h.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } });
  assert.equal((await session(a.cookie)).statusCode, 200);
  const out = await h.app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: a.cookie, 'x-csrf-token': a.csrf } });
  assert.equal(out.statusCode, 200);
  assert.equal((await session(a.cookie)).statusCode, 401, 'the logged-out cookie no longer works');
  assert.equal((await session(b.cookie)).statusCode, 200, 'another session of the same user still works');
  assert.equal((await h.call({ method: 'PUT', url: '/api/users/sess/password', payload: { password: 'sess-pass-2' } })).statusCode, 200);
  assert.equal((await session(b.cookie)).statusCode, 401, 'a password change ends the old sessions');
  assert.equal((await session('msec_session=%E0%A4%A')).statusCode, 401);
});

test('a session key shorter than 32 bytes is refused (an empty key file would let anyone forge sessions)', async () => {
  const { SessionKeys } = await import('../../../apps/console/auth.ts');
  assert.throws(() => new SessionKeys(Buffer.alloc(0)), /session.key/);
});

test('what the router refuses before any route (a stray %, a path name over 100 characters) is a problem too; nothing written', async () => {
  const at = await head();
  for (const url of ['/api/services/Flight.%E0%A4%A', '/api/services/%zz/hosts', `/api/services/${'A'.repeat(60)}.${'b'.repeat(60)}`]) {
    for (const method of ['GET', 'DELETE'] as const) {
      const r = await h.call({ method, url });
      assert.ok(r.statusCode === 400 || r.statusCode === 414, `${method} ${url}: ${r.statusCode} ${r.body}`);
      const body = problem(r);
      assert.equal(body.status, r.statusCode);
      assert.match(body.detail, r.statusCode === 414 ? /over 100 characters/ : /percent-encoding/);
    }
  }
  assert.equal(await head(), at);
});
