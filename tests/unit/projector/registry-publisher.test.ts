/**
 * The registry publisher over the embedded registry: what it writes, removes and reconciles
 * (the projection is the truth, whatever version the registry holds), that a replay writes
 * nothing new (its checkpoint), that it restores tables changed behind its back, and that it
 * rides out a registry that fails.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { MemoryCheckpointStore } from '../../../adapters/checkpoints/memory.ts';
import { MemoryRegistry } from '../../../adapters/registry/memory.ts';
import type { CheckpointStore } from '../../../adapters/bus/port.ts';
import type { RouteRegistry } from '../../../adapters/registry/port.ts';
import type { RouteTable } from '../../../schemas/route-table.ts';
import { RegistryPublisher } from '../../../apps/projector/registry-publisher.ts';
import type { DomainEvent } from '../../../domain/events.ts';
import { routeFor, routingProjection, type RoutingState } from '../../../projections/routing.ts';
import { hostAdded, hostDisabled, hostEnabled, hostWeightSet, recorded, serviceCreated, serviceDeleted } from '../projections/events.ts';

const silent = pino({ level: 'silent' });

/**
 * A MemoryRegistry that counts writes and can be told to fail, like ZooKeeper going away, to
 * report access problems, or to report no stored change (a watch lost).
 */
class FlakyRegistry implements RouteRegistry {
  readonly inner = new MemoryRegistry();
  written: string[] = [];
  removed: string[] = [];
  /** Every publish asked for, written or not. */
  asked: string[] = [];
  /** The table objects handed to publish, by service. */
  handed = new Map<string, RouteTable>();
  down = false;
  problems: string[] = [];
  reportChanges = true;
  publish = async (table: RouteTable) => {
    this.check();
    this.asked.push(`${table.service}@${table.version}`);
    this.handed.set(table.service, table);
    const result = await this.inner.publish(table);
    if (result === 'written') this.written.push(`${table.service}@${table.version}`);
    return result;
  };
  remove = async (service: string) => {
    this.check();
    this.removed.push(service);
    return this.inner.remove(service);
  };
  read = async (service: string) => (this.check(), this.inner.read(service));
  list = async () => (this.check(), this.inner.list());
  checkAccess = async () => (this.check(), { ...(await this.inner.checkAccess()), problems: [...this.problems] });
  watchStored = (onChange: (service: string | null) => void) => this.inner.watchStored((s) => this.reportChanges && onChange(s));
  close = () => this.inner.close();
  private check(): void {
    if (this.down) throw new Error('ZooKeeper at zk://127.0.0.1:2181 is not connected: check that it runs and is reachable');
  }
}

const table = (service: string, version: number, ips: string[] = ['10.0.0.1']): RouteTable => ({
  service, policy: 'standard', version, instances: ips.map((ip) => ({ ip, port: 7963, protocol: 'tcp', weight: 100 })),
});
const state = (...tables: RouteTable[]): RoutingState => ({
  services: tables.map((t) => ({ table: t, standby: [] })),
});
const publisherOn = (registry: RouteRegistry, checkpoints?: CheckpointStore, verifyEveryMs?: number) =>
  new RegistryPublisher({
    registry, logger: silent, retryDelays: { initialMs: 5, maxMs: 20 },
    ...(checkpoints ? { checkpoints } : {}), ...(verifyEveryMs === undefined ? {} : { verifyEveryMs }),
  });
