/**
 * Two `msec console` processes behind one event store, as a load balancer would run them: one
 * home (so one embedded SQLite event store, shared by both processes, and one session key),
 * their audit views in a ClickHouse server (a console alone reads the audit there). Both race
 * on the same service-tree commands many times over:
 * - the same second-level service created on one console while deleted on the other;
 * - a child created on one console while its first level is deleted on the other;
 * - sibling services created and deleted under one first level on both consoles.
 * Afterwards the event store is read back and checked in commit order by an oracle apart from
 * the deciders (tests/unit/support/service-tree-oracle.ts): no service without its link, no
 * link removed under a living service, no first level deleted while a child exists, and at
 * the end every link points to an existing service. Every request must be answered with
 * success or a clean 4xx problem, never a 5xx.
 * MSEC_E2E_RACE_ROUNDS sets the rounds per script (default 200).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { eventually, exited, startRole, type Started } from './support.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { emptyFacts, foldTree, quiescentProblems } from '../unit/support/service-tree-oracle.ts';
import { accessDecider, admins } from '../../domain/access/index.ts';

const unavailable = clickHouseServerUnavailable();
const home = mkdtempSync(join(tmpdir(), 'msec-race-'));
let ch: ClickHouseServer;
const running: Started[] = [];

before(async () => {
  if (unavailable) return;
  ch = await startClickHouse();
});
after(async () => {
  for (const r of running) r.proc.kill('SIGKILL');
  await Promise.all(running.map((r) => exited(r.proc)));
  await ch?.stop();
  rmSync(home, { recursive: true, force: true });
});

type Op = { console: 'A' | 'B'; method: 'POST' | 'DELETE'; name: string };
type Answered = Op & { status: number; detail?: string };

let consoles: Promise<{ url: { A: string; B: string }; auth: Record<string, string> }> | undefined;

/** Both consoles, started once for the file, one after the other (the first start creates the admin and RESERVED). */
function twoConsoles() {
  consoles ??= (async () => {
    const env = {
      MSEC_VIEWS: ch.url, MSEC_EVENTSTORE: 'embedded', MSEC_BUS: 'embedded', MSEC_REGISTRY: 'embedded',
      MSEC_ADMIN_PASSWORD: 'race-admin-pass',
    };
    const a = await startRole('console', home, env);
    running.push(a);
    const b = await startRole('console', home, env);
    running.push(b);
    const basic = { authorization: `Basic ${Buffer.from('admin:race-admin-pass').toString('base64')}`, 'content-type': 'application/json' };
    const issued = await fetch(`${a.url}/api/tokens`, { method: 'POST', headers: basic, body: '{"label":"race"}' });
    assert.equal(issued.status, 201, await issued.clone().text());
    const { token } = await issued.json() as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await eventually('console B knows the token issued on console A', async () => (await fetch(`${b.url}/api/services`, { headers: auth })).status === 200);
    return { url: { A: a.url, B: b.url }, auth };
  })();
  return consoles;
}

