/**
 * Turns a batch of call records into the three reports of schemas/reports.proto: route
 * feedback per called instance, frm.* metrics per (side, service, method, minute), and call
 * edges. No I/O: the reporter publishes what this returns.
 */
import type { CallRecord } from '../contracts.ts';
import { randomUUID } from 'node:crypto';
import type { CallEdge, CallsReport, InstanceFeedback, Metric, MetricsReport, ReportOf, ReportTopic, RoutesReport } from '../../../schemas/reports.ts';

/** Upper bounds (ms) of the cumulative latency buckets `frm.latency.le_<n>ms`, then `le_inf`. */
export const latencyBucketsMs: readonly number[] = [1, 5, 10, 50, 100, 500, 1000];

/** Most call edges in one bus message. */
export const edgesPerMessage = 500;

export interface ReportMessage<T extends ReportTopic = ReportTopic> {
  topic: T;
  /** Bus key: the service the report is about, so one service's reports stay in order. */
  key: string;
  report: ReportOf[T];
}

export interface UserMetrics {
  metrics: readonly Metric[];
  /** Points dropped by the buffer since the last report. */
  dropped: number;
}

export function aggregateCalls(records: readonly CallRecord[], reporter: string, droppedRecords = 0, user: UserMetrics = { metrics: [], dropped: 0 }): ReportMessage[] {
  return [...routeFeedback(records, reporter), ...frameworkMetrics(records, reporter, droppedRecords, user), ...callEdges(records, reporter)];
}

/** The IPv4 address a report names ('' for none): `::ffff:10.0.0.5` (a dual-stack socket) → `10.0.0.5`. */
export function reportIp(ip: string): string {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(v4) ? v4 : '';
}

/** What this process saw of each instance it called (client side only), one message per service. */
export function routeFeedback(records: readonly CallRecord[], reporter: string): ReportMessage<'msec.reports.routes'>[] {
  const byService = new Map<string, { report: RoutesReport; byInstance: Map<string, InstanceFeedback> }>();
  for (const r of records) {
    if (r.side !== 'client' || r.instance.port <= 0) continue;
    let entry = byService.get(r.callee);
    if (!entry) {
      entry = { report: { reporter, windowStartMs: r.at, windowEndMs: r.at, instances: [] }, byInstance: new Map() };
      byService.set(r.callee, entry);
    }
    entry.report.windowStartMs = Math.min(entry.report.windowStartMs, r.at);
    entry.report.windowEndMs = Math.max(entry.report.windowEndMs, r.at);
    const key = `${r.instance.ip}:${r.instance.port}`;
    let f = entry.byInstance.get(key);
    if (!f) {
      f = { service: r.callee, ip: r.instance.ip, port: r.instance.port, requests: 0, failures: 0, latencyMsSum: 0 };
      entry.byInstance.set(key, f);
      entry.report.instances.push(f);
    }
    f.requests++;
    if (r.err !== 0) f.failures++;
    f.latencyMsSum += r.latencyMs;
  }
  return [...byService].map(([service, { report }]) => ({ topic: 'msec.reports.routes', key: service, report }));
}

/**
 * frm.requests, frm.failures, frm.latency.sum_ms and cumulative frm.latency.le_* per side,
 * method, instance IP and minute, with the user metrics, one report per service; every report
 * gets an id of its own (the views store a report once, however often it is delivered).
 */
export function frameworkMetrics(records: readonly CallRecord[], reporter: string, droppedRecords = 0, user: UserMetrics = { metrics: [], dropped: 0 }): ReportMessage<'msec.reports.metrics'>[] {
  const series = new Map<string, { service: string; method: string; side: CallRecord['side']; ip: string; minute: number; values: Map<string, number> }>();
  for (const r of records) {
    const minute = Math.floor(r.at / 60_000) * 60;
    const ip = reportIp(r.instance.ip);
    const id = `${r.side}\u0000${r.callee}\u0000${r.method}\u0000${ip}\u0000${minute}`;
    const s = series.get(id) ?? { service: r.callee, method: r.method, side: r.side, ip, minute, values: emptyValues() };
    series.set(id, s);
    const add = (attr: string, n: number) => s.values.set(attr, s.values.get(attr)! + n);
    add('frm.requests', 1);
    if (r.err !== 0) add('frm.failures', 1);
    add('frm.latency.sum_ms', r.latencyMs);
    for (const bound of latencyBucketsMs) if (r.latencyMs <= bound) add(`frm.latency.le_${bound}ms`, 1);
    add('frm.latency.le_inf', 1);
  }
  const byService = new Map<string, Metric[]>();
  for (const s of series.values()) {
    const metrics = byService.get(s.service) ?? [];
    for (const [attr, value] of s.values) metrics.push({ service: s.service, method: s.method, side: s.side, attr, minute: s.minute, value, kind: 'add', ip: s.ip, atMs: 0 });
    byService.set(s.service, metrics);
  }
  for (const m of user.metrics) {
    const metrics = byService.get(m.service) ?? [];
    metrics.push(m);
    byService.set(m.service, metrics);
  }
  const out: ReportMessage<'msec.reports.metrics'>[] = [];
  for (const [service, metrics] of byService) {
    for (let i = 0; i < metrics.length; i += metricsPerReport) {
      out.push({ topic: 'msec.reports.metrics', key: service, report: { reporter, metrics: metrics.slice(i, i + metricsPerReport), droppedRecords: 0, reportId: randomUUID(), droppedMetrics: 0 } });
    }
  }
  if (out.length === 0 && (droppedRecords > 0 || user.dropped > 0)) {
    out.push({ topic: 'msec.reports.metrics', key: reporter, report: { reporter, metrics: [], droppedRecords, reportId: randomUUID(), droppedMetrics: user.dropped } });
  } else if (out.length > 0) {
    out[0]!.report.droppedRecords = droppedRecords;
    out[0]!.report.droppedMetrics = user.dropped;
  }
  return out satisfies { report: MetricsReport }[];
}

/** Most metrics in one report (the views refuse larger ones). */
export const metricsPerReport = 5_000;

function emptyValues(): Map<string, number> {
  const values = new Map<string, number>([['frm.requests', 0], ['frm.failures', 0], ['frm.latency.sum_ms', 0]]);
  for (const bound of latencyBucketsMs) values.set(`frm.latency.le_${bound}ms`, 0);
  values.set('frm.latency.le_inf', 0);
  return values;
}

/** Every call as an edge caller → callee.method, grouped by callee, at most edgesPerMessage a message. */
export function callEdges(records: readonly CallRecord[], reporter: string): ReportMessage<'msec.reports.calls'>[] {
  const byCallee = new Map<string, CallEdge[]>();
  for (const r of records) {
    const edges = byCallee.get(r.callee) ?? [];
    edges.push({
      side: r.side, caller: r.caller, callee: r.callee, method: r.method, requestId: r.requestId, err: r.err,
      latencyMs: r.latencyMs, atMs: r.at, instance: r.instance.port > 0 ? `${r.instance.ip}:${r.instance.port}` : '',
    });
    byCallee.set(r.callee, edges);
  }
  const out: ReportMessage<'msec.reports.calls'>[] = [];
  for (const [callee, edges] of byCallee) {
    for (let i = 0; i < edges.length; i += edgesPerMessage) {
      out.push({ topic: 'msec.reports.calls', key: callee, report: { reporter, calls: edges.slice(i, i + edgesPerMessage) } satisfies CallsReport });
    }
  }
  return out;
}
