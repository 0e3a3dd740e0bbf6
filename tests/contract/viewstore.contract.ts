import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ViewRow, ViewStore } from '../../adapters/views/port.ts';

/**
 * The ViewStore contract: every implementation (memory, SQLite, ClickHouse server, chdb) passes it.
 * `open` gives a fresh, empty store; `reopen`, when given, opens the same storage again
 * (after `close`) to show that what was written survives.
 */
export interface ViewStoreFixture {
  open(): Promise<ViewStore>;
  reopen?: (closed: ViewStore) => Promise<ViewStore>;
}

/** Rows carry more than the port knows of; `bad` cannot be serialised. */
type TestRow = ViewRow & { summary?: string; bad?: bigint };
const summaries = (rows: ViewRow[]) => (rows as TestRow[]).map((r) => r.summary);

const row = (position: number, over: Partial<TestRow> = {}): TestRow => ({
  eventId: `e-${position}`,
  position,
  time: `2024-05-0${1 + (position % 3)}T10:00:00.000Z`,
  actor: position % 2 ? 'admin' : 'alice',
  stream: position <= 3 ? 'service-Flight.mod_flight' : 'user-alice',
  type: position <= 3 ? 'HostAdded' : 'UserCreated',
  summary: `event ${position}`,
  ...over,
});

