/**
 * The report sink of the metric views: `msec.reports.metrics` → MetricsStore (per-minute tables
 * in ClickHouse), registered in apps/projector/report-sinks.ts. Checks what it accepts
 * (metric-report-checks.ts), stores each report once, and drops expired days at most once an
 * hour as it goes.
 */
import type { Logger } from 'pino';
import type { ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import type { Accepted, ReportSink } from '../projector/report-ingest.ts';
import { acceptMetricsReport, metricsRefusalAdvice, type MetricItem } from './metric-report-checks.ts';
import { dropExpiredDays } from './metrics-retention.ts';
import { MetricsStore } from './metrics-store.ts';
import { defaultMonitorSettings } from './settings.ts';

export interface MetricsSinkOptions {
  clickhouse: { client: ClickHouse; database: string };
  logger: Logger;
  clock?: () => number;
  retentionDays?: number;
}

export interface MetricsSink extends ReportSink<MetricItem> {
  readonly metricsStore: MetricsStore;
}

const retentionEveryMs = 3_600_000;

export function metricsSink(options: MetricsSinkOptions): MetricsSink {
  const clock = options.clock ?? Date.now;
  const retentionDays = options.retentionDays ?? defaultMonitorSettings.retentionDays;
  const { client, database } = options.clickhouse;
  const store = new MetricsStore(client, database);
  let retainedAt = Number.NEGATIVE_INFINITY;
  return {
    name: 'metrics',
    topic: 'msec.reports.metrics',
    advice: metricsRefusalAdvice,
    metricsStore: store,
    accept: (message) => acceptMetricsReport(message, { now: clock, retentionDays }),
    async store(accepted: Accepted<MetricItem>[]) {
      await store.store(firstCopies(accepted));
      const now = clock();
      if (now - retainedAt >= retentionEveryMs) {
        retainedAt = now;
        try {
          const days = await dropExpiredDays(client, database, now, retentionDays);
          if (days.length) options.logger.info({ days, retentionDays }, `dropped ${days.length} expired day(s) of metrics`);
        } catch (err) {
          options.logger.warn({ err }, 'could not drop expired days of metrics; trying again in an hour');
        }
      }
    },
  };
}

/** The items of each report from the first message carrying it: a report sent twice in one batch counts once. */
function firstCopies(accepted: readonly Accepted<MetricItem>[]): MetricItem[] {
  const from = new Map<string, string>();
  const items: MetricItem[] = [];
  // A message's items come together: each message is looked at once.
  let message: Accepted<MetricItem>['message'] | undefined;
  let keep = false;
  for (const a of accepted) {
    if (a.message !== message) {
      message = a.message;
      const where = `${message.partition ?? 0}:${message.offset}`;
      const first = from.get(a.item.report);
      if (first === undefined) from.set(a.item.report, where);
      keep = first === undefined || first === where;
    }
    if (keep) items.push(a.item);
  }
  return items;
}
