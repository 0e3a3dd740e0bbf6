/**
 * The report sinks a projector runs (report-ingest.ts): what reads msec.reports.* into views.
 * Each view adds its sinks here.
 */
import type { Logger } from 'pino';
import type { Backends } from '../config/open-backends.ts';
import type { ReportSink } from './report-ingest.ts';

export function defaultReportSinks(_backends: Backends, _logger: Logger): ReportSink<unknown>[] {
  return [];
}
