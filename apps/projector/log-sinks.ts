/**
 * The report sinks of the logs and call-graph views: msec.reports.logs into the `logs`
 * tables, msec.reports.calls into `call_edges` (adapters/views/clickhouse-logs.ts). Every
 * report is checked whole before anything is stored (domain/logs/report-checks.ts); rows are
 * stored with their ingest ids, so a redelivered batch is shown once. Retention: the days
 * older than MSEC_LOG_RETENTION_DAYS (default 14) are dropped, checked at most once an hour
 * while reports flow.
 */
import type { Logger } from 'pino';
import type { ConsumedMessage } from '../../adapters/bus/port.ts';
import type { ClickHouseLogStore, DropWrite, EdgeWrite, LogWrite } from '../../adapters/views/clickhouse-logs.ts';
import { ReportProblem, checkCallsReport, checkLogsReport, reportLimits, type CheckWindow } from '../../domain/logs/report-checks.ts';
import { decodeReport, reportTopics, type CallEdge, type ReportOf } from '../../schemas/reports.ts';
import { readLogsReport } from '../../schemas/logs-report-reader.ts';
import { ReportRefused, type Accepted, type ReportSink } from './report-ingest.ts';

export const defaultRetentionDays = 14;

/** MSEC_LOG_RETENTION_DAYS: whole days from 1 to 3650. */
export function retentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.MSEC_LOG_RETENTION_DAYS;
  if (text === undefined || text === '') return defaultRetentionDays;
  const days = /^\d{1,4}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(days >= 1 && days <= 3650)) throw new Error(`MSEC_LOG_RETENTION_DAYS=${text.slice(0, 20)} is not a number of days from 1 to 3650`);
  return days;
}

export interface LogSinkOptions {
  store: ClickHouseLogStore;
  logger: Logger;
  retentionDays?: number;
  clock?: () => number;
}

/** A record to store: the write itself, its id filled in by store() (one object per record, and every record passes here). */
type RecordItem = LogWrite & { kind: 'record' };
type LogItem = RecordItem | { kind: 'drops'; reporter: string; atMs: number; dropped: number };
type EdgeItem = { reporter: string; edge: CallEdge };

const advice = {
  oversized: 'a producer sends more than msec does: check who can produce to this topic (Kafka ACLs)',
  malformed: 'not a report of this msec: check who can produce to this topic, and that every msec process runs the same version',
  'bad-time': 'the reporter\'s clock is far off (more than an hour ahead, or older than the retention): run NTP on the reporting host',
};

/** Both sinks on one store. */
export function logSinks(o: LogSinkOptions): ReportSink<unknown>[] {
  const retention = new Retention(o);
  return [logsSink(o, retention) as ReportSink<unknown>, callEdgesSink(o, retention) as ReportSink<unknown>];
}

function decoded<T extends 'msec.reports.logs' | 'msec.reports.calls'>(topic: T, message: ConsumedMessage): ReportOf[T] {
  if (message.value.length > reportLimits.maxMessageBytes) {
    throw new ReportRefused('oversized', `a message of ${message.value.length} bytes; at most ${reportLimits.maxMessageBytes}`);
  }
  try {
    // Every log record passes here: the hand-written reader, not protobufjs' reflection (5 µs a record).
    return (topic === reportTopics.logs ? readLogsReport(message.value) : decodeReport(topic, message.value)) as ReportOf[T];
  } catch (err) {
    throw new ReportRefused('malformed', `not a ${topic} report: ${(err as Error).message}`);
  }
}

function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ReportProblem) throw new ReportRefused(err.reason, err.message);
    throw err;
  }
}

export function logsSink(o: LogSinkOptions, retention = new Retention(o)): ReportSink<LogItem> {
  const clock = o.clock ?? Date.now;
  return {
    name: 'logs',
    topic: reportTopics.logs,
    advice,
    accept(message) {
      const window: CheckWindow = { now: clock(), retentionDays: retention.days };
      const report = checked(() => checkLogsReport(decoded('msec.reports.logs', message), window));
      const items: LogItem[] = report.records.map((record) => ({ kind: 'record', id: '', reporter: report.reporter, record }));
      // The bus timestamp is the producer's to choose: kept within the retention, never ahead.
      const oldest = window.now - (retention.days - 1) * 86_400_000;
      if (report.droppedRecords > 0) items.push({ kind: 'drops', reporter: report.reporter, atMs: Math.max(oldest, Math.min(message.timestamp || window.now, window.now)), dropped: report.droppedRecords });
      return items;
    },
    async store(items: Accepted<LogItem>[]) {
      const records: LogWrite[] = [];
      const drops: DropWrite[] = [];
      for (const { id, item } of items) {
        if (item.kind === 'record') {
          item.id = id;
          records.push(item);
        } else {
          drops.push({ id, reporter: item.reporter, atMs: item.atMs, dropped: item.dropped });
        }
      }
      if (records.length) await o.store.insertRecords(records);
      if (drops.length) await o.store.insertDrops(drops);
      await retention.maybeRun();
    },
  };
}

export function callEdgesSink(o: LogSinkOptions, retention = new Retention(o)): ReportSink<EdgeItem> {
  const clock = o.clock ?? Date.now;
  return {
    name: 'call-edges',
    topic: reportTopics.calls,
    advice,
    accept(message) {
      const window: CheckWindow = { now: clock(), retentionDays: retention.days };
      const report = checked(() => checkCallsReport(decoded('msec.reports.calls', message), window));
      return report.calls.map((edge) => ({ reporter: report.reporter, edge }));
    },
    async store(items: Accepted<EdgeItem>[]) {
      await o.store.insertEdges(items.map(({ id, item }): EdgeWrite => ({ id, reporter: item.reporter, edge: item.edge })));
      await retention.maybeRun();
    },
  };
}

/** Drops expired days at most once an hour; a failure is logged and tried again later. */
export class Retention {
  readonly days: number;
  private lastRun = -Infinity;
  private readonly clock: () => number;

  constructor(private readonly o: LogSinkOptions) {
    this.days = o.retentionDays ?? defaultRetentionDays;
    this.clock = o.clock ?? Date.now;
  }

  async maybeRun(): Promise<void> {
    const now = this.clock();
    if (now - this.lastRun < 3_600_000) return;
    this.lastRun = now;
    try {
      const dropped = await this.o.store.dropExpired(now, this.days);
      if (dropped.length) this.o.logger.info({ days: dropped, retentionDays: this.days }, 'dropped logs and call edges past their retention');
    } catch (err) {
      this.o.logger.warn({ err }, `cannot drop logs older than ${this.days} days; trying again in an hour`);
    }
  }
}
