/**
 * What the logs and call-edges views accept from the bus. Anyone who can produce to
 * msec.reports.* can send anything (SHARED-VIEWS: reports are untrusted), so every field of
 * every record is checked before a byte is stored: lengths, names, numbers, times (a forged
 * time far away would also make ClickHouse open a partition per day). A report with one bad
 * record is refused whole: the SDK never sends one, so it is forged or broken.
 */
import { isIpAddress } from './ip.ts';
import type { CallEdge, CallsReport, LogRecord, LogsReport } from '../../schemas/reports.ts';
import { MAX_FIELD_VALUE, MAX_FIELDS, fieldNamePattern } from './fields.ts';

/** A report the views will not take: `reason` is what msec status counts it under. */
export class ReportProblem extends Error {
  constructor(readonly reason: string, detail: string) {
    super(detail);
    this.name = 'ReportProblem';
  }
}

export const reportLimits = {
  /** Bytes of one bus message (the SDK sends at most ~512 KiB). */
  maxMessageBytes: 4 * 1024 * 1024,
  recordsPerReport: 1000,
  edgesPerReport: 5000,
  /** Records one report may say were dropped (the SDK's queue holds 20 000; sums stay exact). */
  maxDroppedPerReport: 1_000_000_000,
  /** Characters of a record's message (the SDK cuts at 8 KiB). */
  maxMessage: 16 * 1024,
  maxName: 128,
  maxRpcName: 256,
  /** How far ahead of the projector's clock a record may be stamped. */
  futureMs: 3_600_000,
  maxLatencyMs: 3_600_000,
} as const;

export interface CheckWindow {
  now: number;
  /** Records older than this many days are refused: retention would drop them. */
  retentionDays: number;
}

// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const serviceName = /^[A-Za-z][A-Za-z0-9_]{0,23}\.[A-Za-z][A-Za-z0-9_]{0,23}$/;
const rpcName = /^[A-Za-z0-9_.]*$/;
const requestId = /^[0-9]{1,20}$/;
const instance = /^(?:[0-9a-fA-F:.]{1,45}|\[[0-9a-fA-F:.]{1,45}\]):[0-9]{1,5}$/;

function fail(reason: string, detail: string): never {
  throw new ReportProblem(reason, detail);
}

function text(value: string, what: string, max: number, reason = 'bad-text'): string {
  if (typeof value !== 'string') fail(reason, `${what} is not text`);
  if (value.length > max) fail('oversized', `${what} is ${value.length} characters long; at most ${max}`);
  if (controls.test(value)) fail(reason, `${what} holds control characters`);
  return value;
}

/**
 * Text that comes from request heads (caller, and the method of a call that found none) is
 * whatever a client sent: kept, with control characters replaced and cut to `max`, so one
 * odd client never costs the other records of its report.
 */
export function headText(value: string, max: number): string {
  if (typeof value !== 'string') fail('bad-text', 'a text field is not text');
  const cut = value.length > max ? value.slice(0, max) : value;
  return controls.test(cut) ? cut.replace(new RegExp(controls.source, 'g'), '\uFFFD') : cut;
}

function time(ms: number, what: string, w: CheckWindow): number {
  if (!Number.isSafeInteger(ms)) fail('bad-time', `${what} ${String(ms)} is not a time in ms`);
  if (ms > w.now + reportLimits.futureMs) fail('bad-time', `${what} ${new Date(ms).toISOString()} is more than an hour ahead of this projector's clock: check the reporter's clock`);
  if (ms < w.now - w.retentionDays * 86_400_000) fail('bad-time', `${what} ${new Date(Math.max(0, ms)).toISOString()} is older than the ${w.retentionDays} days logs are kept`);
  return ms;
}

function requestIdOf(value: string, what: string, optional: boolean): string {
  if (value === '' && optional) return value;
  if (typeof value !== 'string' || !requestId.test(value) || BigInt(value) > 0xffffffffffffffffn) fail('bad-request-id', `${what} "${String(value).slice(0, 30)}" is not a decimal request id`);
  return value;
}

function ip(value: string, what: string): string {
  if (value !== '' && (typeof value !== 'string' || value.length > 45 || !isIpAddress(value))) fail('bad-ip', `${what} "${String(value).slice(0, 50)}" is not an IP address`);
  return value;
}

export function checkReporter(reporter: string): string {
  return text(reporter, 'reporter', reportLimits.maxName);
}

