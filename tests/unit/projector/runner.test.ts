import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventLog } from '../../../adapters/eventstore/memory.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { SqliteViewStore } from '../../../adapters/views/sqlite.ts';
import type { ViewStore } from '../../../adapters/views/port.ts';
import { ProjectionRunner, UnknownProjection } from '../../../apps/projector/runner.ts';
import { auditProjection, auditRowsOf } from '../../../projections/audit.ts';
import { catalogProjection, findService, type CatalogState } from '../../../projections/catalog.ts';
import { defaultProjections } from '../../../projections/index.ts';
import { routeFor, routingProjection, type RoutingState } from '../../../projections/routing.ts';
import { findTokenByHash, findUser, usersProjection, type UsersState } from '../../../projections/users.ts';
import type { StateProjection } from '../../../projections/projection.ts';
import * as e from '../projections/events.ts';
import { append, HeldRows, history, memoryStore, readEverything, silent, until } from './fixtures.ts';

const svc = 'Flight.mod_flight';
const runnerOn = (store: ReturnType<typeof memoryStore>, views: ViewStore, more: Partial<ConstructorParameters<typeof ProjectionRunner>[0]> = {}) =>
  new ProjectionRunner({ store, views, projections: defaultProjections, logger: silent, ...more });

/** What every projection must hold after the events in the store, computed without the runner. */
async function expected(store: ReturnType<typeof memoryStore>) {
  const events = await readEverything(store);
  return {
    catalog: e.foldState(catalogProjection, events),
    routing: e.foldState(routingProjection, events),
    users: e.foldState(usersProjection, events),
    audit: auditRowsOf(events).reverse(),
  };
}

async function served(runner: ProjectionRunner) {
  return {
    catalog: runner.state<CatalogState>('catalog'),
    routing: runner.state<RoutingState>('routing'),
    users: runner.state<UsersState>('users'),
    audit: await runner.queryRows('audit', { limit: 1000 }),
  };
}

const keyOf = (name: string) => `${name}_v${defaultProjections.find((p) => p.name === name)!.version}`;

