/**
 * A log query as a user writes it (CLI flags, HTTP query string) checked into a typed filter.
 * MSEC's console passed a free-form SQL condition through to the log database; here every
 * filter is one of a fixed set, each value checked and later bound as a literal, and the rows
 * and the time range a query may touch are bounded. Anything else is refused with what to write.
 */
import { isIpAddress } from './ip.ts';
import { refuse } from '../decider.ts';
import { parseServiceName } from '../services/names.ts';
import { checkMatchValue, fieldNamePattern, headerNamed, intValue, type FieldType, type LogHeader } from './fields.ts';
import { checkLevel, levelNumber } from './levels.ts';

export interface LogQueryInput {
  service?: string;
  level?: string;
  since?: string;
  until?: string;
  requestId?: string;
  ip?: string;
  /** `NAME=VALUE`, NAME a custom field or a header (Caller, RPCName…). */
  fields?: readonly string[];
  grep?: string;
  limit?: number | string;
}

export interface LogQuery {
  service?: string;
  /** Records at or above this level (1..5). */
  minLevel: number;
  sinceMs: number;
  untilMs: number;
  requestId?: string;
  /** Client or server IP. */
  ip?: string;
  headers: { header: LogHeader; value: string }[];
  fields: { name: string; value: string }[];
  grep?: string;
  limit: number;
}

export interface QueryLimits {
  /** Most rows one query answers (MSEC's maxRetNum). */
  maxRows: number;
  defaultRows: number;
  /** Widest time range, in days (the retention: older records are gone anyway). */
  maxRangeDays: number;
  /** Range when none is given and no request id is (a request id searches the whole retention). */
  defaultRangeMs: number;
}

export const defaultQueryLimits: QueryLimits = { maxRows: 1000, defaultRows: 100, maxRangeDays: 14, defaultRangeMs: 3_600_000 };

export const MAX_FIELD_FILTERS = 8;
export const MAX_GREP = 200;
const day = 86_400_000;
/** Records may be stamped a little ahead of the console's clock. */
const futureSlackMs = 5 * 60_000;
const earliest = Date.UTC(2000, 0, 1);

/**
 * Checks the input. `declared` is the service's custom fields when known (a filter on an
 * undeclared field is refused, so a typo does not silently match nothing).
 */
