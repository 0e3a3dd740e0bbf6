/**
 * Writes checked metrics into the per-minute views (clickhouse-migrations/010_metrics.sql) so
 * that a report counts once however often the bus delivers it. ClickHouse has no transactions,
 * so each table gets its own receipts: the rows of one UTC day and the receipts of the reports
 * they came from go in one INSERT, which lands as one part (all or nothing); before inserting,
 * the receipts already in the table say which reports to skip. A crash between the two tables,
 * or after both and before the bus offset moved, is therefore harmless: the redelivered batch
 * finds its receipts. One writer per table at a time (one projector per deployment) is assumed.
 *
 * Adds with the same key in one batch are summed before the insert (the engine would sum them
 * anyway); Sets keep one row each.
 */
import type { ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { joinSql, sql, sqlIdentifier, type SqlFragment } from '../../adapters/views/clickhouse-sql.ts';
import type { MetricItem } from './metric-report-checks.ts';

export const metricTables = {
  service: 'metrics_service_minute',
  ip: 'metrics_ip_minute',
} as const;

export const kinds = { add: 0, set: 1, receipt: 2 } as const;

/** Rows per INSERT request: one block (one part per day), below every server's block limit. */
const maxRowsPerInsert = 200_000;
/** Report ids per receipt lookup (the SQL text stays well under 18.16's 256 KiB limit). */
const idsPerLookup = 2_000;

export interface MetricsStoreStats {
  /** Reports skipped because their receipt was there (redeliveries), per table. */
  redelivered: number;
  rows: number;
  inserts: number;
}

interface Row {
  service: string;
  ip?: string;
  name: string;
  minute: number;
  kind: number;
  at: number;
  origin: number;
  value: number;
}

export class MetricsStore {
  readonly stats: MetricsStoreStats = { redelivered: 0, rows: 0, inserts: 0 };

  constructor(private readonly ch: ClickHouse, private readonly database: string) {}

  table(which: keyof typeof metricTables): SqlFragment {
    return sql`${sqlIdentifier(this.database)}.${sqlIdentifier(metricTables[which])}`;
  }

  /** Stores the items of one batch (in report order); idempotent per report. */
  async store(items: readonly MetricItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.storeIn('service', items);
    await this.storeIn('ip', items.filter((i) => i.ip !== ''));
  }

  private async storeIn(which: keyof typeof metricTables, items: readonly MetricItem[]): Promise<void> {
    if (items.length === 0) return;
    const stored = await this.receipts(which, [...new Set(items.map((i) => i.report))]);
    const byDay = new Map<number, MetricItem[]>();
    const skipped = new Set<string>();
    for (const item of items) {
      const day = Math.floor(item.minute / 86_400);
      if (stored.has(`${item.report}\u0000${day}`)) {
        skipped.add(`${item.report}\u0000${day}`);
        continue;
      }
      const list = byDay.get(day);
      if (list) list.push(item);
      else byDay.set(day, [item]);
    }
    this.stats.redelivered += skipped.size;
    for (const [day, dayItems] of byDay) {
      for (const chunk of reportChunks(dayItems)) await this.insertDay(which, day, chunk);
    }
  }

  private async insertDay(which: keyof typeof metricTables, day: number, items: readonly MetricItem[]): Promise<void> {
    const rows: Row[] = [];
    const adds = new Map<string, Row>();
    const reports = new Set<string>();
    const perIp = which === 'ip';
    for (const item of items) {
      reports.add(item.report);
      if (item.kind === 'add') {
        const ip = perIp ? item.ip : '';
        const key = `${item.service}\u0000${ip}\u0000${item.name}\u0000${item.minute}`;
        const known = adds.get(key);
        if (known) known.value += item.value;
        else {
          const row: Row = { service: item.service, ...(perIp ? { ip } : { ip: '' }), name: item.name, minute: item.minute, kind: kinds.add, at: 0, origin: 0, value: item.value };
          adds.set(key, row);
          rows.push(row);
        }
      } else {
        rows.push({ service: item.service, ip: item.ip, name: item.name, minute: item.minute, kind: kinds.set, at: item.at, origin: originOf(item.report), value: item.value });
      }
    }
    for (const report of reports) rows.push({ service: '', ip: '', name: report, minute: day * 86_400, kind: kinds.receipt, at: 0, origin: 0, value: 1 });
    await this.ch.insert(this.table(which).text, rows, `storing ${rows.length} metric rows of ${reports.size} reports in ${metricTables[which]}`);
    this.stats.rows += rows.length;
    this.stats.inserts++;
  }

  /** `report\0day` of the receipts a table holds among `reports`. */
  private async receipts(which: keyof typeof metricTables, reports: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < reports.length; i += idsPerLookup) {
      const ids = reports.slice(i, i + idsPerLookup);
      const rows = await this.ch.select<{ report: string; day: number | string }>(
        sql`SELECT name AS report, intDiv(minute, 86400) AS day FROM ${this.table(which)} WHERE service = '' AND name IN (${joinSql(ids.map((id) => sql`${id}`), ', ')}) AND kind = ${kinds.receipt}`,
        `looking up which of ${ids.length} metric reports ${metricTables[which]} holds already`);
      for (const r of rows) found.add(`${r.report}\u0000${Number(r.day)}`);
    }
    return found;
  }
}

/** Splits one day's items into inserts of at most maxRowsPerInsert items, never splitting a report. */
function* reportChunks(items: readonly MetricItem[]): Generator<MetricItem[]> {
  let chunk: MetricItem[] = [];
  for (let i = 0; i < items.length;) {
    let j = i;
    while (j < items.length && items[j]!.report === items[i]!.report) j++;
    if (chunk.length > 0 && chunk.length + (j - i) > maxRowsPerInsert) {
      yield chunk;
      chunk = [];
    }
    for (let k = i; k < j; k++) chunk.push(items[k]!);
    i = j;
  }
  if (chunk.length > 0) yield chunk;
}

/** A small stable hash of a report key, so two Sets of one ip in the same millisecond stay two rows. */
function originOf(report: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < report.length; i++) {
    h ^= report.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
