import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { auditRowsOf } from '../../../projections/audit.ts';
import { catalogProjection } from '../../../projections/catalog.ts';
import { defaultProjections } from '../../../projections/index.ts';
import { routingProjection } from '../../../projections/routing.ts';
import { findUser, usersProjection, type UsersState } from '../../../projections/users.ts';
import * as e from '../projections/events.ts';
import { append, DyingViewStore, history, memoryStore, readEverything, silent, until } from './fixtures.ts';

/**
 * Restart safety: the process dies after any number of view writes (the store keeps what was
 * written before), a new runner resumes from the stored checkpoints, and the read models end
 * up exactly as after an uninterrupted run: nothing lost, no audit row twice.
 */
describe('ProjectionRunner after a crash', () => {
  it('resumes to the same read models whatever write it died at', async () => {
    const store = memoryStore();
    const head = await append(store, [...history(0), ...history(1), ...history(2)]);
    const events = await readEverything(store);
    const wanted = {
      catalog: e.foldState(catalogProjection, events),
      routing: e.foldState(routingProjection, events),
      users: e.foldState(usersProjection, events),
      audit: auditRowsOf(events).reverse(),
    };

    let writesOfAFullRun = Infinity;
    for (let diesAfter = 0; diesAfter <= writesOfAFullRun; diesAfter++) {
      const views = new MemoryViewStore();
      const dying = new DyingViewStore(views, diesAfter);
      // Small pages and a snapshot after every batch: as many points to die at as there can be.
      const first = new ProjectionRunner({ store, views: dying, projections: defaultProjections, logger: silent, snapshotIntervalMs: 0, catchUpPageSize: 7 });
      await first.start();
      const finished = await Promise.race([first.waitFor(head, 3000), dying.died.then(() => false)]);
      await first.stop();
      if (finished && !dying.dead) writesOfAFullRun = dying.writes;

      const second = new ProjectionRunner({ store, views, projections: defaultProjections, logger: silent });
      await second.start();
      try {
        assert.equal(await second.waitFor(head, 3000), true, `resumed after dying at write ${diesAfter}`);
        assert.deepEqual(second.state('catalog'), wanted.catalog, `catalog after dying at write ${diesAfter}`);
        assert.deepEqual(second.state('routing'), wanted.routing, `routing after dying at write ${diesAfter}`);
        assert.deepEqual(second.state('users'), wanted.users, `users after dying at write ${diesAfter}`);
        assert.deepEqual(await second.queryRows('audit', { limit: 1000 }), wanted.audit, `audit after dying at write ${diesAfter}`);
      } finally {
        await second.stop();
      }
    }
    assert.ok(writesOfAFullRun > 4 && writesOfAFullRun < Infinity, `a full run wrote ${writesOfAFullRun} times`);
    await store.close();
  });

  it('reports a failing snapshot in the status, keeps serving, and stores it once the store works again', async () => {
    const store = memoryStore();
    const views = new MemoryViewStore();
    let failures = 3;
    const flaky = Object.assign(Object.create(views) as MemoryViewStore, {
      saveState: (key: string, state: unknown, checkpoint: number) =>
        (key === 'users_v2' && failures-- > 0 ? Promise.reject(new Error('disk full')) : views.saveState(key, state, checkpoint)),
    });
    const runner = new ProjectionRunner({ store, views: flaky, projections: defaultProjections, logger: silent, snapshotIntervalMs: 5 });
    await runner.start();
    try {
      const head = await append(store, [e.userCreated('alice')]);
      assert.equal(await runner.waitFor(head, 3000), true);
      assert.ok(findUser(runner.state<UsersState>('users'), 'alice'), 'reads do not wait for the snapshot');
      assert.equal(runner.status().find((s) => s.name === 'users')!.error, 'disk full');
      await until(async () => (await views.checkpoint('users_v2')) === head);
      assert.ok(runner.status().every((s) => s.error === undefined && s.checkpoint === head));
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('retries a batch whose rows could not be stored, without reads moving ahead of the rows', async () => {
    const store = memoryStore();
    const views = new MemoryViewStore();
    let failures = 2;
    const flaky = Object.assign(Object.create(views) as MemoryViewStore, {
      appendRows: (key: string, rows: Parameters<MemoryViewStore['appendRows']>[1], checkpoint: number) =>
        (failures-- > 0 ? Promise.reject(new Error('disk full')) : views.appendRows(key, rows, checkpoint)),
    });
    const runner = new ProjectionRunner({ store, views: flaky, projections: defaultProjections, logger: silent });
    await runner.start();
    try {
      const head = await append(store, [e.userCreated('alice')]);
      await until(() => runner.status().some((s) => s.error === 'disk full'));
      assert.equal(runner.status().find((s) => s.name === 'audit')!.checkpoint, 0);
      assert.equal(await runner.waitFor(head, 3000), true);
      assert.equal((await runner.queryRows('audit')).length, 1);
      assert.ok(runner.status().every((s) => s.error === undefined));
    } finally {
      await runner.stop();
      await store.close();
    }
  });
});
