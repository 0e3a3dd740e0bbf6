/**
 * The report sinks a projector runs (report-ingest.ts): what reads msec.reports.* into views.
 * Each view adds its sinks here.
 */
import type { Logger } from 'pino';
import type { Backends } from '../config/open-backends.ts';
import { ClickHouseLogStore } from '../../adapters/views/clickhouse-logs.ts';
import { logSinks, retentionDays } from './log-sinks.ts';
import type { ReportSink } from './report-ingest.ts';
import { metricsSink } from '../monitor/metrics-sink.ts';
import { monitorSettings } from '../monitor/settings.ts';

export function defaultReportSinks(backends: Backends, logger: Logger, options: { clock?: () => number; retentionDays?: number } = {}): ReportSink<unknown>[] {
  const metricsRetentionDays = options.retentionDays ?? monitorSettings().retentionDays;
  return [
    ...(backends.clickhouse ? logSinks({ store: new ClickHouseLogStore(backends.clickhouse.client, backends.clickhouse.database), logger, retentionDays: retentionDays() }) : []),
    ...(backends.clickhouse ? [metricsSink({ clickhouse: backends.clickhouse, logger, retentionDays: metricsRetentionDays, ...(options.clock ? { clock: options.clock } : {}) }) as ReportSink<unknown>] : []),
  ];
}
