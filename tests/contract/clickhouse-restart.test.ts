/**
 * Fault test: the audit projection writes to a real ClickHouse 18.16 server through the
 * ProjectionRunner while events keep coming; the server is killed mid-stream, more events are
 * appended while it is down, then it comes back on the same data. The projection must retry
 * and converge: one row per event (none twice, none missing), checkpoint at the head.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryEventStore } from '../../adapters/eventstore/memory.ts';
import { ClickHouseViewStore } from '../../adapters/views/clickhouse.ts';
import { int64, openClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { sql } from '../../adapters/views/clickhouse-sql.ts';
import { ProjectionRunner } from '../../apps/projector/runner.ts';
import { auditProjection, auditRowsOf } from '../../projections/audit.ts';
import { append, history, readEverything, silent } from '../unit/projector/fixtures.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { waitUntil } from './support.ts';

const why = clickHouseServerUnavailable();

describe('audit projection into ClickHouse across a server crash', { skip: why ?? false }, () => {
  let server: ClickHouseServer;
  before(async () => {
    server = await startClickHouse();
  });
  after(() => server?.stop());

  it('retries while the server is down and converges once it is back: every event once, checkpoint at the head', async (t) => {
    const database = 'msec_restart';
    const store = new MemoryEventStore({ logger: silent, pollIntervalMs: 5, batchSize: 7, retryDelays: { initialMs: 10, maxMs: 100 } });
    const views = await ClickHouseViewStore.open({ url: server.url }, { database });
    const runner = new ProjectionRunner({ store, views, projections: [auditProjection], logger: silent });
    const auditStatus = () => runner.status().find((s) => s.name === 'audit')!;
    let round = 0;
    const appendRounds = async (rounds: number) => {
      let head = 0;
      for (let i = 0; i < rounds; i++) head = await append(store, history(round++));
      return head;
    };
    await runner.start();
    try {
      const before = await appendRounds(5);
      assert.equal(await runner.waitFor(before, 30_000), true, 'the projection follows while the server is up');

      // Kill the server while a stream of appends is being projected.
      const streaming = appendRounds(10);
      await waitUntil('the projection is mid-stream', () => auditStatus().checkpoint > before, 10_000);
      await server.halt();
      const whileDown = await streaming.then(() => appendRounds(5));
      await waitUntil('the projection reports the outage', () => auditStatus().error !== undefined, 10_000);
      const stuckAt = auditStatus().checkpoint;
      const outage = auditStatus().error!;
      assert.ok(stuckAt < whileDown, 'events appended during the outage are not projected');
      assert.match(outage, /is not answering .* start the server/);

      await server.restart();
      const head = await appendRounds(3);
      assert.equal(await runner.waitFor(head, 60_000), true, `the projection converges after the restart (status: ${JSON.stringify(auditStatus())})`);
      assert.equal(auditStatus().error, undefined);

      const events = await readEverything(store);
      const rows = await runner.queryRows('audit', { limit: 1000 });
      assert.equal(events.length, head);
      assert.ok(head <= 1000, 'the test reads every row in one query');
      assert.deepEqual(rows, auditRowsOf(events).reverse(), 'one row per event, newest first, nothing twice or missing');
      assert.equal(await views.checkpoint(`audit_v${auditProjection.version}`), head);

      const ch = await openClickHouse({ url: server.url });
      try {
        const [stored] = await ch.select<{ rows: string; events: string }>(
          sql`SELECT count() AS rows, uniqExact(event_id) AS events FROM msec_restart.view_rows WHERE event_id != ''`, 'counting stored rows');
        t.diagnostic(`events ${head}; projected before the crash ${before}, at the crash ${stuckAt}, appended while down ${whileDown - stuckAt}; `
          + `visible rows ${rows.length}; stored rows ${int64(stored!.rows)} for ${int64(stored!.events)} event ids `
          + `(a row written twice around the crash is stored twice until merged, shown once); outage seen as: ${outage.slice(0, 120)}`);
        assert.equal(int64(stored!.events), head);
      } finally {
        await ch.close();
      }
    } finally {
      await runner.stop();
      await views.close();
      await store.close();
    }
  });
});
