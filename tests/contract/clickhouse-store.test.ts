/**
 * What the ClickHouse view store adds to the ViewStore contract, on both real engines: no
 * transactions, yet a crash between rows and checkpoint shows nothing half-written, merges keep
 * the same copy of a replayed row as queries do, versions win over a clock that went back, and
 * abandoned generations are deleted. On the server: an outage gives a clear, retriable error
 * and the same store works again once the server is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import { ClickHouseUnavailable, int64, openClickHouse, type ClickHouse, type ClickHouseTarget } from '../../adapters/views/clickhouse-client.ts';
import { sql, sqlIdentifier } from '../../adapters/views/clickhouse-sql.ts';
import type { ViewRow } from '../../adapters/views/port.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { tempDir, waitUntil } from './support.ts';

type Row = ViewRow & { summary: string };
const row = (position: number, summary = `event ${position}`): Row =>
  ({ eventId: `e-${position}`, position, time: '2024-05-01T10:00:00.000Z', actor: 'alice', stream: 's', type: 'T', summary });

/**
 * The client, with the next insert of rows dying after the rows and before the checkpoint
 * that travels with them (its last line, the row with no event id): as if the process died
 * between two chunks of a large batch.
 */
function dyingBeforeTheCheckpoint(ch: ClickHouse): ClickHouse & { armed: boolean } {
  const wrapped = {
    ...ch,
    armed: true,
    async insertTabSeparated(name: string, columns: readonly [string, ...string[]], body: string, doing: string) {
      if (wrapped.armed && name.endsWith('.view_rows')) {
        wrapped.armed = false;
        const rowsOnly = body.split('\n').filter((line) => line !== '' && line.split('\t')[2] !== '').map((line) => `${line}\n`).join('');
        await ch.insertTabSeparated(name, columns, rowsOnly, doing);
        throw new Error(`the process died before the checkpoint of ${doing}`);
      }
      return ch.insertTabSeparated(name, columns, body, doing);
    },
  };
  return wrapped;
}

