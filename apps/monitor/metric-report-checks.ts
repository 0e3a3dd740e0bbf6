/**
 * What the metrics views take from `msec.reports.metrics`. Anyone who can produce to the topic
 * can send anything, so every field of every report is checked and a report with one bad field
 * is refused whole (a legitimate reporter never sends one): names, services, IPs, finite values,
 * minutes within the retention and not ahead of the clock, sizes. Client-side metrics of calls
 * made by address (`ip:port`, no service) are skipped: they belong to no service.
 */
import type { ConsumedMessage } from '../../adapters/bus/port.ts';
import { DomainError } from '../../domain/decider.ts';
import { checkMetricText, frameworkPrefix, frameworkViewName, hostMetricsService, hostPrefix, kvMetricsService, kvPrefix, userPrefix } from '../../domain/monitoring/metric-names.ts';
import { parseIpv4, parseSecondLevelName } from '../../domain/services/names.ts';
import { decodeReport, type Metric, type MetricsReport } from '../../schemas/reports.ts';
import { ReportRefused } from '../projector/report-ingest.ts';

/** One metric as the views store it. */
export interface MetricItem {
  /** The report it came from: its id, or the bus position of an older reporter's message. */
  report: string;
  service: string;
  /** View name (`usr.orders`, `frm.requests queryFlight`, `sys.cpu`). */
  name: string;
  ip: string;
  /** Epoch seconds, a multiple of 60. */
  minute: number;
  kind: 'add' | 'set';
  /** Set: epoch ms of the Set; add: 0. */
  at: number;
  value: number;
}

export interface MetricReportLimits {
  now: () => number;
  /** Reports about minutes older than this many days are refused (they would land in dropped partitions). */
  retentionDays: number;
  /** How far ahead of this clock a reporter's clock may be. */
  maxAheadMs?: number;
}

export const maxReportBytes = 4 * 1024 * 1024;
export const maxMetricsPerReport = 20_000;
export const maxValue = 1e15;
const frameworkAttr = /^frm\.(requests|failures|latency\.sum_ms|latency\.le_(\d{1,6}ms|inf))$/;
const methodPattern = /^[A-Za-z_][A-Za-z0-9_.]{0,254}$/;
const reportIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const byAddress = /^\[?[0-9a-fA-F.:]+\]?:\d+$/;
// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u001f\u007f-\u009f]/;

/** Refusal reasons of the metrics sink, and what to check for each (msec status shows them). */
export const metricsRefusalAdvice: Record<string, string> = {
  'too-large': `reports are limited to ${maxReportBytes} bytes and ${maxMetricsPerReport} metrics; split them`,
  malformed: 'the message is not a MetricsReport (schemas/reports.proto): check who produces to msec.reports.metrics',
  'bad-field': 'a reporter, report id, kind or ip is malformed: check who produces to msec.reports.metrics (Kafka ACLs)',
  'bad-service': 'metrics name a service First.Second; sys.* come under RESERVED.monitor',
  'bad-name': 'names are usr.*, sys.* (RESERVED.monitor), kv.* (RESERVED.kv) or the runtime\'s frm.* attributes, printable, at most 127 characters',
  'bad-time': 'minutes are whole minutes within the retention and not ahead of the clock (check the reporter\'s clock)',
  'bad-value': `values are finite numbers within ±${maxValue}`,
};

function refuse(reason: keyof typeof metricsRefusalAdvice, detail: string): never {
  throw new ReportRefused(reason, detail);
}

/** The metrics of one bus message, checked; throws ReportRefused for a report the views will not take. */
export function acceptMetricsReport(message: ConsumedMessage, limits: MetricReportLimits): MetricItem[] {
  if (message.value.byteLength > maxReportBytes) refuse('too-large', `a metrics report of ${message.value.byteLength} bytes`);
  let report: MetricsReport;
  try {
    report = decodeReport('msec.reports.metrics', message.value);
  } catch (err) {
    return refuse('malformed', `not a MetricsReport: ${(err as Error).message}`);
  }
  if (typeof report.reporter !== 'string' || report.reporter.length > 128 || controls.test(report.reporter)) refuse('bad-field', 'reporter is longer than 128 characters or holds control characters');
  const reportId = report.reportId ?? '';
  if (reportId !== '' && !reportIdPattern.test(reportId)) refuse('bad-field', `report id ${JSON.stringify(reportId.slice(0, 80))} is not a plain id (letters, digits, . _ : -, at most 64)`);
  // `bus:` names the reports that came without an id (by their bus position): never a reporter's own.
  if (reportId.startsWith('bus:')) refuse('bad-field', 'report ids starting with bus: are the ingestion\'s own');
  if (report.metrics.length > maxMetricsPerReport) refuse('too-large', `a report of ${report.metrics.length} metrics`);
  const key = reportId || `bus:${message.topic}:${message.partition ?? 0}:${message.offset}`;
  const now = limits.now();
  const oldest = Math.floor(now / 86_400_000 - limits.retentionDays + 1) * 86_400;
  const newest = (now + (limits.maxAheadMs ?? 5 * 60_000)) / 1000;
  const items: MetricItem[] = [];
  // A report names a few services and ips many times: each is checked once.
  const checked: Checked = { services: new Map(), ips: new Set() };
  // Agents report their host metrics with their ip as the reporter (one report a minute).
  const reporterIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(report.reporter) ? report.reporter : '';
  for (const m of report.metrics) {
    const item = checkMetric(m.ip || !reporterIp || m.service !== hostMetricsService ? m : { ...m, ip: reporterIp }, key, oldest, newest, checked);
    if (item) items.push(item);
  }
  return items;
}