export function viewStoreContract(name: string, fixture: ViewStoreFixture): void {
  describe(`ViewStore contract: ${name}`, () => {
    const withStore = (test: (store: ViewStore) => Promise<void>) => async () => {
      const store = await fixture.open();
      try {
        await test(store);
      } finally {
        await store.close();
      }
    };

    it('knows nothing of a key never written', withStore(async (store) => {
      assert.equal(await store.loadState('catalog_v1'), null);
      assert.equal(await store.checkpoint('catalog_v1'), null);
      assert.deepEqual(await store.queryRows('audit_v1'), []);
      assert.deepEqual(await store.scanRows('audit_v1', 0, 10), []);
    }));

    it('saves a state with its checkpoint and replaces both on the next save', withStore(async (store) => {
      await store.saveState('catalog_v1', { services: { a: [1, 2] }, note: 'ü ✓' }, 7);
      assert.deepEqual(await store.loadState('catalog_v1'), { state: { services: { a: [1, 2] }, note: 'ü ✓' }, checkpoint: 7 });
      await store.saveState('catalog_v1', { services: {} }, 9);
      assert.deepEqual(await store.loadState('catalog_v1'), { state: { services: {} }, checkpoint: 9 });
      assert.equal(await store.checkpoint('catalog_v1'), 9);
    }));

    it('hands out copies: changing a loaded state changes nothing stored', withStore(async (store) => {
      const saved = { list: [1] };
      await store.saveState('k_v1', saved, 1);
      saved.list.push(2);
      const loaded = await store.loadState<{ list: number[] }>('k_v1');
      loaded!.state.list.push(3);
      assert.deepEqual((await store.loadState('k_v1'))!.state, { list: [1] });
    }));

    it('appends rows with the checkpoint, ignoring an event id already stored', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1), row(2)], 2);
      await store.appendRows('audit_v1', [row(2, { summary: 'redelivered' }), row(3)], 3);
      assert.equal(await store.checkpoint('audit_v1'), 3);
      const rows = await store.queryRows('audit_v1');
      assert.deepEqual(rows.map((r) => r.position), [3, 2, 1]);
      assert.equal(summaries(rows)[1], 'event 2');
      assert.deepEqual(rows[0], row(3));
    }));

    it('shows a replayed batch once: same rows and checkpoint written again', withStore(async (store) => {
      const batch = [row(1), row(2), row(3)];
      await store.appendRows('audit_v1', batch, 3);
      await store.appendRows('audit_v1', batch, 3);
      await store.appendRows('audit_v1', batch.slice(1), 3);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [3, 2, 1]);
      assert.deepEqual((await store.scanRows('audit_v1', 0, 10)).map((r) => r.position), [1, 2, 3]);
      assert.equal(await store.checkpoint('audit_v1'), 3);
    }));

    it('keeps any text exactly: quotes, backslashes, control characters, emoji in keys, rows and filters', withStore(async (store) => {
      const odd = "it's \\'; DROP TABLE x; -- \u0000\u0001\n\t\r \u00e9\u4e2d\ud83d\ude80 \\x27 ' OR '1'='1";
      const key = `audit_v1${odd.length}`;
      await store.appendRows(key, [row(1, { actor: odd, stream: `s-${odd}`, summary: odd }), row(2)], 2);
      await store.saveState(key, { text: odd, [odd]: [odd] }, 2);
      const [found] = await store.queryRows(key, { actor: odd, stream: `s-${odd}` });
      assert.equal((found as TestRow).summary, odd);
      assert.equal(found!.actor, odd);
      assert.deepEqual((await store.queryRows(key, { actor: "' OR '1'='1" })), []);
      assert.deepEqual(await store.loadState(key), { state: { text: odd, [odd]: [odd] }, checkpoint: 2 });
    }));

    it('moves the checkpoint even for a batch without rows', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1)], 1);
      await store.appendRows('audit_v1', [], 5);
      assert.equal(await store.checkpoint('audit_v1'), 5);
    }));

    it('writes nothing, checkpoint included, when a row of the batch cannot be stored', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1)], 1);
      await assert.rejects(store.appendRows('audit_v1', [row(2), row(3, { bad: 10n })], 3));
      assert.equal(await store.checkpoint('audit_v1'), 1);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [1]);
    }));

    it('filters rows by stream, actor, type, time and position, newest first', withStore(async (store) => {
      await store.appendRows('audit_v1', [1, 2, 3, 4, 5, 6].map((p) => row(p)), 6);
      const positions = async (filter: Parameters<ViewStore['queryRows']>[1]) =>
        (await store.queryRows('audit_v1', filter)).map((r) => r.position);
      assert.deepEqual(await positions({ stream: 'service-Flight.mod_flight' }), [3, 2, 1]);
      assert.deepEqual(await positions({ actor: 'alice' }), [6, 4, 2]);
      assert.deepEqual(await positions({ type: 'UserCreated', actor: 'admin' }), [5]);
      // times: 1,4 → May 2; 2,5 → May 3; 3,6 → May 1
      assert.deepEqual(await positions({ since: '2024-05-02' }), [5, 4, 2, 1]);
      assert.deepEqual(await positions({ until: '2024-05-02T10:00:00Z' }), [6, 3]);
      assert.deepEqual(await positions({ since: '2024-05-02T10:00:00.000Z', until: '2024-05-03' }), [4, 1]);
      assert.deepEqual(await positions({ before: 4 }), [3, 2, 1]);
      assert.deepEqual(await positions({ before: 6, limit: 2 }), [5, 4]);
      assert.deepEqual(await positions({ stream: 'nothing-here' }), []);
    }));

    it('limits rows to 100 by default and at most 1000', withStore(async (store) => {
      const rows = Array.from({ length: 1005 }, (_, i) => row(i + 1, { eventId: `id-${i + 1}` }));
      await store.appendRows('audit_v1', rows, 1005);
      assert.equal((await store.queryRows('audit_v1')).length, 100);
      assert.equal((await store.queryRows('audit_v1', { limit: 5000 })).length, 1000);
      assert.equal((await store.queryRows('audit_v1', { limit: 0 }))[0]!.position, 1005);
    }));

    it('refuses an instant that does not parse', withStore(async (store) => {
      await assert.rejects(store.queryRows('audit_v1', { since: 'yesterday' }), RangeError);
    }));

    it('scans rows oldest first after a position', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(3), row(1), row(2), row(4)], 4);
      assert.deepEqual((await store.scanRows('audit_v1', 1, 2)).map((r) => r.position), [2, 3]);
      assert.deepEqual((await store.scanRows('audit_v1', 0, 100)).map((r) => r.position), [1, 2, 3, 4]);
    }));

    it('keeps projection keys apart', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1)], 1);
      await store.appendRows('audit_v1_rebuild', [row(1), row(2)], 2);
      await store.saveState('users_v1', { n: 1 }, 1);
      assert.equal((await store.queryRows('audit_v1')).length, 1);
      assert.equal((await store.queryRows('audit_v1_rebuild')).length, 2);
      assert.equal(await store.loadState('users_v2'), null);
    }));

    it('promotes a rebuilt copy: the target takes its content and checkpoint, the copy is gone', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1, { summary: 'old' }), row(9)], 9);
      await store.appendRows('audit_v1_rebuild', [row(1), row(2)], 10);
      await store.promote('audit_v1_rebuild', 'audit_v1');
      const promoted = await store.queryRows('audit_v1');
      assert.deepEqual(promoted.map((r) => r.position), [2, 1]);
      assert.deepEqual(summaries(promoted), ['event 2', 'event 1']);
      assert.equal(await store.checkpoint('audit_v1'), 10);
      assert.equal(await store.checkpoint('audit_v1_rebuild'), null);
      assert.deepEqual(await store.queryRows('audit_v1_rebuild'), []);

      await store.saveState('routing_v1', { old: true }, 3);
      await store.saveState('routing_v1_rebuild', { old: false }, 4);
      await store.promote('routing_v1_rebuild', 'routing_v1');
      assert.deepEqual(await store.loadState('routing_v1'), { state: { old: false }, checkpoint: 4 });
      assert.equal(await store.loadState('routing_v1_rebuild'), null);
    }));

    it('promotes a key never written: the target is emptied', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1)], 1);
      await store.promote('audit_v1_rebuild', 'audit_v1');
      assert.equal(await store.checkpoint('audit_v1'), null);
      assert.deepEqual(await store.queryRows('audit_v1'), []);
      await store.promote('audit_v1', 'audit_v1');
      assert.equal(await store.checkpoint('audit_v1'), null);
    }));

    it('writes a key again after it was dropped or promoted away, starting empty', withStore(async (store) => {
      await store.appendRows('audit_v1_rebuild', [row(1), row(2)], 2);
      await store.drop('audit_v1_rebuild');
      await store.appendRows('audit_v1_rebuild', [row(3)], 3);
      assert.deepEqual((await store.queryRows('audit_v1_rebuild')).map((r) => r.position), [3]);
      await store.promote('audit_v1_rebuild', 'audit_v1');
      await store.appendRows('audit_v1_rebuild', [row(4)], 4);
      assert.deepEqual((await store.queryRows('audit_v1_rebuild')).map((r) => r.position), [4]);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [3]);
      await store.appendRows('audit_v1', [row(5)], 5);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [5, 3]);
      assert.equal(await store.checkpoint('audit_v1'), 5);
    }));

    it('drops a key entirely', withStore(async (store) => {
      await store.appendRows('audit_v1', [row(1)], 1);
      await store.saveState('audit_v1', { x: 1 }, 1);
      await store.saveState('users_v1', { x: 2 }, 2);
      await store.drop('audit_v1');
      assert.equal(await store.checkpoint('audit_v1'), null);
      assert.equal(await store.loadState('audit_v1'), null);
      assert.deepEqual(await store.queryRows('audit_v1'), []);
      assert.equal(await store.checkpoint('users_v1'), 2);
    }));

    if (fixture.reopen) {
      const reopen = fixture.reopen;
      it('keeps states, rows and checkpoints across a reopen', async () => {
        const first = await fixture.open();
        await first.saveState('catalog_v1', { a: 1 }, 4);
        await first.appendRows('audit_v1', [row(1), row(2)], 2);
        await first.close();
        const second = await reopen(first);
        try {
          assert.deepEqual(await second.loadState('catalog_v1'), { state: { a: 1 }, checkpoint: 4 });
          assert.deepEqual((await second.queryRows('audit_v1')).map((r) => r.position), [2, 1]);
          assert.equal(await second.checkpoint('audit_v1'), 2);
        } finally {
          await second.close();
        }
      });
    }
  });
}
