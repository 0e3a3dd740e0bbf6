import { refuse } from '../decider.ts';

/**
 * Metric names as MSEC users know them: free text up to 127 characters (MSEC's 128-byte
 * buffers), prefixed by who reports them — `usr.` for business code (`ATTR_REPORT`), `frm.` for
 * the RPC runtime, `sys.` for the agents' host metrics under RESERVED.monitor.
 */

export const maxMetricNameLength = 127;
export const userPrefix = 'usr.';
export const frameworkPrefix = 'frm.';
export const hostPrefix = 'sys.';
/** The odd service host metrics are reported under; the views show them for every service on that IP. */
export const hostMetricsService = 'RESERVED.monitor';
/** The KV's instance metrics (`kv.<cluster>.<port>.<what>`), sampled by the console, come under this odd service. */
export const kvMetricsService = 'RESERVED.kv';
export const kvPrefix = 'kv.';

// Controls (C0, DEL, C1) and the line/paragraph separators would break a line of text or a terminal.
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Checks the text of a metric name; `what` names it in the message. */
export function checkMetricText(name: unknown, what = 'metric name'): string {
  if (typeof name !== 'string' || name.trim() === '') return refuse('invalid', `a ${what} is required, e.g. "usr.orders"`);
  if (name !== name.trim()) return refuse('invalid', `the ${what} "${name.trim()}" has spaces around it; remove them`);
  if (name.length > maxMetricNameLength) return refuse('invalid', `the ${what} is ${name.length} characters long; shorten it to at most ${maxMetricNameLength}`);
  if (forbidden.test(name)) return refuse('invalid', `the ${what} ${JSON.stringify(name)} holds a control character; use printable text`);
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(name)) return refuse('invalid', `the ${what} holds a broken UTF-16 surrogate; use well-formed text`);
  return name;
}

/**
 * The name a business metric is stored under: `orders` → `usr.orders` (MSEC's ATTR_REPORT adds
 * the prefix); `usr.orders` stays. `frm.` and `sys.` belong to the runtime and the agents.
 */
export function userMetricName(name: unknown): string {
  const text = checkMetricText(name);
  if (text.startsWith(frameworkPrefix) || text.startsWith(hostPrefix)) {
    return refuse('invalid', `"${text}" is reserved: frm.* metrics come from the RPC runtime and sys.* from the agents; name yours without those prefixes (it is stored as usr.<name>)`);
  }
  const full = text.startsWith(userPrefix) ? text : `${userPrefix}${text}`;
  if (full.length === userPrefix.length) return refuse('invalid', 'a metric name is required after "usr."');
  return checkMetricText(full);
}

/** `flight.flight_service.queryFlight` → `queryFlight`. */
export function shortMethodName(method: string): string {
  const dot = method.lastIndexOf('.');
  return dot < 0 ? method : method.slice(dot + 1);
}

/**
 * The view name of a framework metric: the attribute, the side when it is the callers' view,
 * then the method (`frm.requests queryFlight`, `frm.client.latency.le_5ms queryFlight`), in
 * MSEC's `frm.rpc <what>` style, so `^frm\.requests ` selects one attribute of every method.
 */
export function frameworkViewName(attr: string, side: 'client' | 'server', method: string): string {
  const rest = attr.slice(frameworkPrefix.length);
  return `${frameworkPrefix}${side === 'client' ? 'client.' : ''}${rest} ${shortMethodName(method)}`;
}

export function isHostMetric(name: string): boolean {
  return name.startsWith(hostPrefix);
}
