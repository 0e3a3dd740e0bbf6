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

test('two consoles racing on one store keep the service tree whole', { skip: unavailable ?? false, timeout: 900_000 }, async () => {
  const env = {
    MSEC_VIEWS: ch.url, MSEC_EVENTSTORE: 'embedded', MSEC_BUS: 'embedded', MSEC_REGISTRY: 'embedded',
    MSEC_ADMIN_PASSWORD: 'race-admin-pass',
  };
  // One after the other: the first start creates the admin and the RESERVED services.
  const a = await startRole('console', home, env);
  running.push(a);
  const b = await startRole('console', home, env);
  running.push(b);
  const url = { A: a.url, B: b.url };

  const basic = { authorization: `Basic ${Buffer.from('admin:race-admin-pass').toString('base64')}`, 'content-type': 'application/json' };
  const issued = await fetch(`${a.url}/api/tokens`, { method: 'POST', headers: basic, body: '{"label":"race"}' });
  assert.equal(issued.status, 201, await issued.clone().text());
  const { token } = await issued.json() as { token: string };
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await eventually('console B knows the token issued on console A', async () => (await fetch(`${b.url}/api/services`, { headers: auth })).status === 200);

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
