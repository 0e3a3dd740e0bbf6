import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { consoleHarness, type Harness } from '../console/harness.ts';
import { devPackageRoutes } from '../../../apps/console/routes/devpack.ts';
import { callerStubs, devPackage, msecRoot, tsxVersion } from '../../../apps/devpack/index.ts';
import { extract, flightProto, readTree, tempDir } from './support.ts';

/** GET /api/services/:name/dev-package and /stubs through the console's real pipeline (inject). */

let h: Harness;
before(async () => {
  h = await consoleHarness();
  // Until apps/console/server.ts registers the plugin, the test does (a second registration would clash).
  if (!h.app.hasRoute({ method: 'GET', url: '/api/services/:name/dev-package' })) await h.app.register(devPackageRoutes(h.ctx));
  assert.equal((await h.call({ method: 'POST', url: '/api/services', payload: { name: 'Flight.mod_flight' } })).statusCode, 201);
  const put = await h.call({ method: 'PUT', url: '/api/services/Flight.mod_flight/idls/v1', payload: { text: flightProto, memo: 'seed' } });
  assert.equal(put.statusCode, 201, put.body);
  const noService = await h.call({ method: 'PUT', url: '/api/services/Flight.mod_flight/idls/types-only', payload: { text: 'syntax = "proto3"; message M { string a = 1; }' } });
  assert.equal(noService.statusCode, 201, noService.body);
});
after(() => h.close());

const sorted = (m: Map<string, string>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

test('dev-package: a gzip attachment named after service and tag, holding the generated project in one folder', async () => {
  const r = await h.call({ method: 'GET', url: '/api/services/Flight.mod_flight/dev-package?idl=v1' });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/gzip');
  assert.equal(r.headers['content-disposition'], 'attachment; filename="Flight.mod_flight-v1-dev.tar.gz"');
  const t = tempDir();
  try {
    const out = extract(r.rawPayload, t.dir);
    const expected = devPackage({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto, msecRoot, tsxVersion });
    assert.deepEqual(readTree(`${out}/Flight.mod_flight-v1-dev`), sorted(expected));
  } finally {
    t.remove();
  }
});

test('stubs: the caller stubs as a tarball', async () => {
  const r = await h.call({ method: 'GET', url: '/api/services/Flight.mod_flight/stubs?idl=v1' });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-disposition'], 'attachment; filename="Flight.mod_flight-v1-stubs.tar.gz"');
  const t = tempDir();
  try {
    const out = extract(r.rawPayload, t.dir);
    assert.deepEqual(readTree(`${out}/Flight.mod_flight-v1-stubs`), sorted(callerStubs({ service: 'Flight.mod_flight', idlTag: 'v1', idlText: flightProto })));
  } finally {
    t.remove();
  }
});

test('unknown service or tag: problem+json 404 saying which; missing ?idl: 400; IDL without service: 422', async () => {
  const cases: [string, number, RegExp][] = [
    ['/api/services/Nope.svc/dev-package?idl=v1', 404, /service Nope\.svc does not exist/],
    ['/api/services/Flight.mod_flight/dev-package?idl=v9', 404, /has no IDL version "v9"/],
    ['/api/services/Flight.mod_flight/stubs?idl=v9', 404, /has no IDL version "v9"/],
    ['/api/services/Flight.mod_flight/dev-package', 400, /idl/],
    ['/api/services/Flight.mod_flight/dev-package?idl=types-only', 422, /no service with a unary RPC/],
    ['/api/services/Bad-name/stubs?idl=v1', 400, /Bad-name/],
  ];
  for (const [url, status, detail] of cases) {
    const r = await h.call({ method: 'GET', url });
    assert.equal(r.statusCode, status, `${url}: ${r.body}`);
    assert.match(String(r.headers['content-type']), /application\/problem\+json/, url);
    assert.match((r.json() as { detail: string }).detail, detail, url);
  }
});

test('downloads need authentication like the rest of the API', async () => {
  const r = await h.app.inject({ method: 'GET', url: '/api/services/Flight.mod_flight/dev-package?idl=v1' });
  assert.equal(r.statusCode, 401);
});