export function parseLogQuery(input: LogQueryInput, now: number, declared?: ReadonlyMap<string, FieldType>, limits: QueryLimits = defaultQueryLimits): LogQuery {
  const service = input.service === undefined || input.service === '' ? undefined : parseServiceName(input.service).full;
  const requestId = input.requestId === undefined || input.requestId === '' ? undefined : checkRequestId(input.requestId);
  if (!service && !requestId) return refuse('invalid', 'name a service (msec logs SERVICE) or a request id (--request-id ID)');

  const minLevel = input.level === undefined || input.level === '' ? 1 : levelNumber[checkLevel(input.level, 'level')];
  const untilMs = input.until === undefined || input.until === '' ? now + futureSlackMs : parseInstant(input.until, now, 'until');
  const widest = limits.maxRangeDays * day;
  const sinceMs = input.since === undefined || input.since === ''
    ? untilMs - (requestId ? widest : limits.defaultRangeMs)
    : parseInstant(input.since, now, 'since');
  for (const [what, ms] of [['since', sinceMs], ['until', untilMs]] as const) {
    if (ms < earliest || ms > now + day) return refuse('invalid', `${what} (${iso(ms)}) is outside the years logs can have: from 2000 to tomorrow`);
  }
  if (sinceMs >= untilMs) return refuse('invalid', `since (${iso(sinceMs)}) must be before until (${iso(untilMs)})`);
  if (untilMs - sinceMs > widest + futureSlackMs) {
    return refuse('invalid', `the time range spans ${Math.ceil((untilMs - sinceMs) / day)} days; at most ${limits.maxRangeDays} (the retention): narrow --since/--until`);
  }

  let ip: string | undefined;
  if (input.ip !== undefined && input.ip !== '') {
    if (typeof input.ip !== 'string' || input.ip.length > 45 || !isIpAddress(input.ip)) return refuse('invalid', `ip "${String(input.ip).slice(0, 60)}" is not an IPv4 or IPv6 address`);
    ip = input.ip;
  }

  const headers: LogQuery['headers'] = [];
  const fields: LogQuery['fields'] = [];
  const filters = input.fields ?? [];
  if (filters.length > MAX_FIELD_FILTERS) return refuse('invalid', `${filters.length} field filters; at most ${MAX_FIELD_FILTERS}`);
  for (const filter of filters) {
    const eq = typeof filter === 'string' ? filter.indexOf('=') : -1;
    if (eq <= 0) return refuse('invalid', `field filter "${String(filter).slice(0, 80)}" is not NAME=VALUE`);
    const name = filter.slice(0, eq);
    const value = checkMatchValue(filter.slice(eq + 1), `field filter ${name.slice(0, 64)}`);
    const header = headerNamed(name);
    if (header) {
      headers.push({ header, value });
      continue;
    }
    if (!fieldNamePattern.test(name)) return refuse('invalid', `field name "${name.slice(0, 80)}" is not valid: letters, digits and "_", e.g. orderId`);
    const type = declared?.get(name);
    if (declared && type === undefined) {
      const known = [...declared.keys()];
      return refuse('invalid', `${name} is not a custom field of ${service ?? 'the service'}${known.length ? `: its fields are ${known.join(', ')}` : ': it declares none'} (headers: ReqID, ClientIP, ServerIP, RPCName, Caller, ServiceName)`);
    }
    if (type === 'int') {
      const n = intValue(value);
      if (n === undefined) return refuse('invalid', `${name} is an int field: "${value.slice(0, 40)}" is not a whole number`);
      fields.push({ name, value: n });
    } else {
      fields.push({ name, value });
    }
  }

  let grep: string | undefined;
  if (input.grep !== undefined && input.grep !== '') {
    if (typeof input.grep !== 'string' || input.grep.length > MAX_GREP) return refuse('invalid', `grep text is longer than ${MAX_GREP} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(input.grep)) return refuse('invalid', 'grep text holds control characters: search for printable text');
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(input.grep)) return refuse('invalid', 'grep text is not well-formed Unicode');
    grep = input.grep;
  }

  const limit = input.limit === undefined || input.limit === '' ? limits.defaultRows : Number(input.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > limits.maxRows) return refuse('invalid', `limit ${String(input.limit).slice(0, 20)} is not a whole number from 1 to ${limits.maxRows}`);

  return { service, minLevel, sinceMs, untilMs, requestId, ip, headers, fields, grep, limit };
}

/** A request id: the flow id, an unsigned 64-bit decimal. */
export function checkRequestId(text: string): string {
  if (typeof text !== 'string' || !/^[0-9]{1,20}$/.test(text) || BigInt(text) > 0xffffffffffffffffn || BigInt(text) === 0n) {
    return refuse('invalid', `request id "${String(text).slice(0, 40)}" is not a request id: a decimal number from 1 to 18446744073709551615`);
  }
  return BigInt(text).toString();
}

const isoPattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;
const relativePattern = /^(\d{1,6})(s|m|h|d)$/;
const unitMs: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: day };

/** ISO-8601 (UTC unless it says otherwise), `now`, or a time ago: `30s`, `15m`, `2h`, `3d`. */
export function parseInstant(text: string, now: number, what: string): number {
  if (typeof text !== 'string') return refuse('invalid', `${what} needs a time`);
  const t = text.trim();
  if (t === 'now') return now;
  const rel = relativePattern.exec(t);
  if (rel) return now - Number(rel[1]) * unitMs[rel[2]!]!;
  if (isoPattern.test(t)) {
    const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(t) || t.length === 10 ? t : `${t}Z`;
    const ms = Date.parse(withZone.replace(' ', 'T'));
    if (Number.isFinite(ms) && ms > 0) return ms;
  }
  return refuse('invalid', `${what} "${t.slice(0, 40)}" is not a time: write ISO-8601 (2024-05-01T10:00:00Z), now, or a time ago (30s, 15m, 2h, 3d)`);
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