/** A log record as stored, or a ReportProblem. */
export function checkLogRecord(r: LogRecord, w: CheckWindow, at = 'a record'): LogRecord {
  time(r.timeMs, `${at}: time`, w);
  if (!Number.isInteger(r.level) || r.level < 1 || r.level > 5) fail('bad-level', `${at}: level ${String(r.level)} is not 1 (TRACE) to 5 (FATAL)`);
  if (typeof r.service !== 'string' || !serviceName.test(r.service)) fail('bad-service', `${at}: service "${String(r.service).slice(0, 60)}" is not a First.Second name`);
  requestIdOf(r.requestId, `${at}: request id`, true);
  ip(r.clientIp, `${at}: client ip`);
  ip(r.serverIp, `${at}: server ip`);
  text(r.rpcName, `${at}: rpc name`, reportLimits.maxRpcName);
  if (!rpcName.test(r.rpcName)) fail('bad-text', `${at}: rpc name "${r.rpcName.slice(0, 60)}" is not package.Service.Method`);
  const caller = headText(r.caller, reportLimits.maxName);
  if (r.coloring !== 0 && r.coloring !== 1) fail('bad-coloring', `${at}: coloring ${String(r.coloring)} is not 0 or 1`);
  if (typeof r.message !== 'string') fail('bad-text', `${at}: message is not text`);
  if (r.message.length > reportLimits.maxMessage) fail('oversized', `${at}: message is ${r.message.length} characters long; at most ${reportLimits.maxMessage}`);
  const { fieldNames: names, fieldValues: values } = r;
  if (!Array.isArray(names) || !Array.isArray(values) || names.length !== values.length) fail('bad-fields', `${at}: ${names?.length} field names but ${values?.length} values`);
  if (names.length > MAX_FIELDS) fail('oversized', `${at}: ${names.length} custom fields; at most ${MAX_FIELDS}`);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (typeof name !== 'string' || !fieldNamePattern.test(name)) fail('bad-fields', `${at}: field name "${String(name).slice(0, 70)}" is not a field name`);
    if (seen.has(name)) fail('bad-fields', `${at}: field ${name} appears twice`);
    seen.add(name);
    text(values[i]!, `${at}: field ${name}`, MAX_FIELD_VALUE, 'bad-fields');
  });
  return caller === r.caller ? r : { ...r, caller };
}

/** Every record of a logs report, checked; throws ReportProblem for the first bad one. */
export function checkLogsReport(report: LogsReport, w: CheckWindow): LogsReport {
  checkReporter(report.reporter);
  if (report.records.length > reportLimits.recordsPerReport) fail('oversized', `${report.records.length} records in one report; at most ${reportLimits.recordsPerReport}`);
  if (!Number.isSafeInteger(report.droppedRecords) || report.droppedRecords < 0 || report.droppedRecords > reportLimits.maxDroppedPerReport) {
    fail('bad-count', `dropped records ${String(report.droppedRecords)} is not a count of at most ${reportLimits.maxDroppedPerReport}`);
  }
  // Most reports come through unchanged: copy only when a record's caller had to be defused.
  let records = report.records;
  report.records.forEach((r, i) => {
    const checked = checkLogRecord(r, w, `record ${i}`);
    if (checked !== r) {
      if (records === report.records) records = [...report.records];
      records[i] = checked;
    }
  });
  return records === report.records ? report : { ...report, records };
}

export function checkCallEdge(e: CallEdge, w: CheckWindow, at = 'an edge'): CallEdge {
  if (e.side !== 'client' && e.side !== 'server') fail('bad-side', `${at}: side "${String(e.side).slice(0, 20)}" is not client or server`);
  const caller = headText(e.caller, reportLimits.maxName);
  const callee = headText(e.callee, reportLimits.maxName);
  if (callee === '') fail('bad-text', `${at}: no callee`);
  const method = headText(e.method, reportLimits.maxRpcName);
  requestIdOf(e.requestId, `${at}: request id`, false);
  if (!Number.isInteger(e.err) || e.err < -2147483648 || e.err > 2147483647) fail('bad-count', `${at}: err ${String(e.err)} is not a 32-bit code`);
  if (!Number.isFinite(e.latencyMs) || e.latencyMs < 0 || e.latencyMs > reportLimits.maxLatencyMs) fail('bad-count', `${at}: latency ${String(e.latencyMs)} ms is not 0 to an hour`);
  time(e.atMs, `${at}: time`, w);
  if (e.instance !== '' && (typeof e.instance !== 'string' || !instance.test(e.instance))) fail('bad-ip', `${at}: instance "${String(e.instance).slice(0, 60)}" is not ip:port`);
  return caller === e.caller && callee === e.callee && method === e.method ? e : { ...e, caller, callee, method };
}

export function checkCallsReport(report: CallsReport, w: CheckWindow): CallsReport {
  checkReporter(report.reporter);
  if (report.calls.length > reportLimits.edgesPerReport) fail('oversized', `${report.calls.length} edges in one report; at most ${reportLimits.edgesPerReport}`);
  return { ...report, calls: report.calls.map((e, i) => checkCallEdge(e, w, `edge ${i}`)) };
}
