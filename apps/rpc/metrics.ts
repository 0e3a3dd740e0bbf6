/**
 * The metric API of services (MSEC's Monitor_Add / Monitor_Set, `ATTR_REPORT_INC/SET`):
 *
 *   ctx.metrics.add('orders');             // in a handler: +1 to usr.orders this minute
 *   ctx.metrics.set('queue_length', n);    // a gauge: the first Set of a minute wins
 *   const metrics = createMetrics();       // outside handlers (timers, workers)
 *
 * Names get the `usr.` prefix. A call only updates a map in memory: the reporter flushes the
 * minute buckets to the bus in batches, so reporting never waits for the bus nor fails a call.
 * A malformed name or a non-finite value throws at once (a bug in the caller, not bad luck).
 */
import { networkInterfaces } from 'node:os';
import { userMetricName } from '../../domain/monitoring/metric-names.ts';
import type { CallReporter } from './contracts.ts';
import { reporterFromEnvironment } from './reports/from-environment.ts';

export interface Metrics {
  /** Adds `value` (default 1) to `usr.<name>` for the current minute. */
  add(name: string, value?: number): void;
  /** Sets the gauge `usr.<name>` for the current minute, unless it was set already this minute. */
  set(name: string, value: number): void;
}

export interface MetricsOptions {
  /** `First.Second`. */
  service: string;
  /** The instance's IP ('' reports to the whole-service view only). */
  ip: string;
  reporter: CallReporter;
  clock?: () => number;
}

/** Checked names, so a handler that reports on every call pays one map lookup. */
const checked = new Map<string, string>();

function fullName(name: string): string {
  let full = checked.get(name);
  if (full === undefined) {
    full = userMetricName(name);
    if (checked.size >= 10_000) checked.clear();
    checked.set(name, full);
  }
  return full;
}

function checkValue(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`metric "${name}" needs a finite number, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

export function metricsFor(options: MetricsOptions): Metrics {
  const { service, ip, reporter } = options;
  const clock = options.clock ?? Date.now;
  const put = reporter.metric?.bind(reporter);
  return {
    add(name, value = 1) {
      const full = fullName(name);
      const v = checkValue(value, full);
      put?.({ service, name: full, ip, kind: 'add', value: v, at: clock() });
    },
    set(name, value) {
      const full = fullName(name);
      const v = checkValue(value, full);
      put?.({ service, name: full, ip, kind: 'set', value: v, at: clock() });
    },
  };
}

export interface StandaloneMetricsOptions {
  /** Default MSEC_SERVICE. */
  service?: string;
  /** Default: MSEC_LISTEN's host when it names one, else this machine's first external IPv4. */
  ip?: string;
  /** Default: the process's reporter (the one serve() and createClient() use). */
  reporter?: CallReporter;
  clock?: () => number;
}

/** Metrics for code outside handlers, reported under the process's service. */
export function createMetrics(options: StandaloneMetricsOptions = {}): Metrics {
  const service = options.service ?? process.env.MSEC_SERVICE;
  if (!service) throw new Error('createMetrics needs the service name: pass { service: "First.Second" } or set MSEC_SERVICE');
  return metricsFor({
    service, ip: options.ip ?? defaultIp(process.env.MSEC_LISTEN), reporter: options.reporter ?? reporterFromEnvironment(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** The IP a process is known by: its listen host, else its first non-internal IPv4, else ''. */
export function defaultIp(listen: string | undefined): string {
  const host = listen?.replace(/:\d+$/, '');
  if (host && /^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== '0.0.0.0') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '';
}
