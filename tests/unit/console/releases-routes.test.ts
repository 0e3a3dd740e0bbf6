/**
 * The release routes (routes/releases.ts) as an attacker and a careless user meet them: who may
 * upload, plan and start (a release runs code on hosts: agents.exec), bad and hostile uploads
 * (not a gzip, empty, a library name climbing out of bin/lib, an oversized body), plans naming
 * hosts outside the service or versions that do not exist — each a 4xx problem with nothing
 * written: no event, no stored file.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { agentConsole, type AgentConsole } from './agents-harness.ts';

let h: AgentConsole;
let viewer: Record<string, string>;
let scoped: Record<string, string>;
const service = 'Flight.mod_flight';
const tgz = gzipSync(Buffer.from('not really a tar, but a gzip'));
before(async () => {
  h = await agentConsole();
  viewer = await h.user('vera', 'viewer');
  scoped = await h.user('fred', 'operator', 'Flight');
  for (const [method, url, payload] of [
    ['POST', '/api/services', { name: service }],
    ['POST', `/api/services/${service}/hosts`, { ip: '10.0.0.7', port: 7963 }],
    ['PUT', `/api/services/${service}/configs/v1`, { text: '[LOG]\nLevel=INFO\n' }],
  ] as const) {
    const r = await h.call({ method, url, payload });
    assert.ok(r.statusCode < 300, r.body);
  }
});
after(() => h.close());

type Response = { statusCode: number; headers: Record<string, unknown>; body: string; json(): unknown };
const problem = (r: Response, status: number, detail?: RegExp) => {
  assert.equal(r.statusCode, status, r.body);
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  if (detail) assert.match((r.json() as { detail: string }).detail, detail);
};
const upload = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
  h.call({ method: 'PUT', url, headers: { 'content-type': 'application/octet-stream', ...headers }, payload: body });

/** Events other than the audit's record of refused requests (a 403 is audited on purpose). */
async function allEvents(): Promise<number> {
  return (await h.store.readAll(0, 1_000_000)).filter((e) => e.stream !== 'access-refusals').length;
}

/** Runs `attempt` and checks that no event and no stored file appeared. */
async function writesNothing(attempt: () => Promise<void>): Promise<void> {
  const events = await allEvents();
  const blobs = h.blobFiles();
  await attempt();
  assert.equal(await allEvents(), events, 'events were written');
  assert.deepEqual(h.blobFiles(), blobs, 'a file was stored');
}

describe('uploads', () => {
  test('an artifact is stored by digest and listed with who uploaded it', async () => {
    const r = await upload(`/api/services/${service}/artifacts/v1?memo=first`, tgz);
    assert.equal(r.statusCode, 201, r.body);
    const list = (await h.call({ method: 'GET', url: `/api/services/${service}/artifacts` })).json() as { artifacts: { tag: string; size: number; addedBy: string; memo: string }[] };
    assert.deepEqual(list.artifacts.map((a) => [a.tag, a.size, a.addedBy, a.memo]), [['v1', tgz.length, 'admin', 'first']]);
    const back = await h.call({ method: 'GET', url: `/api/services/${service}/artifacts/v1/content` });
    assert.deepEqual(back.rawPayload, tgz);
  });

  test('bad uploads are refused and store nothing', async () => {
    await writesNothing(async () => {
      problem(await upload(`/api/services/${service}/artifacts/v2`, Buffer.from('plain text')), 400, /gzip tar/);
      problem(await upload(`/api/services/${service}/artifacts/v2`, Buffer.alloc(0)), 400, /empty/);
      problem(await upload(`/api/services/${service}/artifacts/v1`, gzipSync(Buffer.from('other content'))), 409, /immutable, use a new tag/);
      problem(await upload(`/api/services/${service}/artifacts/bad%20tag`, tgz), 400, /tag "bad tag" is not valid/);
      problem(await upload(`/api/services/No.such/artifacts/v2`, tgz), 404, /does not exist/);
      problem(await upload(`/api/services/${service}/libraries/..%2Fstart`, Buffer.from('x')), 400, /a file name, no folders/);
      problem(await upload(`/api/services/${service}/artifacts/v2`, tgz, { 'content-type': 'application/json' }), 400);
    });
  });

  test('a body over the artifact limit is refused before it is stored', async () => {
    await writesNothing(async () => {
      const r = await upload(`/api/services/${service}/libraries/big.so`, Buffer.alloc(64 * 1024 * 1024 + 1));
      assert.equal(r.statusCode, 413, r.body);
    });
  });
});

