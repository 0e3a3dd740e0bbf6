/**
 * Retention of the metric views: whole UTC days (partitions) older than the retention are
 * dropped, which is instant in ClickHouse (no mutation), and works the same on 18.16 and chdb.
 */
import type { ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { sql, sqlIdentifier } from '../../adapters/views/clickhouse-sql.ts';
import { metricTables } from './metrics-store.ts';

/** The first UTC day number (days since 1970) that is kept. */
export function firstKeptDay(nowMs: number, retentionDays: number): number {
  return Math.floor(nowMs / 86_400_000) - retentionDays + 1;
}

/** Drops the expired day partitions of both metric tables; answers the days dropped. */
export async function dropExpiredDays(ch: ClickHouse, database: string, nowMs: number, retentionDays: number): Promise<number[]> {
  const keep = firstKeptDay(nowMs, retentionDays);
  const db = sqlIdentifier(database);
  const dropped = new Set<number>();
  for (const table of Object.values(metricTables)) {
    const parts = await ch.select<{ partition: string }>(
      sql`SELECT DISTINCT partition FROM system.parts WHERE database = ${database} AND table = ${table} AND active`,
      `listing the days of ${table}`);
    for (const { partition } of parts) {
      const day = Number(partition);
      if (!Number.isSafeInteger(day) || day >= keep) continue;
      await ch.command(sql`ALTER TABLE ${db}.${sqlIdentifier(table)} DROP PARTITION ${day}`, `dropping day ${day} of ${table} (retention ${retentionDays} days)`);
      dropped.add(day);
    }
  }
  return [...dropped].sort((a, b) => a - b);
}
