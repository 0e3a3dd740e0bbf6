/**
 * Time travel: `?at=` on a service and its routing table answers the state as of a position
 * or a time, folded from the log. The pure parts as specifications (the `at` parser, the
 * snapshot ladder, the history over a scripted log), then the API with hostile input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import type { DomainEvent } from '../../../domain/events.ts';
import { epochMsFrom, parseAt, StateHistory, TimeTravelRefused } from '../../../apps/console/state-history.ts';
import { SnapshotLadder } from '../../../apps/console/snapshot-ladder.ts';
import { catalogProjection, serviceDetail } from '../../../projections/catalog.ts';
import { routeFor, routingProjection } from '../../../projections/routing.ts';
import * as e from '../projections/events.ts';
import { append, readEverything, silent } from '../projector/fixtures.ts';
import { consoleHarness, type Harness } from './harness.ts';

const svc = 'Flight.mod_flight';
const host = '10.0.0.1:7963';

describe('parseAt: what ?at= names', () => {
  const cases: [string, ReturnType<typeof parseAt>][] = [
    ['0', { position: 0 }],
    ['1200', { position: 1200 }],
    [' 7 ', { position: 7 }],
    [String(epochMsFrom - 1), { position: epochMsFrom - 1 }],
    ['1714557600000', { timeMs: 1714557600000 }],
    ['2024-05-01T10:00:00Z', { timeMs: Date.parse('2024-05-01T10:00:00Z') }],
    ['2024-05-01T10:00:00.123+02:00', { timeMs: Date.parse('2024-05-01T10:00:00.123+02:00') }],
    ['2024-05-01 10:00', { timeMs: Date.parse('2024-05-01T10:00') }],
    ['2024-05-01', { timeMs: Date.parse('2024-05-01') }],
  ];
  for (const [text, expected] of cases) it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parseAt(text), expected));

  it('refuses what names no point of the log, saying what would', () => {
    for (const bad of ['', '-1', '1.5', '1e3', '0x10', 'yesterday', 'May 1', '2024-13-01', '2024-05-01T25:00', '9'.repeat(20), '1 2', "1' OR '1'='1", '\u0000']) {
      assert.throws(() => parseAt(bad), (err: unknown) => err instanceof TimeTravelRefused && /position of the log .* ISO-8601|too large/.test(err.message), JSON.stringify(bad));
    }
  });
});

describe('SnapshotLadder: bounded snapshots over the whole log', () => {
  it('given snapshots every 10, when asked for a position, then the nearest at or before it', () => {
    const ladder = new SnapshotLadder('s0', 10, 8);
    for (const p of [10, 20, 30]) ladder.add(p, `s${p}`);
    assert.deepEqual(ladder.nearest(0), { position: 0, state: 's0' });
    assert.deepEqual(ladder.nearest(9), { position: 0, state: 's0' });
    assert.deepEqual(ladder.nearest(25), { position: 20, state: 's20' });
    assert.deepEqual(ladder.nearest(1000), { position: 30, state: 's30' });
  });

  it('keeps only positions on its spacing, once each', () => {
    const ladder = new SnapshotLadder('s0', 10, 8);
    ladder.add(15, 'x');
    ladder.add(10, 'a');
    ladder.add(10, 'b');
    assert.equal(ladder.size, 2);
    assert.equal(ladder.nearest(10).state, 'a');
    assert.equal(ladder.wants(20), true);
    assert.equal(ladder.wants(10), false);
  });

  it('given a full ladder, when one more comes, then every other one goes and the spacing doubles', () => {
    const ladder = new SnapshotLadder('s0', 10, 4);
    for (const p of [10, 20, 30, 40]) ladder.add(p, `s${p}`);
    assert.equal(ladder.size, 3); // 0, 20, 40
    assert.equal(ladder.every, 20);
    assert.equal(ladder.nearest(39).position, 20);
    for (let p = 60; p <= 1000; p += 20) ladder.add(p, `s${p}`);
    assert.ok(ladder.size <= 4);
    assert.ok(ladder.nearest(1000).position >= 1000 - ladder.every);
  });
});

describe('StateHistory: the read models as they were', () => {
  const story: DomainEvent[] = [
    e.firstLevelCreated('Flight'), e.childLinked('Flight', 'mod_flight'), e.serviceCreated(svc), // 1-3
    e.hostAdded(svc, host, { weight: 100 }), e.hostEnabled(svc, host), // 4-5
    e.hostWeightSet(svc, host, 200), // 6
    e.configAdded(svc, 'v1', 'x'), e.hostDisabled(svc, host), // 7-8
    ...Array.from({ length: 40 }, (_, i) => e.hostAdded(svc, `10.0.1.${i}:7963`)), // 9-48
    e.serviceDeleted(svc), // 49
  ];

  async function scripted() {
    const store = new MemoryEventStore({ logger: silent });
    await append(store, story);
    const events = await readEverything(store);
    let reads = 0;
    const counting = { headPosition: () => store.headPosition(), readAll: (after: number, limit: number) => (reads += 1, store.readAll(after, limit)) };
    const history = new StateHistory({ store: counting, snapshotEvery: 8, maxSnapshots: 4, pageSize: 3, now: () => e.startTime + 1e9 });
    return { store, events, history, reads: () => reads };
  }

  it('given a log, when asked for each position, then the fold of the events up to it', async () => {
    const { events, history, store } = await scripted();
    for (const position of [0, 3, 5, 6, 8, 30, 48, 49, 17, 2]) {
      const past = await history.at(String(position));
      const prefix = events.slice(0, position);
      assert.deepEqual(past.catalog, e.foldState(catalogProjection, prefix), `catalog at ${position}`);
      assert.deepEqual(past.routing, e.foldState(routingProjection, prefix), `routing at ${position}`);
      assert.equal(past.at.position, position);
      assert.equal(past.at.time, position ? events[position - 1]!.occurredAt : undefined);
    }
    await store.close();
  });

  it('then what a service was at each point: a weight, enabled or not, then gone', async () => {
    const { history, store } = await scripted();
    const hostAt = async (at: string) => (serviceDetail((await history.at(at)).catalog, svc) as { hosts?: { weight: number; enabled: boolean }[] } | null)?.hosts?.[0];
    assert.deepEqual(await hostAt('4'), { ...(await hostAt('4'))!, weight: 100, enabled: false });
    assert.equal((await hostAt('5'))!.enabled, true);
    assert.equal((await hostAt('6'))!.weight, 200);
    assert.equal((await hostAt('8'))!.enabled, false);
    assert.equal(await hostAt('49'), undefined);
    assert.deepEqual(routeFor((await history.at('6')).routing, svc)!.instances.map((i) => [i.ip, i.weight]), [['10.0.0.1', 200]]);
    await store.close();
  });

  it('resolves a time to the last event at or before it', async () => {
    const { history, events, store } = await scripted();
    // Event n happened at startTime + n minutes (fixtures).
    const at = (minutes: number) => String(e.startTime + minutes * 60_000);
    assert.equal((await history.at(at(6))).at.position, 6);
    assert.equal((await history.at(at(6.5))).at.position, 6);
    assert.equal((await history.at(at(0))).at.position, 0);
    assert.equal((await history.at(new Date(e.startTime + 7 * 60_000).toISOString())).at.position, 7);
    assert.equal((await history.at(at(10_000))).at.position, events.length);
    await store.close();
  });

  it('refuses a position after the end of the log and a time in the future', async () => {
    const { history, store } = await scripted();
    await assert.rejects(history.at('50'), /position 50 is after the end of the log \(position 49\)/);
    await assert.rejects(history.at(String(e.startTime + 2e9)), /is in the future/);
    await store.close();
  });

  it('once its snapshots are built, reads at most one spacing of the log per answer', async () => {
    const { history, reads, store } = await scripted();
    await history.at('49'); // builds the ladder on the way
    const before = reads();
    await history.at('47');
    // nearest snapshot ≤ 47 is at most one spacing back: pages of 3, plus the read of the time.
    assert.ok(reads() - before <= Math.ceil(16 / 3) + 2, `read ${reads() - before} pages`);
    await store.close();
  });
});

describe('the console API: ?at= on a service and its routes', () => {
  let h: Harness;
  const positions: Record<string, number> = {};
  before(async () => {
    h = await consoleHarness();
    const step = async (name: string, method: 'POST' | 'PUT', url: string, payload?: object) => {
      const r = await h.call({ method, url, ...(payload ? { payload } : {}) });
      assert.ok(r.statusCode < 300, r.body);
      positions[name] = (r.json() as { position: number }).position;
    };
    positions.before = await h.store.headPosition();
    await step('created', 'POST', '/api/services', { name: svc });
    await step('added', 'POST', `/api/services/${svc}/hosts`, { ip: '10.0.0.1', port: 7963, weight: 100 });
    await step('enabled', 'POST', `/api/services/${svc}/hosts/10.0.0.1:7963/enable`);
    await step('weighted', 'PUT', `/api/services/${svc}/hosts/10.0.0.1:7963/weight`, { weight: 250 });
  });
  after(() => h.close());

  it('answers a service and its routes as they were at a position', async () => {
    const then = await h.call({ method: 'GET', url: `/api/services/${svc}?at=${positions.enabled}` });
    assert.equal(then.statusCode, 200, then.body);
    const body = then.json() as { hosts: { weight: number; enabled: boolean }[]; at: { position: number; time: string } };
    assert.deepEqual(body.hosts.map((x) => [x.weight, x.enabled]), [[100, true]]);
    assert.equal(body.at.position, positions.enabled);
    assert.ok(!Number.isNaN(Date.parse(body.at.time)));

    const route = await h.call({ method: 'GET', url: `/api/routes/${svc}?at=${positions.enabled}` });
    assert.equal(route.statusCode, 200, route.body);
    assert.deepEqual((route.json() as { instances: { weight: number }[] }).instances.map((i) => i.weight), [100]);
    const now = await h.call({ method: 'GET', url: `/api/routes/${svc}` });
    assert.deepEqual((now.json() as { instances: { weight: number }[] }).instances.map((i) => i.weight), [250]);
  });

  it('answers 404 for a service that did not exist yet, naming the point', async () => {
    const r = await h.call({ method: 'GET', url: `/api/services/${svc}?at=${positions.before}` });
    assert.equal(r.statusCode, 404);
    assert.match((r.json() as { detail: string }).detail, /did not exist at position \d+/);
    const route = await h.call({ method: 'GET', url: `/api/routes/${svc}?at=0` });
    assert.equal(route.statusCode, 404);
    assert.match((route.json() as { detail: string }).detail, /no routing table .* at position 0 \(before the first event\)/);
  });

  it('refuses hostile or impossible ?at= with a 400 problem, and changes nothing', async () => {
    const head = await h.store.headPosition();
    const hostile = [
      '', '-1', '1.5', 'yesterday', '2024-13-45T99:00:00Z', String(head + 1), '99999999999', '9'.repeat(30), `${Date.now() + 86_400_000}`,
      "1' OR '1'='1", '%00', '../../etc/passwd', 'x'.repeat(41), '2999-01-01T00:00:00Z', '1&at=2',
    ];
    for (const at of hostile) {
      for (const url of [`/api/services/${svc}`, `/api/routes/${svc}`]) {
        const r = await h.call({ method: 'GET', url: `${url}?at=${encodeURIComponent(at)}` });
        assert.equal(r.statusCode, 400, `${url} at=${JSON.stringify(at)}: ${r.body}`);
        assert.match(String(r.headers['content-type']), /application\/problem\+json/);
      }
    }
    const twice = await h.call({ method: 'GET', url: `/api/routes/${svc}?at=1&at=2` });
    assert.equal(twice.statusCode, 400);
    const waiting = await h.call({ method: 'GET', url: `/api/routes/${svc}?at=1&wait=5` });
    assert.equal(waiting.statusCode, 400);
    assert.match((waiting.json() as { detail: string }).detail, /at and wait do not go together/);
    assert.equal(await h.store.headPosition(), head);
  });
});