describe('plans', () => {
  const plan = (headers: Record<string, string>, body: object) => h.inject({ method: 'POST', url: '/api/releases', headers: { ...headers, 'content-type': 'application/json' }, payload: body });

  test('a viewer and an operator scoped to the service cannot release (a release runs code on hosts)', async () => {
    await writesNothing(async () => {
      problem(await plan(viewer, { service, hosts: ['10.0.0.7'], config: 'v1', artifact: 'v1' }), 403, /agents\.exec/);
      problem(await plan(scoped, { service, hosts: ['10.0.0.7'], config: 'v1', artifact: 'v1' }), 403, /agents\.exec/);
    });
  });

  test('hosts outside the service, unknown versions and bad numbers are refused, and nothing is written', async () => {
    await writesNothing(async () => {
      const bad = async (body: object, status: number, detail?: RegExp) => problem(await h.call({ method: 'POST', url: '/api/releases', payload: body }), status, detail);
      await bad({ service, hosts: ['10.0.0.9'], config: 'v1', artifact: 'v1' }, 400, /10\.0\.0\.9 is not a host of Flight\.mod_flight/);
      await bad({ service, hosts: ['10.0.0.7'], config: 'v9', artifact: 'v1' }, 404, /no config version v9/);
      await bad({ service, hosts: ['10.0.0.7'], config: 'v1', artifact: 'v9' }, 404, /no artifact v9/);
      await bad({ service, hosts: ['10.0.0.7'], artifact: 'v1', type: 'complete' }, 400, /needs a config version/);
      await bad({ service, hosts: ['10.0.0.7'], config: 'v1', artifact: 'v1', batch: -1 }, 400);
      await bad({ service, hosts: ['10.0.0.7'], config: 'v1', artifact: 'v1', extra: 1 }, 400);
      await bad({ service, hosts: ['10.0.0.7; rm -rf /'], config: 'v1', artifact: 'v1' }, 400);
    });
  });

  test('a plan id that is not one is refused, whatever it tries', async () => {
    for (const id of ['..%2F..%2Fetc', '20260101000000_abc%27--', 'x'.repeat(40)]) {
      const r = await h.call({ method: 'POST', url: `/api/releases/${id}/start` });
      assert.ok(r.statusCode === 400 || r.statusCode === 404, `${id}: ${r.statusCode} ${r.body}`);
    }
  });

  test('a plan is created, listed and shown; the pace rule stops a second from starting', async () => {
    const a = await h.call({ method: 'POST', url: '/api/releases', payload: { service, hosts: ['10.0.0.7'], config: 'v1', artifact: 'v1', memo: 'one' } });
    assert.equal(a.statusCode, 201, a.body);
    const b = await h.call({ method: 'POST', url: '/api/releases', payload: { service, hosts: ['10.0.0.7'], config: 'v1', type: 'only_config' } });
    const [first, second] = [(a.json() as { planId: string }).planId, (b.json() as { planId: string }).planId];
    assert.match(first, /^\d{14}_[0-9a-z]{6}$/);
    const listed = (await h.call({ method: 'GET', url: `/api/releases?service=${service}` })).json() as { plans: { planId: string; status: string }[] };
    assert.deepEqual(listed.plans.map((p) => p.status), ['created', 'created']);
    assert.equal((await h.call({ method: 'POST', url: `/api/releases/${first}/start` })).statusCode, 200);
    problem(await h.call({ method: 'POST', url: `/api/releases/${second}/start` }), 409, new RegExp(`release plan ${first} of Flight\\.mod_flight is under way`));
    const shown = (await h.call({ method: 'GET', url: `/api/releases/${second}` })).json() as { status: string };
    assert.equal(shown.status, 'created', 'the refused start wrote nothing to the plan');
    assert.equal((await h.call({ method: 'POST', url: `/api/releases/${first}/cancel` })).statusCode, 200);
  });
});
