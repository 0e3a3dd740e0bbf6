import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventStore } from '../../../adapters/eventstore/port.ts';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { auditProjection, auditRowsOf } from '../../../projections/audit.ts';
import { projectionKey } from '../../../adapters/views/port.ts';
import { catalogProjection, serviceDetail, type CatalogState } from '../../../projections/catalog.ts';
import { defaultProjections } from '../../../projections/index.ts';
import * as e from '../projections/events.ts';
import { append, DyingViewStore, history, memoryStore, readEverything, silent } from './fixtures.ts';

const auditKey = projectionKey(auditProjection.name, auditProjection.version);

/** The event store with slow reads of the global log, so a replay takes a while. */
function slowReads(store: EventStore, delayMs: number): EventStore {
  return Object.assign(Object.create(store) as EventStore, {
    readAll: async (after: number, limit: number) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return store.readAll(after, limit);
    },
  });
}

async function caughtUp(store: ReturnType<typeof memoryStore>, views = new MemoryViewStore(), events = [...history(0), ...history(1)]) {
  const head = await append(store, events);
  const runner = new ProjectionRunner({ store, views, projections: defaultProjections, logger: silent, pageSize: 4 });
  await runner.start();
  assert.equal(await runner.waitFor(head, 2000), true);
  return { runner, views, head };
}

const keyOf = (name: string) => `${name}_v${defaultProjections.find((p) => p.name === name)!.version}`;

describe('ProjectionRunner.replay', () => {
  for (const name of defaultProjections.map((p) => p.name)) {
    it(`rebuilds ${name} from position 0 to an identical read model and switches to it`, async () => {
      const store = memoryStore();
      const { runner, views, head } = await caughtUp(store);
      try {
        const rowsBefore = name === 'audit' ? await runner.queryRows('audit', { limit: 1000 }) : null;
        const stateBefore = name === 'audit' ? null : runner.state(name);
        const result = await runner.replay(name);
        assert.equal(result.projection, name);
        assert.equal(result.events, head);
        assert.equal(result.identical, true);
        assert.match(result.before, /^sha256:[0-9a-f]{64}$/);
        assert.equal(result.after, result.before);
        if (rowsBefore) assert.deepEqual(await runner.queryRows('audit', { limit: 1000 }), rowsBefore);
        else assert.deepEqual(runner.state(name), stateBefore);
        assert.equal(runner.status().find((s) => s.name === name)!.checkpoint, head);
        assert.equal(await views.checkpoint(keyOf(name)), head);
        assert.equal(await views.checkpoint(`${keyOf(name)}_rebuild`), null, 'the copy was promoted, not left behind');
      } finally {
        await runner.stop();
        await store.close();
      }
    });
  }

  it('replaces a read model that drifted from the events, and says so', async () => {
    const store = memoryStore();
    const views = new MemoryViewStore();
    const head = await append(store, history(0));
    const events = await readEverything(store);
    const truth = e.foldState(catalogProjection, events);
    await views.saveState('catalog_v1', { ...truth, firstLevels: [] }, head); // e.g. written by a buggy version
    const rows = auditRowsOf(events);
    await views.appendRows(auditKey, rows.map((r, i) => (i === 2 ? { ...r, summary: 'wrong' } : r)), head);

    const { runner } = await caughtUp(store, views, []);
    try {
      assert.deepEqual(runner.state<CatalogState>('catalog').firstLevels, []);
      const catalog = await runner.replay('catalog');
      assert.equal(catalog.identical, false);
      assert.notEqual(catalog.before, catalog.after);
      assert.deepEqual(runner.state('catalog'), truth);
      assert.deepEqual((await views.loadState('catalog_v1'))!.state, truth);

      assert.equal((await runner.replay('audit')).identical, false);
      assert.deepEqual(await runner.queryRows('audit', { limit: 1000 }), [...rows].reverse());
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('keeps the live projection serving and following while a replay runs', async () => {
    const memory = memoryStore();
    const head = await append(memory, [...history(0), ...history(1), ...history(2)]);
    const store = slowReads(memory, 3);
    const runner = new ProjectionRunner({ store, views: new MemoryViewStore(), projections: defaultProjections, logger: silent, pageSize: 2 });
    await runner.start();
    try {
      assert.equal(await runner.waitFor(head, 5000), true);
      const replaying = runner.replay('catalog');
      const more = await append(memory, [e.firstLevelCreated('Hotel', 'odd')]);
      assert.equal(await runner.waitFor(more, 2000), true, 'live batches go on during the rebuild');
      assert.ok(serviceDetail(runner.state<CatalogState>('catalog'), 'Hotel'));
      const evenMore = await append(memory, [e.serviceCreated('Hotel.rooms', { kind: 'odd' })]);

      const result = await replaying;
      assert.equal(result.identical, true);
      assert.ok(result.events >= more, `the rebuild read up to the live position (${result.events} events)`);
      assert.equal(await runner.waitFor(evenMore, 2000), true);
      assert.deepEqual(runner.state('catalog'), e.foldState(catalogProjection, await readEverything(memory)));
    } finally {
      await runner.stop();
      await memory.close();
    }
  });

  it('gives a second caller the replay already running', async () => {
    const store = memoryStore();
    const { runner } = await caughtUp(store);
    try {
      const first = runner.replay('users');
      assert.equal(runner.replay('users'), first);
      await first;
      assert.notEqual(runner.replay('users'), first);
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('survives a crash during a replay: the live read model is untouched and the next replay starts clean', async () => {
    const store = memoryStore();
    const views = new MemoryViewStore();
    const { runner, head } = await caughtUp(store, views);
    const before = runner.state('routing');
    await runner.stop();

    const dying = new DyingViewStore(views, 1); // the drop of an old copy passes, then it dies
    await views.appendRows(`${auditKey}_rebuild`, [{ eventId: 'junk', position: 1 }], 1);
    const crashing = new ProjectionRunner({ store, views: dying, projections: defaultProjections, logger: silent, pageSize: 4 });
    await crashing.start();
    await assert.rejects(crashing.replay('audit'), /died/);
    await assert.rejects(crashing.replay('routing'), /died/);
    await crashing.stop();

    const restarted = new ProjectionRunner({ store, views, projections: defaultProjections, logger: silent, pageSize: 4 });
    await restarted.start();
    try {
      assert.equal(await restarted.waitFor(head, 2000), true);
      assert.deepEqual(restarted.state('routing'), before);
      assert.equal((await restarted.replay('audit')).identical, true);
      assert.equal((await restarted.replay('routing')).identical, true);
      assert.equal(await views.checkpoint(`${auditKey}_rebuild`), null);
    } finally {
      await restarted.stop();
      await store.close();
    }
  });

  it('refuses an unknown projection, and any before the runner is started', async () => {
    const runner = new ProjectionRunner({ store: memoryStore(), views: new MemoryViewStore(), projections: defaultProjections, logger: silent });
    assert.throws(() => runner.replay('nope'), new RegExp(`no projection named nope; known: ${defaultProjections.map((p) => p.name).join(', ')}`));
    await assert.rejects(runner.replay('users'), /start the projection runner/);
  });
});