interface Checked {
  services: Map<string, string>;
  ips: Set<string>;
}

function checkMetric(m: Metric, report: string, oldest: number, newest: number, checked: Checked): MetricItem | undefined {
  const attr = typeof m.attr === 'string' ? m.attr : '';
  const side = m.side ?? '';
  if (attr.startsWith(frameworkPrefix) && side === 'client' && byAddress.test(m.service)) return undefined;
  let service = checked.services.get(m.service);
  if (service === undefined) {
    try {
      service = parseSecondLevelName(m.service).full;
    } catch (err) {
      return refuse('bad-service', `service ${JSON.stringify(String(m.service).slice(0, 80))}: ${(err as DomainError).message}`);
    }
    checked.services.set(m.service, service);
  }
  const kind = m.kind === 'set' ? 'set' : m.kind === '' || m.kind === 'add' || m.kind === undefined ? 'add' : refuse('bad-field', `kind ${JSON.stringify(String(m.kind).slice(0, 20))} is neither add nor set`);
  let name: string;
  if (attr.startsWith(frameworkPrefix)) {
    if (!frameworkAttr.test(attr)) refuse('bad-name', `${JSON.stringify(attr.slice(0, 80))} is not an attribute the RPC runtime reports`);
    if (side !== 'client' && side !== 'server') refuse('bad-field', `side ${JSON.stringify(String(side).slice(0, 20))} of ${attr}`);
    if (!methodPattern.test(m.method)) refuse('bad-name', `method ${JSON.stringify(String(m.method).slice(0, 80))} of ${attr}`);
    if (kind !== 'add') refuse('bad-field', `${attr} is a count (add), not a gauge`);
    name = frameworkViewName(attr, side, m.method);
  } else if (attr.startsWith(userPrefix) || attr.startsWith(hostPrefix)) {
    if (m.method || side) refuse('bad-field', `${attr.slice(0, 80)} carries a method or side (only frm.* do)`);
    try {
      name = checkMetricText(attr);
    } catch (err) {
      return refuse('bad-name', (err as DomainError).message);
    }
    if (attr.startsWith(hostPrefix) && service !== hostMetricsService) refuse('bad-service', `host metric ${attr.slice(0, 80)} under ${service}: sys.* come under ${hostMetricsService}`);
  } else if (attr.startsWith(kvPrefix)) {
    if (service !== kvMetricsService) refuse('bad-service', `KV metric ${attr.slice(0, 80)} under ${service}: kv.* come under ${kvMetricsService}`);
    if (m.method || side) refuse('bad-field', `${attr.slice(0, 80)} carries a method or side (only frm.* do)`);
    try {
      name = checkMetricText(attr);
    } catch (err) {
      return refuse('bad-name', (err as DomainError).message);
    }
  } else {
    return refuse('bad-name', `${JSON.stringify(attr.slice(0, 80))} is neither usr.*, sys.*, kv.* nor frm.*`);
  }
  const ip = m.ip ?? '';
  if (ip !== '' && !checked.ips.has(ip)) {
    try {
      parseIpv4(ip);
    } catch {
      refuse('bad-field', `ip ${JSON.stringify(ip.slice(0, 60))} is not an IPv4 address`);
    }
    checked.ips.add(ip);
  }
  if (attr.startsWith(hostPrefix) && ip === '') refuse('bad-field', `host metric ${attr.slice(0, 80)} without the host's ip`);
  const minute = m.minute;
  if (!Number.isSafeInteger(minute) || minute % 60 !== 0) refuse('bad-time', `minute ${String(minute)} is not a whole minute in epoch seconds`);
  if (minute < oldest) refuse('bad-time', `minute ${new Date(minute * 1000).toISOString()} is older than the retention`);
  if (minute > newest) refuse('bad-time', `minute ${new Date(minute * 1000).toISOString()} is ahead of this clock`);
  const value = m.value;
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > maxValue) refuse('bad-value', `${name}: ${String(value)}`);
  let at = 0;
  if (kind === 'set') {
    at = m.atMs ?? 0;
    if (!Number.isSafeInteger(at) || at < minute * 1000 || at >= minute * 1000 + 60_000) refuse('bad-time', `the Set of ${name} at ${String(at)} ms is not within its minute`);
  }
  return { report, service, name, ip, minute, kind, at, value };
}