const hijacked = (service: string) => table(service, Number.MAX_SAFE_INTEGER, ['6.6.6.6']);
const waitFor = async (what: string, probe: () => boolean) => {
  for (const deadline = Date.now() + 5_000; !probe();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

describe('RegistryPublisher', () => {
  test('publishes every service, then only those whose version moved, and removes those that disappeared', async () => {
    const registry = new FlakyRegistry();
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 3), table('A.b', 4), table('B.c', 5)));
    assert.deepEqual(registry.written.sort(), ['A.a@3', 'A.b@4', 'B.c@5']);
    assert.deepEqual(publisher.status(), { published: 3, pending: 0, reconciled: true, failures: 0 });
    registry.written = [];
    await publisher.sync(state(table('A.a', 3), table('A.b', 9, ['10.0.0.2']), table('B.c', 5)));
    assert.deepEqual(registry.written, ['A.b@9']);
    await publisher.sync(state(table('A.b', 9, ['10.0.0.2'])));
    assert.deepEqual(registry.removed.sort(), ['A.a', 'B.c']);
    assert.deepEqual(await registry.list(), ['A.b']);
    assert.deepEqual(await registry.read('A.b'), table('A.b', 9, ['10.0.0.2']));
    await publisher.close();
  });

  test('the first sync reconciles: stale nodes go, differing ones are rewritten whatever their version', async () => {
    const registry = new FlakyRegistry();
    await registry.inner.publish(table('Old.gone', 2));
    await registry.inner.publish(table('A.tampered', 7, ['10.9.9.9']));
    await registry.inner.publish(table('A.behind', 3));
    await registry.inner.publish(table('A.ahead', 40, ['10.0.0.4']));
    await registry.inner.publish(hijacked('A.pinned'));
    await registry.inner.publish(table('A.same', 5));
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.tampered', 7), table('A.behind', 8), table('A.ahead', 30), table('A.pinned', 2), table('A.same', 5), table('A.new', 1)));
    assert.deepEqual(await registry.list(), ['A.ahead', 'A.behind', 'A.new', 'A.pinned', 'A.same', 'A.tampered']);
    assert.deepEqual(await registry.read('A.tampered'), table('A.tampered', 7));
    assert.deepEqual(await registry.read('A.behind'), table('A.behind', 8));
    assert.deepEqual(await registry.read('A.ahead'), table('A.ahead', 30));
    assert.deepEqual(await registry.read('A.pinned'), table('A.pinned', 2));
    assert.deepEqual(registry.written.sort(), ['A.ahead@30', 'A.behind@8', 'A.new@1', 'A.pinned@2', 'A.tampered@7']);
    assert.deepEqual(registry.removed.sort(), ['Old.gone']);
    assert.deepEqual(publisher.status(), { published: 6, pending: 0, reconciled: true, failures: 0 });
    await publisher.close();
  });

  test('a table changed behind the publisher\'s back is restored at once, without a new state', async () => {
    const registry = new FlakyRegistry();
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 3), table('A.b', 4)));
    registry.written = [];
    await registry.inner.publish(hijacked('A.a'));
    await registry.inner.publish(table('Evil.extra', Number.MAX_SAFE_INTEGER, ['6.6.6.6']));
    await waitFor('A.a is restored and Evil.extra removed', () => registry.written.includes('A.a@3') && registry.removed.includes('Evil.extra'));
    assert.deepEqual(await registry.read('A.a'), table('A.a', 3));
    assert.deepEqual(await registry.list(), ['A.a', 'A.b']);
    assert.deepEqual(registry.written, ['A.a@3'], 'only the changed table is written again');
    await publisher.close();
  });

  test('two publishers that disagree do not spin: restores are spaced out and the operator is told', async () => {
    const registry = new FlakyRegistry();
    const errors: string[] = [];
    const logger = pino({ level: 'error' }, new Writable({ write: (chunk: Buffer, _encoding, done) => done(void errors.push(JSON.parse(chunk.toString()).msg)) }));
    const first = new RegistryPublisher({ registry, logger });
    const second = new RegistryPublisher({ registry, logger: silent });
    await first.sync(state(table('A.a', 1)));
    await second.sync(state(table('A.a', 2, ['10.0.0.2'])));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await Promise.all([first.close(), second.close()]);
    // Unpaced, the two would write back and forth thousands of times in that while.
    assert.ok(registry.written.length < 40, `${registry.written.length} writes`);
    assert.ok(errors.some((e) => /another writer keeps changing the name service .* one projector per deployment/.test(e)), errors.join('\n'));
  });

  test('with no change reported, the periodic verification pass restores the table', async () => {
    const registry = new FlakyRegistry();
    registry.reportChanges = false;
    const publisher = publisherOn(registry, undefined, 30);
    await publisher.sync(state(table('A.a', 3)));
    await registry.inner.publish(hijacked('A.a'));
    await waitFor('the verification pass restores A.a', () => registry.written.filter((w) => w === 'A.a@3').length === 2);
    assert.deepEqual(await registry.read('A.a'), table('A.a', 3));
    await publisher.close();
  });

  test('nodes the registry cannot repair fail the reconciliation, show in the status with what to do, and clear once deleted', async () => {
    const registry = new FlakyRegistry();
    registry.problems = ['the name-service node /msec/nameservice/Evil has ACL …: a ZooKeeper superuser must delete it'];
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 1)));
    const blocked = publisher.status();
    assert.equal(blocked.reconciled, false);
    assert.deepEqual(blocked.problems, registry.problems);
    assert.match(blocked.lastError ?? '', /superuser must delete/);
    assert.deepEqual(await registry.read('A.a'), table('A.a', 1), 'what can be published still is');
    registry.problems = [];
    await waitFor('the reconciliation completes', () => publisher.status().reconciled);
    assert.deepEqual(publisher.status(), { published: 1, pending: 0, reconciled: true, failures: 0 });
    await publisher.close();
  });

  const history: DomainEvent[] = [
    serviceCreated('Flight.a'), hostAdded('Flight.a', '10.0.0.1:7963'), hostEnabled('Flight.a', '10.0.0.1:7963'),
    serviceCreated('Flight.gone'), hostAdded('Flight.gone', '10.0.0.2:7963'), hostEnabled('Flight.gone', '10.0.0.2:7963'),
    serviceDeleted('Flight.gone'),
    serviceCreated('Flight.late'), hostAdded('Flight.late', '10.0.0.3:7963'), hostEnabled('Flight.late', '10.0.0.3:7963'),
    hostWeightSet('Flight.a', '10.0.0.1:7963', 300), hostDisabled('Flight.late', '10.0.0.3:7963'),
  ];
  /** The routing state after each event of `history`: states[i] is at position i + 1. */
  const states: RoutingState[] = [];
  recorded(history).reduce((s, event) => {
    const next = routingProjection.apply(s, event);
    states.push(next);
    return next;
  }, routingProjection.initialState());
  const snapshot = async (registry: RouteRegistry) => ({
    list: await registry.list(), a: await registry.read('Flight.a'), late: await registry.read('Flight.late'),
  });

  test('after the first pass, one routing change asks the registry about that one service only', async () => {
    const registry = new FlakyRegistry();
    const publisher = publisherOn(registry);
    let position = 0;
    let routing = routingProjection.initialState();
    const fold = (events: DomainEvent[]) => {
      for (const event of recorded(events)) routing = routingProjection.apply(routing, { ...event, position: ++position });
    };
    // Our own writes are reported back by the registry (watchStored) and compared once more.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
    const asked = () => [...new Set(registry.asked.map((a) => a.split('@')[0]))];
    fold(Array.from({ length: 500 }, (_, i) => serviceCreated(`Load.s${i}`)));
    await publisher.sync(routing, position);
    await settle();
    assert.equal(asked().length, 500);
    registry.asked = [];
    fold([hostAdded('Load.s7', '10.0.0.7:7963')]);
    await publisher.sync(routing, position);
    await settle();
    assert.deepEqual(asked(), [], 'a disabled host changes no table');
    fold([hostEnabled('Load.s7', '10.0.0.7:7963')]);
    await publisher.sync(routing, position);
    await settle();
    assert.deepEqual(asked(), ['Load.s7']);
    assert.equal(registry.handed.get('Load.s7'), routeFor(routing, 'Load.s7'), 'the projection\'s own table: nothing is rebuilt');
    assert.deepEqual(registry.written, [...registry.written.slice(0, 500), `Load.s7@${position}`]);
    registry.asked = [];
    fold([serviceDeleted('Load.s9')]);
    await publisher.sync(routing, position);
    await settle();
    assert.deepEqual(asked(), []);
    assert.deepEqual(registry.removed, ['Load.s9']);
    assert.deepEqual(publisher.status(), { published: 499, pending: 0, reconciled: true, failures: 0, position });
    await publisher.close();
  });

  test('a change whose write failed is written by the retry, with the changes made meanwhile', async () => {
    const registry = new FlakyRegistry();
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 1), table('A.b', 1), table('A.c', 1)));
    registry.down = true;
    const failing = state(table('A.a', 2), table('A.b', 1), table('A.c', 1));
    await publisher.sync(failing);
    assert.equal(publisher.status().pending, 1);
    await publisher.sync({ services: [failing.services[0]!, failing.services[1]!, { table: table('A.c', 3), standby: [] }] });
    registry.down = false;
    registry.written = [];
    await waitFor('both changes are written', () => publisher.status().pending === 0);
    assert.deepEqual(registry.written.sort(), ['A.a@2', 'A.c@3']);
    await publisher.close();
  });

  test('a replay from position 0 after a restart writes nothing and removes nothing (with a checkpoint)', async () => {
    const registry = new FlakyRegistry();
    const checkpoints = new MemoryCheckpointStore();
    const live = publisherOn(registry, checkpoints);
    for (const [i, s] of states.entries()) await live.sync(s, i + 1);
    const settled = await snapshot(registry);
    assert.deepEqual(settled.list, ['Flight.a', 'Flight.late']);
    assert.equal(settled.a?.instances[0]?.weight, 300);
    assert.equal(live.status().position, states.length);
    assert.equal(await checkpoints.load('registry-publisher'), states.length);
    await live.close(); // the restart

    registry.written = [];
    registry.removed = [];
    const restarted = publisherOn(registry, new MemoryCheckpointStore(checkpoints.positions));
    for (const [i, s] of states.entries()) await restarted.sync(s, i + 1);
    assert.deepEqual(registry.written, []);
    assert.deepEqual(registry.removed, []);
    assert.deepEqual(await snapshot(registry), settled);
    assert.deepEqual(restarted.status(), { published: 2, pending: 0, reconciled: true, failures: 0, position: states.length });
  });

  test('while the checkpoint cannot be loaded nothing is published (a replay could go back in time)', async () => {
    const registry = new FlakyRegistry();
    const saved = new MemoryCheckpointStore();
    const live = publisherOn(registry, saved);
    for (const [i, s] of states.entries()) await live.sync(s, i + 1);
    await live.close(); // the restart
    const settled = await snapshot(registry);
    registry.written = [];
    registry.removed = [];
    let broken = true;
    const flaky: CheckpointStore = {
      load: async (name) => {
        if (broken) throw new Error('checkpoints.db is locked');
        return saved.load(name);
      },
      save: (name, position) => saved.save(name, position),
    };
    const restarted = publisherOn(registry, flaky);
    await restarted.sync(states[3]!, 4);
    assert.deepEqual(registry.written, []);
    assert.deepEqual(registry.removed, []);
    assert.match(restarted.status().lastError ?? '', /checkpoint: nothing is published until it loads/);
    broken = false;
    await waitFor('the checkpoint loads', () => restarted.status().failures === 0);
    assert.deepEqual(registry.written, [], 'the old state is skipped once the checkpoint is known');
    assert.deepEqual(await snapshot(registry), settled);
    await restarted.close();
  });

  test('a state older than one already published is skipped in the same process', async () => {
    const registry = new FlakyRegistry();
    const publisher = publisherOn(registry);
    await publisher.sync(states[9]!, 10);
    registry.written = [];
    await publisher.sync(states[3]!, 4);
    assert.deepEqual(registry.written, []);
    assert.deepEqual(await registry.list(), ['Flight.a', 'Flight.late']);
  });

  test('without a position a removal is unconditional (the state is taken as current)', async () => {
    const registry = new FlakyRegistry();
    await registry.inner.publish(table('A.newer', 100));
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.kept', 1)));
    assert.deepEqual(await registry.list(), ['A.kept']);
  });

  test('while the registry fails it keeps the latest desired state, reports it, and converges by itself', async () => {
    const registry = new FlakyRegistry();
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 1), table('A.b', 1)));
    registry.down = true;
    await publisher.sync(state(table('A.a', 2)));
    await publisher.sync(state(table('A.a', 3), table('A.c', 3)));
    const down = publisher.status();
    assert.equal(down.pending, 3);
    assert.equal(down.published, 0);
    assert.ok(down.failures >= 1);
    assert.match(down.lastError ?? '', /not connected: check that it runs/);
    registry.down = false;
    await waitFor('the publisher converges', () => publisher.status().pending === 0);
    assert.deepEqual(publisher.status(), { published: 2, pending: 0, reconciled: true, failures: 0 });
    assert.deepEqual(await registry.list(), ['A.a', 'A.c']);
    assert.equal((await registry.read('A.a'))?.version, 3);
    assert.ok(!registry.written.includes('A.a@2'), 'a superseded state is never written');
    await publisher.close();
  });

  test('a registry down from the start: the first reconciliation is retried until it succeeds', async () => {
    const registry = new FlakyRegistry();
    await registry.inner.publish(table('Old.gone', 1));
    registry.down = true;
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 1)));
    assert.equal(publisher.status().reconciled, false);
    registry.down = false;
    await waitFor('the reconciliation is done', () => publisher.status().reconciled && publisher.status().pending === 0);
    assert.deepEqual(await registry.list(), ['A.a']);
    await publisher.close();
  });

  test('close stops the retries', async () => {
    const registry = new FlakyRegistry();
    registry.down = true;
    const publisher = publisherOn(registry);
    await publisher.sync(state(table('A.a', 1)));
    await publisher.close();
    registry.down = false;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(registry.written, []);
    await publisher.sync(state(table('A.a', 2)));
    assert.deepEqual(registry.written, []);
  });
});