describe('ProjectionRunner', () => {
  it('catches up with the stored events, then follows new ones', async () => {
    const store = memoryStore();
    const head = await append(store, [...history(0), ...history(1)]);
    const runner = runnerOn(store, new MemoryViewStore());
    await runner.start();
    try {
      assert.equal(await runner.waitFor(head, 2000), true);
      assert.deepEqual(await served(runner), await expected(store));
      assert.deepEqual(runner.status().map((s) => [s.name, s.version, s.checkpoint]),
        defaultProjections.map((p) => [p.name, p.version, head]));

      const later = await append(store, [e.hostEnabled(svc, '10.0.1.1:7963')]);
      assert.equal(await runner.waitFor(later, 2000), true);
      assert.deepEqual(routeFor(runner.state<RoutingState>('routing'), svc)!.version, later);
      assert.deepEqual(await served(runner), await expected(store));
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('waitFor answers false when the position is not reached in time, true as soon as it is', async () => {
    const store = memoryStore();
    const runner = runnerOn(store, new MemoryViewStore());
    await runner.start();
    try {
      assert.equal(await runner.waitFor(0, 10), true);
      assert.equal(await runner.waitFor(1, 30), false);
      const waiting = runner.waitFor(2, 2000);
      await append(store, [e.userCreated('alice'), e.userCreated('bob')]);
      assert.equal(await waiting, true);
      assert.equal(findUser(runner.state<UsersState>('users'), 'bob')!.name, 'bob');
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('waits for the projections in scope only: a held audit delays no wait for the state projections', async () => {
    const store = memoryStore();
    const states = new MemoryViewStore();
    const held = new HeldRows(new MemoryViewStore());
    const runner = runnerOn(store, states, { views: (p) => (p.kind === 'rows' ? held : states) });
    await runner.start();
    try {
      const head = await append(store, [e.userCreated('alice')]);
      assert.equal(await runner.waitFor(head, 2000, { projections: 'state' }), true, 'every state projection has the event');
      assert.equal(await runner.waitFor(head, 2000, { projections: ['users', 'catalog'] }), true);
      assert.equal(await runner.waitFor(head, 30), false, 'the default scope is every projection, the audit included');
      assert.equal(await runner.waitFor(head, 30, { projections: ['audit'] }), false);
      const audit = runner.waitFor(head, 2000, { projections: ['audit'] });
      held.release();
      assert.equal(await audit, true);
      assert.equal(await runner.waitFor(head, 10, { projections: [] }), true, 'a wait for no projection is over at once');
      assert.throws(() => runner.waitFor(head, 10, { projections: ['audti'] }), UnknownProjection);
    } finally {
      held.release();
      await runner.stop();
      await store.close();
    }
  });

  it('calls the listeners of a projection after each batch it folded, until they stop listening', async () => {
    const store = memoryStore();
    const runner = runnerOn(store, new MemoryViewStore());
    await runner.start();
    try {
      const seen: number[] = [];
      const stop = runner.onChange('routing', () => seen.push(runner.status().find((s) => s.name === 'routing')!.checkpoint));
      const first = await append(store, [e.firstLevelCreated('Flight')]);
      await until(() => seen.includes(first));
      stop();
      const second = await append(store, [e.userCreated('alice')]);
      assert.equal(await runner.waitFor(second, 2000), true);
      assert.deepEqual(seen, [first], 'no call after stop');
      assert.throws(() => runner.onChange('routes', () => undefined), UnknownProjection);
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('the state projections share one subscription to the store; the audit follows on its own', async () => {
    const store = memoryStore();
    let subscriptions = 0;
    const counting = Object.assign(Object.create(store) as typeof store, {
      subscribeAll: (after: number, handler: Parameters<typeof store.subscribeAll>[1]) => (subscriptions++, store.subscribeAll(after, handler)),
    });
    const runner = runnerOn(counting, new MemoryViewStore());
    await runner.start();
    try {
      // They subscribe once the joint catch-up (one read of the log for all) reached the head.
      for (let i = 0; i < 200 && subscriptions < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(subscriptions, 2);
      const head = await append(store, history(0));
      assert.equal(await runner.waitFor(head, 2000), true);
      assert.deepEqual(await served(runner), await expected(store));
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('a batch one state projection fails to fold is delivered again; the others fold it once', async () => {
    const store = memoryStore();
    const counter = (name: string, failOnce?: number): StateProjection<unknown> => {
      let failed = false;
      return {
        kind: 'state', name, version: 1, handles: ['UserCreated'], initialState: () => 0,
        apply: (count, event) => {
          if (event.position === failOnce && !failed) {
            failed = true;
            throw new Error('a bug, once');
          }
          return (count as number) + 1;
        },
      };
    };
    const runner = new ProjectionRunner({ store, views: new MemoryViewStore(), projections: [counter('steady'), counter('flaky', 2)], logger: silent });
    await runner.start();
    try {
      const head = await append(store, [e.userCreated('a'), e.userCreated('b'), e.userCreated('c')]);
      assert.equal(await runner.waitFor(head, 2000), true);
      assert.equal(runner.state<number>('steady'), 3);
      assert.equal(runner.state<number>('flaky'), 3);
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('moves every checkpoint over events a projection does not read', async () => {
    const store = memoryStore();
    const head = await append(store, [e.userCreated('alice'), e.passwordChanged('alice', 'x')]);
    const runner = runnerOn(store, new MemoryViewStore());
    await runner.start();
    try {
      assert.equal(await runner.waitFor(head, 2000), true);
      assert.equal(runner.status().find((s) => s.name === 'routing')!.checkpoint, head);
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('stores each state with its checkpoint, and restarts from there to the same result', async () => {
    const log = new MemoryEventLog();
    const views = new MemoryViewStore();
    let store = memoryStore(log);
    let runner = runnerOn(store, views);
    await runner.start();
    const firstHead = await append(store, history(0));
    assert.equal(await runner.waitFor(firstHead, 2000), true);
    await runner.stop();
    await store.close();
    assert.equal((await views.loadState(keyOf('catalog')))!.checkpoint, firstHead);
    assert.equal(await views.checkpoint(keyOf('audit')), firstHead);

    store = memoryStore(log); // "another process" on the same log
    await append(store, [...history(1), ...history(2)]);
    runner = runnerOn(store, views);
    await runner.start();
    try {
      assert.equal(await runner.waitFor(await store.headPosition(), 2000), true);
      assert.deepEqual(await served(runner), await expected(store));
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('restarts from a SQLite view file to the same result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msec-runner-'));
    const file = join(dir, 'views.db');
    const log = new MemoryEventLog();
    let store = memoryStore(log);
    let views = SqliteViewStore.open(file);
    let runner = runnerOn(store, views);
    await runner.start();
    assert.equal(await runner.waitFor(await append(store, history(0)), 2000), true);
    await runner.stop();
    await views.close();
    await store.close();

    store = memoryStore(log);
    views = SqliteViewStore.open(file);
    await append(store, history(1));
    runner = runnerOn(store, views);
    await runner.start();
    try {
      assert.equal(await runner.waitFor(await store.headPosition(), 2000), true);
      assert.deepEqual(await served(runner), await expected(store));
    } finally {
      await runner.stop();
      await views.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects reads of unknown projections and of the wrong kind', () => {
    const runner = runnerOn(memoryStore(), new MemoryViewStore());
    assert.throws(() => runner.state('nope'), UnknownProjection);
    assert.throws(() => runner.state('audit'), /queryRows/);
    assert.throws(() => runner.queryRows('catalog'), /state/);
    assert.throws(() => new ProjectionRunner({
      store: memoryStore(), views: new MemoryViewStore(), logger: silent, projections: [auditProjection, auditProjection],
    }), /unique name/);
  });

  it('runs a new version of a projection from position 0 under its own key', async () => {
    const store = memoryStore();
    const views = new MemoryViewStore();
    const head = await append(store, history(0));
    await views.saveState(`users_v${usersProjection.version}`, { users: [], tokenOwners: [] }, head); // this version is done
    const usersV2: StateProjection<UsersState> = { ...usersProjection, version: usersProjection.version + 1 };
    const runner = new ProjectionRunner({ store, views, projections: [usersV2 as StateProjection<unknown>], logger: silent });
    await runner.start();
    try {
      assert.equal(await runner.waitFor(head, 2000), true);
      assert.ok(findTokenByHash(runner.state<UsersState>('users'), 'hash0'));
    } finally {
      await runner.stop();
      await store.close();
    }
    assert.equal((await views.loadState(`users_v${usersProjection.version + 1}`))!.checkpoint, head);
  });

  it('keeps serving reads that were current before an event, until its batch is stored', async () => {
    const store = memoryStore();
    const runner = runnerOn(store, new MemoryViewStore());
    await runner.start();
    try {
      const before = runner.state<CatalogState>('catalog');
      const head = await append(store, history(0));
      assert.equal(await runner.waitFor(head, 2000), true);
      assert.notEqual(runner.state<CatalogState>('catalog'), before);
      assert.equal(findService(before, svc), null); // the old state object was not changed in place
      assert.ok(findService(runner.state<CatalogState>('catalog'), svc));
    } finally {
      await runner.stop();
      await store.close();
    }
  });
});
