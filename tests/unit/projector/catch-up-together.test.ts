import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryViewStore } from '../../../adapters/views/memory.ts';
import type { ViewRow } from '../../../adapters/views/port.ts';
import { ProjectionRunner } from '../../../apps/projector/runner.ts';
import { auditRowsOf } from '../../../projections/audit.ts';
import { catalogProjection } from '../../../projections/catalog.ts';
import { defaultProjections } from '../../../projections/index.ts';
import * as e from '../projections/events.ts';
import { append, history, memoryStore, readEverything, silent, until } from './fixtures.ts';

/** The log read once for every projection at start, and what happens when one of them fails. */
describe('ProjectionRunner: catching up together', () => {
  it('reads each page of the log once for all projections', async () => {
    const store = memoryStore();
    const head = await append(store, [...history(0), ...history(1), ...history(2)]);
    let pagesRead = 0;
    const counting = Object.assign(Object.create(store) as typeof store, {
      readAll: (after: number, limit: number) => {
        pagesRead += 1;
        return store.readAll(after, limit);
      },
    });
    const runner = new ProjectionRunner({ store: counting, views: new MemoryViewStore(), projections: defaultProjections, logger: silent, catchUpPageSize: 10 });
    await runner.start();
    try {
      assert.equal(await runner.waitFor(head, 2000), true);
      // Every page once, plus the empty one that says the head was reached.
      assert.equal(pagesRead, Math.ceil(head / 10) + 1);
      assert.deepEqual(runner.state('catalog'), e.foldState(catalogProjection, await readEverything(store)));
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('lets the others reach the head while one view store fails; that one follows alone once it works', async () => {
    const store = memoryStore();
    const head = await append(store, [...history(0), ...history(1)]);
    const views = new MemoryViewStore();
    let failing = true;
    const flaky = Object.assign(Object.create(views) as MemoryViewStore, {
      appendRows: (key: string, rows: readonly ViewRow[], checkpoint: number) =>
        (failing ? Promise.reject(new Error('disk full')) : views.appendRows(key, rows, checkpoint)),
    });
    const runner = new ProjectionRunner({ store, views: flaky, projections: defaultProjections, logger: silent, catchUpPageSize: 5 });
    await runner.start();
    try {
      const checkpoint = (name: string) => runner.status().find((s) => s.name === name)!.checkpoint;
      await until(() => checkpoint('catalog') === head && checkpoint('routing') === head);
      assert.equal(checkpoint('audit'), 0);
      assert.equal(runner.status().find((s) => s.name === 'audit')!.error, 'disk full');

      failing = false;
      assert.equal(await runner.waitFor(head, 2000), true);
      const later = await append(store, [e.hostEnabled('Flight.mod_flight', '10.0.1.2:7963')]);
      assert.equal(await runner.waitFor(later, 2000), true);
      assert.deepEqual(await runner.queryRows('audit', { limit: 1000 }), auditRowsOf(await readEverything(store)).reverse());
    } finally {
      await runner.stop();
      await store.close();
    }
  });
});
