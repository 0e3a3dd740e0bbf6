/**
 * ClickHouse insert throughput, for bench/run.ts:
 *   rawInsertRate     rows/s of plain inserts of audit-like rows into the views table, by
 *                     default as ClickHouse recommends: 100 000 rows per INSERT in a compact
 *                     format (TabSeparated). The baseline: what the engine and the client can take
 *   storeAppendRate   rows/s through ClickHouseViewStore.appendRows in batches, as the audit
 *                     projection writes (key lookup, rows, checkpoint per batch)
 * Both take a target (`{ url }` for a server, `{ chdbPath }` for the embedded engine) and work
 * in a scratch database they drop afterwards. Run alone (`node --import tsx bench/clickhouse.ts`)
 * it starts a test ClickHouse 18.16 server and a chdb and prints both figures for each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClickHouseViewStore } from '../adapters/views/clickhouse.ts';
import { openClickHouse, type ClickHouse, type ClickHouseTarget } from '../adapters/views/clickhouse-client.ts';
import { migrate } from '../adapters/views/clickhouse-migrate.ts';
import { sql, sqlIdentifier, tsvField } from '../adapters/views/clickhouse-sql.ts';
import type { ViewRow } from '../adapters/views/port.ts';

const benchDatabase = 'msec_bench';

/** An audit row as the projection makes it (about 300 bytes of JSON). */
export function auditLikeRow(position: number): ViewRow & { reason: string; revision: number; summary: string } {
  const service = `Bench.svc${position % 1000}`;
  return {
    eventId: `01900000-0000-7000-8000-${String(position).padStart(12, '0')}`,
    position,
    time: new Date(Date.UTC(2024, 4, 1) + position * 1000).toISOString(),
    actor: position % 7 ? 'admin' : 'alice',
    reason: position % 5 ? '' : 'scale out for the evening peak',
    stream: `service-${service}`,
    type: 'HostAdded',
    revision: Math.floor(position / 1000),
    summary: `host 10.0.${(position >> 8) & 255}.${position & 255}:7963 added to ${service} (tcp, weight 100, disabled)`,
  };
}

export interface RawInsertOptions {
  /** Rows per INSERT (default 100 000, ClickHouse's advice: large batches). */
  batchSize?: number;
  /** Default TabSeparated (compact; the engine parses it 2–3× faster than JSONEachRow). */
  format?: 'TabSeparated' | 'JSONEachRow';
}

/** Raw inserts of `rows` audit-like rows; rows/s. Building the request bodies is not timed. */
export async function rawInsertRate(target: ClickHouseTarget, rows: number, options: RawInsertOptions = {}): Promise<number> {
  const { batchSize = 100_000, format = 'TabSeparated' } = options;
  return withScratch(target, async (ch) => {
    const records = Array.from({ length: rows }, (_, i) => {
      const row = auditLikeRow(i + 1);
      return {
        generation: 'bench', position: row.position, event_id: row.eventId, time: row.time,
        actor: row.actor, stream: row.stream, type: row.type, row: JSON.stringify(row), precedence: 1,
      };
    });
    const columns = ['generation', 'position', 'event_id', 'time', 'actor', 'stream', 'type', 'row', 'precedence'] as const;
    const bodies: string[] = [];
    for (let i = 0; format === 'TabSeparated' && i < records.length; i += batchSize) {
      bodies.push(records.slice(i, i + batchSize).map((r) => `${columns.map((c) => tsvField(String(r[c]))).join('\t')}\n`).join(''));
    }
    const started = performance.now();
    for (let i = 0, n = 0; i < records.length; i += batchSize, n++) {
      if (format === 'TabSeparated') await ch.insertTabSeparated(`${benchDatabase}.view_rows`, columns, bodies[n]!, 'inserting bench rows');
      else await ch.insert(`${benchDatabase}.view_rows`, records.slice(i, i + batchSize), 'inserting bench rows');
    }
    const seconds = (performance.now() - started) / 1000;
    await expectRows(ch, rows);
    return rows / seconds;
  });
}

/** ClickHouseViewStore.appendRows of `rows` audit rows in batches of `batchSize` (the runner's page); rows/s. */
export async function storeAppendRate(target: ClickHouseTarget, rows: number, batchSize = 500): Promise<number> {
  return withScratch(target, async (ch) => {
    const store = await ClickHouseViewStore.on(ch, { database: benchDatabase });
    const all = Array.from({ length: rows }, (_, i) => auditLikeRow(i + 1));
    const started = performance.now();
    for (let i = 0; i < all.length; i += batchSize) {
      const batch = all.slice(i, i + batchSize);
      await store.appendRows('audit_v1', batch, batch[batch.length - 1]!.position);
    }
    const seconds = (performance.now() - started) / 1000;
    await expectRows(ch, rows);
    return rows / seconds;
  });
}

async function withScratch<T>(target: ClickHouseTarget, run: (ch: ClickHouse) => Promise<T>): Promise<T> {
  const ch = await openClickHouse(target);
  const db = sqlIdentifier(benchDatabase);
  try {
    await ch.command(sql`DROP DATABASE IF EXISTS ${db}`, 'clearing the bench database');
    await migrate(ch, benchDatabase);
    return await run(ch);
  } finally {
    await ch.command(sql`DROP DATABASE IF EXISTS ${db}`, 'dropping the bench database').catch(() => undefined);
    await ch.close();
  }
}

async function expectRows(ch: ClickHouse, rows: number): Promise<void> {
  const [found] = await ch.select<{ n: string | number }>(sql`SELECT count() AS n FROM ${sqlIdentifier(benchDatabase)}.view_rows`, 'counting bench rows');
  if (Number(found!.n) !== rows) throw new Error(`the bench inserted ${rows} rows but ${found!.n} are stored`);
}

async function main(): Promise<void> {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const rows = Number(process.env.MSEC_BENCH_CH_ROWS ?? 100_000);
  const { startClickHouse, clickHouseServerUnavailable } = await import('../tests/services/clickhouse.ts');
  const why = clickHouseServerUnavailable();
  if (why) {
    console.log(`ClickHouse server: skipped (${why})`);
  } else {
    const server = await startClickHouse();
    try {
      console.log(`ClickHouse 18.16 server  raw TabSeparated, 100 000 rows/insert ${fmt(await rawInsertRate({ url: server.url }, rows))} rows/s   `
        + `ClickHouseViewStore.appendRows ${fmt(await storeAppendRate({ url: server.url }, rows / 4))} rows/s`);
    } finally {
      await server.stop();
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-chdb-'));
  try {
    console.log(`chdb (ClickHouse 26.x)   raw TabSeparated, 100 000 rows/insert ${fmt(await rawInsertRate({ chdbPath: dir }, rows))} rows/s   `
      + `ClickHouseViewStore.appendRows ${fmt(await storeAppendRate({ chdbPath: dir }, rows / 4))} rows/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
