/**
 * Writes checked metrics into the per-minute views (clickhouse-migrations/010_metrics.sql) so
 * that a report counts once however often the bus delivers it. ClickHouse has no transactions,
 * so each table gets its own receipts: the rows of one UTC day and the receipts of the reports
 * they came from go in one INSERT, which lands as one part (all or nothing); before inserting,
 * the receipts already in the table say which reports to skip. A crash between the two tables,
 * or after both and before the bus offset moved, is therefore harmless: the redelivered batch
 * finds its receipts. One writer per table at a time (one projector per deployment) is assumed.
 *
 * Adds with the same key in one batch are summed before the insert in the service table (ten
 * hosts or more a service: far fewer rows); the per-ip table takes them as they come, and the
 * engine sums them. Sets keep one row each. Inserts are cut at report boundaries; the next one
 * is built while the server takes the last.
 */
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describeFailure, type ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { joinSql, sql, sqlIdentifier, type SqlFragment } from '../../adapters/views/clickhouse-sql.ts';
import type { MetricItem } from './metric-report-checks.ts';

export const metricTables = {
  service: 'metrics_service_minute',
  ip: 'metrics_ip_minute',
} as const;

export const kinds = { add: 0, set: 1, receipt: 2 } as const;

/** Items per INSERT request: one block (one part per day), below every server's block limit. */
const maxRowsPerInsert = 60_000;
/** Report ids per receipt lookup (the SQL text stays well under 18.16's 256 KiB limit). */
const idsPerLookup = 2_000;