test('two consoles racing on one store keep the service tree whole', { skip: unavailable ?? false, timeout: 900_000 }, async () => {
  const { url, auth } = await twoConsoles();

  const answered: Answered[] = [];
  const send = async (op: Op) => {
    const r = op.method === 'POST'
      ? await fetch(`${url[op.console]}/api/services`, { method: 'POST', headers: auth, body: JSON.stringify({ name: op.name }) })
      : await fetch(`${url[op.console]}/api/services/${op.name}`, { method: 'DELETE', headers: { authorization: auth.authorization } });
    const text = await r.text();
    const detail = r.status >= 400 ? (JSON.parse(text) as { detail?: string }).detail : undefined;
    if (r.status >= 400) assert.match(String(r.headers.get('content-type')), /problem\+json/, `${op.method} ${op.name}: ${text}`);
    answered.push({ ...op, status: r.status, detail });
  };
  const rounds = Number(process.env.MSEC_E2E_RACE_ROUNDS ?? 200);
  const loop = async (console: 'A' | 'B', steps: [Op['method'], string][]) => {
    for (let i = 0; i < rounds; i++) for (const [method, name] of steps) await send({ console, method, name });
  };
  const started = Date.now();
  await Promise.all([
    // The same second-level service, created on one console while deleted on the other.
    loop('A', [['POST', 'Same.x'], ['DELETE', 'Same.x']]),
    loop('B', [['DELETE', 'Same.x'], ['POST', 'Same.x']]),
    // A child created while its first level is deleted (and created again) on the other console.
    loop('A', [['POST', 'Tree.c'], ['DELETE', 'Tree.c']]),
    loop('B', [['DELETE', 'Tree'], ['POST', 'Tree']]),
    // Siblings under one first level, one per console, and the first level deleted by both.
    loop('A', [['POST', 'Sib.a'], ['DELETE', 'Sib.a'], ['DELETE', 'Sib']]),
    loop('B', [['POST', 'Sib.b'], ['DELETE', 'Sib.b'], ['DELETE', 'Sib']]),
  ]);
  const seconds = (Date.now() - started) / 1000;

  const tally = new Map<string, number>();
  for (const r of answered) {
    const key = `${r.method} ${r.name.includes('.') ? 'second level' : 'first level'} → ${r.status}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  console.log(`# ${answered.length} requests in ${seconds.toFixed(1)} s on two consoles`);
  for (const [key, n] of [...tally].sort()) console.log(`#   ${key}: ${n}`);
  const details = new Map<string, number>();
  for (const r of answered.filter((x) => x.status >= 400)) {
    const d = `${r.status} ${r.detail?.replace(/\b(Same|Tree|Sib)(\.\w+)?/g, 'S').replace(/\d+/g, 'n')}`;
    details.set(d, (details.get(d) ?? 0) + 1);
  }
  for (const [d, n] of [...details].sort((x, y) => y[1] - x[1])) console.log(`#   ${n} × ${d}`);

  const store = SqliteEventStore.open(join(home, 'msec.db'));
  const facts = emptyFacts();
  try {
    for (let after = 0; ;) {
      const page = await store.readAll(after, 1000);
      if (page.length === 0) break;
      foldTree(facts, page);
      after = page[page.length - 1]!.position;
    }
  } finally {
    await store.close();
  }
  console.log(`# events: ${[...facts.counts].map(([type, n]) => `${type} ${n}`).join(', ')}`);
  const problems = [...facts.violations, ...quiescentProblems(facts)];
  console.log(`# rules broken in the log: ${facts.violations.length}; at the end: ${problems.length - facts.violations.length}`);
  const failedHard = answered.filter((r) => r.status >= 500 || r.status < 200);
  assert.deepEqual(failedHard.slice(0, 5), [], `${failedHard.length} requests were not answered with success or a 4xx`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} rules broken`);
  assert.ok(answered.some((r) => r.name === 'Same.x' && r.method === 'POST' && r.status === 201), 'some creations went through');
  assert.ok(answered.some((r) => r.name === 'Tree' && r.method === 'DELETE' && r.status === 200), 'some first-level deletes went through');
});

test('two admins taking each other\'s role (or account) on two consoles at once always leave one admin', { skip: unavailable ?? false, timeout: 600_000 }, async () => {
  const { url, auth } = await twoConsoles();
  const json = { 'content-type': 'application/json' };
  const as = (user: string) => ({ ...json, authorization: `Basic ${Buffer.from(`${user}:${user}-race-password`).toString('base64')}` });
  const call = async (base: string, method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const r = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.text();
    if (r.status >= 400) assert.match(String(r.headers.get('content-type')), /problem\+json/, `${method} ${path}: ${text}`);
    return r.status;
  };
  const ensureAdmin = async (user: string) => {
    const created = await call(url.A, 'POST', '/api/users', auth, { name: user, password: `${user}-race-password`, role: 'admin' });
    if (created !== 201) assert.equal(await call(url.A, 'POST', `/api/users/${user}/roles`, auth, { role: 'admin' }), 200);
  };
  await ensureAdmin('xavier');
  await ensureAdmin('yvonne');
  const rounds = Number(process.env.MSEC_E2E_RACE_ROUNDS ?? 200) / 4;
  const outcomes = new Map<string, number>();
  const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
  for (let i = 0; i < rounds; i++) {
    // Only xavier and yvonne are admins now: the console's own admin steps back first.
    await eventually('both race admins are known to both consoles', async () =>
      (await call(url.B, 'GET', '/api/users', as('xavier'))) === 200 && (await call(url.B, 'GET', '/api/users', as('yvonne'))) === 200);
    const stepBack = await call(url.A, 'DELETE', '/api/users/admin/roles', as('xavier'), { role: 'admin' });
    assert.ok(stepBack === 200 || stepBack === 400 || stepBack === 404, `admin steps back: ${stepBack}`);
    const removeAccounts = i % 2 === 1;
    const [x, y] = await Promise.all(removeAccounts
      ? [call(url.A, 'DELETE', '/api/users/yvonne', as('xavier')), call(url.B, 'DELETE', '/api/users/xavier', as('yvonne'))]
      : [call(url.A, 'DELETE', '/api/users/yvonne/roles', as('xavier'), { role: 'admin' }), call(url.B, 'DELETE', '/api/users/xavier/roles', as('yvonne'), { role: 'admin' })]);
    count(`${removeAccounts ? 'remove each other' : 'revoke each other'}: ${x} / ${y}`);
    assert.ok(!(x === 200 && y === 200), `round ${i}: both won (${x}, ${y}): no admin would be left`);
    // Back to the start: the console's admin (never touched) restores both.
    await eventually('the console admin regains admin', async () => [200, 404].includes(await call(url.A, 'POST', '/api/users/admin/roles', as(x === 200 ? 'xavier' : 'yvonne'), { role: 'admin' })) );
    await ensureAdmin('xavier');
    await ensureAdmin('yvonne');
  }
  for (const [what, n] of [...outcomes].sort()) console.log(`#   ${what}: ${n} rounds`);

  // The log, folded in commit order by the access decider: an admin at every point once there was one.
  const store = SqliteEventStore.open(join(home, 'msec.db'));
  let state = accessDecider.initialState();
  let hadAdmin = false;
  let adminless = 0;
  try {
    for (let after = 0; ;) {
      const page = await store.readAll(after, 1000);
      if (page.length === 0) break;
      for (const e of page) {
        if (e.stream !== 'access') continue;
        state = accessDecider.evolve(state, e as never);
        const n = admins(state).length;
        if (n > 0) hadAdmin = true;
        else if (hadAdmin) adminless++;
      }
      after = page[page.length - 1]!.position;
    }
  } finally {
    await store.close();
  }
  console.log(`# access events folded; moments without an admin: ${adminless}`);
  assert.equal(adminless, 0);
});
