/**
 * The report sinks a projector runs (report-ingest.ts): what reads msec.reports.* into views.
 * Each view adds its sinks here.
 */
import type { Logger } from 'pino';
import type { Backends } from '../config/open-backends.ts';
import { ClickHouseLogStore } from '../../adapters/views/clickhouse-logs.ts';
import { logSinks, retentionDays } from './log-sinks.ts';
import type { ReportSink } from './report-ingest.ts';

export function defaultReportSinks(backends: Backends, logger: Logger): ReportSink<unknown>[] {
  return [
    ...(backends.clickhouse ? logSinks({ store: new ClickHouseLogStore(backends.clickhouse.client, backends.clickhouse.database), logger, retentionDays: retentionDays() }) : []),
  ];
}