export interface MetricsStoreStats {
  /** Reports skipped because their receipt was there (redeliveries), per table. */
  redelivered: number;
  rows: number;
  inserts: number;
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
    const days = [...new Set(items.map((i) => Math.floor(i.minute / 86_400)))];
    const stored = await this.receipts([...new Set(items.map((i) => i.report))], days);
    // The tables are independent (each has its own receipts): written side by side. Both are
    // waited for before a failure is reported, so the redelivery that follows never overlaps a
    // write still under way (it would not see that write's receipts and store it twice).
    const outcomes = await Promise.allSettled([
      this.storeIn('service', items, stored.service),
      this.storeIn('ip', items.filter((i) => i.ip !== ''), stored.ip),
    ]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async storeIn(which: keyof typeof metricTables, items: readonly MetricItem[], stored: ReadonlySet<string>): Promise<void> {
    if (items.length === 0) return;
    const byDay = new Map<number, MetricItem[]>();
    const skipped = new Set<string>();
    // A report's items come together: its receipt is looked up once per day it touches.
    let report: string | undefined;
    let day = Number.NaN;
    let skip = false;
    for (const item of items) {
      const itemDay = Math.floor(item.minute / 86_400);
      if (item.report !== report || itemDay !== day) {
        report = item.report;
        day = itemDay;
        skip = stored.has(`${report}\u0000${day}`);
        if (skip) skipped.add(`${report}\u0000${day}`);
      }
      if (skip) continue;
      const list = byDay.get(itemDay);
      if (list) list.push(item);
      else byDay.set(itemDay, [item]);
    }
    this.stats.redelivered += skipped.size;
    // One insert at a time; the next is built once the last one's body is on its way, while the
    // server takes it.
    let sending: Promise<void> | undefined;
    try {
      for (const [d, dayItems] of byDay) {
        for (const chunk of reportChunks(dayItems)) {
          const insert = this.dayInsert(which, d, chunk);
          await sending;
          const sent = this.send(which, insert);
          sending = sent.done;
          await sent.handedOver;
        }
      }
    } finally {
      await sending;
    }
  }

  /**
   * One INSERT in TabSeparated (ClickHouse parses it two to three times faster than JSONEachRow:
   * bench/metrics.ts measures both). Services, ips and report ids were checked to hold no
   * backslash, tab or line break, and names no control character; backslashes in names are
   * escaped, so a field never spans two columns or rows. Adds with the same key are summed here:
   * the key is the line's text up to the value.
   */
  private dayInsert(which: keyof typeof metricTables, day: number, items: readonly MetricItem[]): DayInsert {
    const perIp = which === 'ip';
    const adds = new Map<string, number>();
    const lines: string[] = [];
    const reports = new Set<string>();
    const names = new Map<string, string>();
    for (const item of items) {
      reports.add(item.report);
      let name = names.get(item.name);
      if (name === undefined) names.set(item.name, (name = tsvText(item.name)));
      if (item.kind === 'add') {
        if (perIp) lines.push(`${item.service}\t${item.ip}\t${name}\t${item.minute}\t0\t0\t0\t${item.value}\n`);
        else {
          const key = `${item.service}\t${name}\t${item.minute}\t0\t\t0\t0\t`;
          adds.set(key, (adds.get(key) ?? 0) + item.value);
        }
      } else {
        lines.push(perIp
          ? `${item.service}\t${item.ip}\t${name}\t${item.minute}\t${kinds.set}\t${item.at}\t${originOf(item.report)}\t${item.value}\n`
          : `${item.service}\t${name}\t${item.minute}\t${kinds.set}\t${item.ip}\t${item.at}\t${originOf(item.report)}\t${item.value}\n`);
      }
    }
    for (const [key, value] of adds) lines.push(`${key}${value}\n`);
    for (const report of reports) {
      lines.push(perIp ? `\t\t${report}\t${day * 86_400}\t${kinds.receipt}\t0\t0\t1\n` : `\t${report}\t${day * 86_400}\t${kinds.receipt}\t\t0\t0\t1\n`);
    }
    return { body: Buffer.from(lines.join('')), rows: lines.length, reports: reports.size };
  }

  /** Sends one insert: `handedOver` once its body is read out (or the request ended), `done` once the server took it. */
  private send(which: keyof typeof metricTables, insert: DayInsert): { done: Promise<void>; handedOver: Promise<unknown> } {
    const columns: [string, ...string[]] = which === 'ip'
      ? ['service', 'ip', 'name', 'minute', 'kind', 'at', 'origin', 'value']
      : ['service', 'name', 'minute', 'kind', 'ip', 'at', 'origin', 'value'];
    const values = Readable.from([insert.body], { objectMode: false });
    const done = (async () => {
      try {
        await this.ch.client.insert({ table: this.table(which).text, values, format: 'TabSeparated', columns });
      } catch (err) {
        throw describeFailure(err, this.ch.where, `storing ${insert.rows} metric rows of ${insert.reports} reports in ${metricTables[which]}`);
      }
      this.stats.rows += insert.rows;
      this.stats.inserts++;
    })();
    const handedOver = Promise.race([finished(values).catch(() => undefined), done.catch(() => undefined)]);
    return { done, handedOver };
  }

  /** `report\0day` of the receipts each table holds among `reports`, in one query for both tables. */
  private async receipts(reports: readonly string[], days: readonly number[]): Promise<Record<keyof typeof metricTables, Set<string>>> {
    const found = { service: new Set<string>(), ip: new Set<string>() };
    for (let i = 0; i < reports.length; i += idsPerLookup) {
      const ids = joinSql(reports.slice(i, i + idsPerLookup).map((id) => sql`${id}`), ', ');
      const when = joinSql(days.map((d) => sql`${d * 86_400}`), ', ');
      const where = sql`service = '' AND name IN (${ids}) AND minute IN (${when}) AND kind = ${kinds.receipt}`;
      const rows = await this.ch.select<{ which: string; report: string; day: number | string }>(sql`
        SELECT 'service' AS which, name AS report, intDiv(minute, 86400) AS day FROM ${this.table('service')} WHERE ${where}
        UNION ALL
        SELECT 'ip' AS which, name AS report, intDiv(minute, 86400) AS day FROM ${this.table('ip')} WHERE ${where}`,
      `looking up which of ${Math.min(idsPerLookup, reports.length - i)} metric reports are stored already`);
      for (const r of rows) found[r.which === 'ip' ? 'ip' : 'service'].add(`${r.report}\u0000${Number(r.day)}`);
    }
    return found;
  }
}

/** One INSERT of a day's rows and the receipts of their reports, built (TabSeparated) and not yet sent. */
interface DayInsert {
  body: Buffer;
  rows: number;
  reports: number;
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

/** A name as a TabSeparated field: its backslashes escaped (names hold no control characters). */
function tsvText(text: string): string {
  return text.includes('\\') ? text.replaceAll('\\', '\\\\') : text;
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