function storeSuite(engine: string, target: () => ClickHouseTarget, skip: string | false): void {
  describe(`ClickHouseViewStore on ${engine}`, { skip }, () => {
    let ch: ClickHouse;
    let databases = 0;
    const fresh = () => `msec_store_${++databases}`;
    const count = async (database: string, table: string, where = sql`1`) => {
      const [found] = await ch.select<{ n: string | number }>(
        sql`SELECT count() AS n FROM ${sqlIdentifier(database)}.${sqlIdentifier(table)} WHERE ${where}`, `counting ${table}`);
      return int64(found!.n);
    };

    before(async () => {
      ch = await openClickHouse(target());
    });
    after(() => ch?.close());

    it('shows nothing of a batch whose checkpoint was never stored, and the retry shows it once', async () => {
      const database = fresh();
      const dying = dyingBeforeTheCheckpoint(ch);
      dying.armed = false;
      const store = await ClickHouseViewStore.on(dying, { database });
      await store.appendRows('audit_v1', [row(1), row(2)], 2);
      dying.armed = true;
      await assert.rejects(store.appendRows('audit_v1', [row(3), row(4)], 4), /the process died/);
      assert.equal(await count(database, 'view_rows', sql`event_id != ''`), 4, 'the rows of the failed batch are in the table');
      assert.equal(await store.checkpoint('audit_v1'), 2);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [2, 1]);
      assert.deepEqual((await store.scanRows('audit_v1', 0, 10)).map((r) => r.position), [1, 2]);

      await store.appendRows('audit_v1', [row(3), row(4)], 4); // the runner's retry
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [4, 3, 2, 1]);
      assert.equal(await store.checkpoint('audit_v1'), 4);
    });

    it('keeps in storage, after merges, the copy of a replayed row that queries show: the first written', async () => {
      const database = fresh();
      const store = await ClickHouseViewStore.on(ch, { database });
      await store.appendRows('audit_v1', [row(1, 'first'), row(2)], 2);
      await store.appendRows('audit_v1', [row(1, 'second'), row(2), row(3)], 3);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => (r as Row).summary), ['event 3', 'event 2', 'first']);
      await ch.command(sql`OPTIMIZE TABLE ${sqlIdentifier(database)}.view_rows FINAL`, 'merging view_rows');
      assert.equal(await count(database, 'view_rows', sql`event_id != ''`), 3);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => (r as Row).summary), ['event 3', 'event 2', 'first']);
    });

    it('writes newer versions than any stored, even ones from a clock ahead of this one', async () => {
      const database = fresh();
      const store = await ClickHouseViewStore.on(ch, { database });
      await store.appendRows('audit_v1', [row(1)], 1);
      await store.saveState('users_v1', { n: 1 }, 1);
      const generationOf = async (key: string) => (await ch.select<{ g: string }>(
        sql`SELECT argMax(generation, version) AS g FROM ${sqlIdentifier(database)}.view_keys WHERE projection_key = ${key}`, 'reading keys'))[0]!.g;
      const future = (Date.now() + 365 * 24 * 3600 * 1000) * 1000; // a year ahead, in microseconds
      await ch.insert(`${database}.view_checkpoints`, [{ generation: await generationOf('audit_v1'), version: future, checkpoint: 5 }], 'planting');
      await ch.insert(`${database}.view_states`, [{ generation: await generationOf('users_v1'), version: future, checkpoint: 5, state: '{"n":5}' }], 'planting');

      const later = await ClickHouseViewStore.on(ch, { database }); // a restarted process, its clock behind
      await later.appendRows('audit_v1', [row(6)], 6);
      await later.saveState('users_v1', { n: 6 }, 6);
      assert.equal(await later.checkpoint('audit_v1'), 6);
      assert.deepEqual(await later.loadState('users_v1'), { state: { n: 6 }, checkpoint: 6 });
    });

    it('deletes the data of a dropped or replaced generation in the background', async () => {
      const database = fresh();
      const store = await ClickHouseViewStore.on(ch, { database });
      await store.appendRows('audit_v1', [row(1), row(2)], 2);
      await store.appendRows('audit_v1_rebuild', [row(1), row(2), row(3)], 3);
      await store.saveState('users_v1', { n: 1 }, 1);
      await store.promote('audit_v1_rebuild', 'audit_v1');
      await store.drop('users_v1');
      await waitUntil('the replaced and dropped generations are deleted',
        async () => (await count(database, 'view_rows', sql`event_id != ''`)) === 3 && (await count(database, 'view_states')) === 0, 30_000);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [3, 2, 1]);
    });

    it('stores rows and their checkpoint in one insert, the checkpoint as a line with no event id', async () => {
      const database = fresh();
      const inserts: string[] = [];
      const counting = { ...ch, insert: (t: string, r: readonly object[], d: string) => (inserts.push(t), ch.insert(t, r, d)),
        insertTabSeparated: (t: string, c: readonly [string, ...string[]], b: string, d: string) => (inserts.push(t), ch.insertTabSeparated(t, c, b, d)) };
      const store = await ClickHouseViewStore.on(counting, { database });
      await store.appendRows('audit_v1', [row(1)], 1); // creates the key's generation first
      inserts.length = 0;
      await store.appendRows('audit_v1', [row(2), row(3)], 5);
      assert.deepEqual(inserts, [`${database}.view_rows`]);
      assert.equal(await store.checkpoint('audit_v1'), 5);
      await store.appendRows('audit_v1', [], 7);
      assert.equal(await store.checkpoint('audit_v1'), 7);
      assert.deepEqual((await store.scanRows('audit_v1', 0, 10)).map((r) => r.position), [1, 2, 3]);
    });

    it('refuses a row after the checkpoint it is stored with (it would never be visible)', async () => {
      const store = await ClickHouseViewStore.on(ch, { database: fresh() });
      await assert.rejects(store.appendRows('audit_v1', [row(1), row(5)], 4), /row e-5 is at position 5, after the checkpoint 4/);
      assert.equal(await store.checkpoint('audit_v1'), null);
    });
  });
}

const why = clickHouseServerUnavailable();
let server: ClickHouseServer | undefined;
before(async () => {
  if (!why) server = await startClickHouse();
});
after(() => server?.stop());
storeSuite('a ClickHouse 18.16 server', () => ({ url: server!.url }), why ?? false);

const chdbData = tempDir('msec-chdb-store-');
after(() => chdbData.remove());
storeSuite('embedded chdb (ClickHouse 26.x)', () => ({ chdbPath: chdbData.dir }), false);

describe('ClickHouseViewStore when the server goes away', { skip: why ?? false }, () => {
  it('fails with a retriable error that names the server and what to do, then works again once it is back', async () => {
    const store = await ClickHouseViewStore.open({ url: server!.url }, { database: 'msec_outage' });
    try {
      await store.appendRows('audit_v1', [row(1)], 1);
      await server!.halt();
      const down = await store.appendRows('audit_v1', [row(2)], 2).then(() => null, (err: unknown) => err);
      assert.ok(down instanceof ClickHouseUnavailable, `expected ClickHouseUnavailable, got ${String(down)}`);
      assert.match(down.message, new RegExp(`ClickHouse at ${server!.url} is not answering \\([^)]+\\) while .*audit_v1.*: start the server`));
      await assert.rejects(store.queryRows('audit_v1'), ClickHouseUnavailable);

      await server!.restart();
      await store.appendRows('audit_v1', [row(2)], 2);
      assert.deepEqual((await store.queryRows('audit_v1')).map((r) => r.position), [2, 1]);
      assert.equal(await store.checkpoint('audit_v1'), 2);
    } finally {
      await store.close();
    }
  });
});
