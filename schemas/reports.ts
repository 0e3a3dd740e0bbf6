/**
 * Codec of the RPC reports (schemas/reports.proto) on the msec.reports.{routes,metrics,calls,logs}
 * topics. Decoded reports are plain JSON-able objects: camelCase fields, 64-bit integers as
 * numbers (epoch ms and counters stay far below 2^53), every field present.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = protobuf.loadSync(`${here}reports.proto`);

export interface InstanceFeedback {
  service: string;
  ip: string;
  port: number;
  requests: number;
  failures: number;
  latencyMsSum: number;
}

export interface RoutesReport {
  reporter: string;
  windowStartMs: number;
  windowEndMs: number;
  instances: InstanceFeedback[];
}

export interface Metric {
  service: string;
  /** `package.Service.Method` of frm.* metrics; '' for user and host metrics. */
  method: string;
  /** Of frm.* metrics; '' for user and host metrics. */
  side: 'client' | 'server' | '';
  attr: string;
  minute: number;
  value: number;
  /** 'add' (or '' from older reporters: add) sums per minute; 'set' is a gauge, first Set of a minute wins. */
  kind?: 'add' | 'set' | '';
  /** The instance or host the value is about; '' for the whole service only. */
  ip?: string;
  /** Epoch ms of a Set; 0 for add. */
  atMs?: number;
}

export interface MetricsReport {
  reporter: string;
  metrics: Metric[];
  droppedRecords: number;
  /** Unique per report and stable across retries, so the views count it once ('' from older reporters). */
  reportId?: string;
  /** User metric series the reporter dropped (too many at once) since its last report. */
  droppedMetrics?: number;
}

export interface CallEdge {
  side: 'client' | 'server';
  caller: string;
  callee: string;
  method: string;
  requestId: string;
  err: number;
  latencyMs: number;
  atMs: number;
  instance: string;
}

export interface CallsReport {
  reporter: string;
  calls: CallEdge[];
}

export interface LogRecord {
  timeMs: number;
  /** 1 TRACE, 2 DEBUG, 3 INFO, 4 ERROR, 5 FATAL (domain/logs/levels.ts). */
  level: number;
  service: string;
  requestId: string;
  clientIp: string;
  serverIp: string;
  rpcName: string;
  caller: string;
  coloring: number;
  message: string;
  fieldNames: string[];
  fieldValues: string[];
}

export interface LogsReport {
  reporter: string;
  records: LogRecord[];
  droppedRecords: number;
}

/** The report topics this codec knows, and the message each carries. */
export const reportTopics = {
  routes: 'msec.reports.routes',
  metrics: 'msec.reports.metrics',
  calls: 'msec.reports.calls',
  logs: 'msec.reports.logs',
} as const;

export interface ReportOf {
  'msec.reports.routes': RoutesReport;
  'msec.reports.metrics': MetricsReport;
  'msec.reports.calls': CallsReport;
  'msec.reports.logs': LogsReport;
}
export type ReportTopic = keyof ReportOf;

const typeNames: Record<ReportTopic, string> = {
  'msec.reports.routes': 'msec.reports.RoutesReport',
  'msec.reports.metrics': 'msec.reports.MetricsReport',
  'msec.reports.calls': 'msec.reports.CallsReport',
  'msec.reports.logs': 'msec.reports.LogsReport',
};

export class UnknownReportTopic extends Error {
  constructor(topic: string) {
    super(`no report schema for topic "${topic}": known are ${Object.keys(typeNames).join(', ')}`);
    this.name = 'UnknownReportTopic';
  }
}

export function isReportTopic(topic: string): topic is ReportTopic {
  return Object.prototype.hasOwnProperty.call(typeNames, topic);
}

function typeOf(topic: string): protobuf.Type {
  if (!isReportTopic(topic)) throw new UnknownReportTopic(topic);
  return root.lookupType(typeNames[topic]);
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true };

export function encodeReport<T extends ReportTopic>(topic: T, report: ReportOf[T]): Uint8Array {
  const type = typeOf(topic);
  return type.encode(type.fromObject(report as unknown as Record<string, unknown>)).finish();
}

/** A report's bytes as a plain object; throws UnknownReportTopic, or protobuf's error on bad bytes. */
export function decodeReport<T extends ReportTopic>(topic: T, bytes: Uint8Array): ReportOf[T];
export function decodeReport(topic: string, bytes: Uint8Array): Record<string, unknown>;
export function decodeReport(topic: string, bytes: Uint8Array): unknown {
  const type = typeOf(topic);
  return type.toObject(type.decode(bytes), toObjectOptions);
}
