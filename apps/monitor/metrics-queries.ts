/**
 * Reads of the per-minute metric views (010_metrics.sql), for the console, the CLI and the alarm
 * evaluator. A curve is one value per minute of a range (null: nothing was reported that minute).
 * Adds are summed; a Set counts with the first value of its minute per ip, and the whole service
 * sums its ips (MSEC's server summed its agents' values). Host metrics (sys.* of RESERVED.monitor)
 * appear in every service on that ip: in a per-ip view as that host's values, in the service view
 * summed over the service's ips, as MSEC copied them.
 */
import type { ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { joinSql, sql, sqlIdentifier, type SqlFragment } from '../../adapters/views/clickhouse-sql.ts';
import { hostMetricsService } from '../../domain/monitoring/metric-names.ts';
import { kinds, metricTables } from './metrics-store.ts';

export interface Curve {
  name: string;
  /** Set for per-ip curves. */
  ip?: string;
  /** One value per minute from `from`, null where nothing was reported. */
  values: (number | null)[];
}

export interface CurveQuery {
  service: string;
  /** Epoch seconds, multiples of 60; `to` exclusive. */
  from: number;
  to: number;
  /** RE2 regular expression on names (ClickHouse `match`). */
  pattern?: string;
  /** Exactly these names. */
  names?: readonly string[];
  /** One ip's view. */
  ip?: string;
  /** One curve per (name, ip) instead of the service's sum. */
  byIp?: boolean;
  /** Most curves (default maxCurves): more throws TooManyCurves. */
  limit?: number;
}

/** Most curves one query answers (a service with more names needs a filter). */
export const maxCurves = 1000;

/** More curves match than a query may answer. */
export class TooManyCurves extends RangeError {
  constructor(readonly limit: number) {
    super(`more than ${limit} curves match`);
    this.name = 'TooManyCurves';
  }
}
const placeholder = sql`1`;

export class MetricQueries {
  private readonly service: SqlFragment;
  private readonly perIp: SqlFragment;

  constructor(private readonly ch: ClickHouse, database: string, private readonly hostsOf: (service: string) => readonly string[] = () => []) {
    const db = sqlIdentifier(database);
    this.service = sql`${db}.${sqlIdentifier(metricTables.service)}`;
    this.perIp = sql`${db}.${sqlIdentifier(metricTables.ip)}`;
  }

  /** Compiles a name filter in ClickHouse (RE2), so a bad one fails the same way whether or not rows would be matched. */
  async checkPattern(pattern: string): Promise<void> {
    await this.ch.select(sql`SELECT match('', ${pattern}) AS ok`, 'checking a name filter');
  }

  /** The ips of a service: those that reported in the range, and its hosts in the catalog. */
  async ips(service: string, from: number, to: number): Promise<string[]> {
    const rows = await this.ch.select<{ ip: string }>(
      sql`SELECT DISTINCT ip FROM ${this.perIp} WHERE service = ${service} AND minute >= ${from} AND minute < ${to} AND kind < ${kinds.receipt} LIMIT 10000`,
      `listing the ips of ${service}`);
    return [...new Set([...rows.map((r) => r.ip), ...this.hostsOf(service)])].filter(Boolean).sort(compareIp);
  }

  /** The names reported for a service in the range, its hosts' sys.* included. */
  async names(service: string, from: number, to: number, ips?: readonly string[]): Promise<string[]> {
    const own = await this.ch.select<{ name: string }>(
      sql`SELECT DISTINCT name FROM ${this.service} WHERE service = ${service} AND minute >= ${from} AND minute < ${to} AND kind < ${kinds.receipt} LIMIT 10000`,
      `listing the metric names of ${service}`);
    const hosts = service === hostMetricsService ? [] : (ips ?? await this.ips(service, from, to));
    const sys = hosts.length === 0 ? [] : await this.ch.select<{ name: string }>(
      sql`SELECT DISTINCT name FROM ${this.perIp} WHERE service = ${hostMetricsService} AND ip IN (${list(hosts)}) AND minute >= ${from} AND minute < ${to} AND kind < ${kinds.receipt} LIMIT 10000`,
      `listing the host metric names of ${service}`);
    return [...new Set([...own, ...sys].map((r) => r.name))].sort();
  }

  async curves(q: CurveQuery): Promise<Curve[]> {
    const minutes = (q.to - q.from) / 60;
    if (!Number.isInteger(minutes) || minutes <= 0 || q.from % 60 !== 0) throw new RangeError('a curve range is whole minutes, from before to');
    const filter = joinSql([
      sql`minute >= ${q.from}`, sql`minute < ${q.to}`, sql`kind < ${kinds.receipt}`,
      q.pattern !== undefined ? sql`match(name, ${q.pattern})` : placeholder,
      q.names !== undefined ? (q.names.length ? sql`name IN (${list(q.names)})` : sql`0`) : placeholder,
    ], ' AND ');
    const sysFilter = sql`${filter} AND service = ${hostMetricsService} AND name LIKE 'sys.%'`;
    // A service shows the sys.* of its catalog hosts only: an ip named in a query, or in a metric
    // anyone may report for the service, does not open another host's figures.
    const catalog = this.hostsOf(q.service);
    const withHosts = q.service !== hostMetricsService && catalog.length > 0;
    let rows: { name: string; ip?: string; minute: number; value: number }[];
    if (q.ip !== undefined) {
      const own = sql`SELECT name, minute, kind, ip, sum(value) AS total, argMin(value, at) AS first FROM ${this.perIp} WHERE service = ${q.service} AND ip = ${q.ip} AND ${filter} GROUP BY name, minute, kind, ip`;
      const sys = sql`SELECT name, minute, kind, ip, sum(value) AS total, argMin(value, at) AS first FROM ${this.perIp} WHERE ip = ${q.ip} AND ${sysFilter} GROUP BY name, minute, kind, ip`;
      rows = await this.sum(withHosts && catalog.includes(q.ip) ? sql`${own} UNION ALL ${sys}` : own, false, `reading the curves of ${q.service} at ${q.ip}`);
    } else {
      const hosts = catalog.length ? sql`ip IN (${list(catalog)})` : sql`0`;
      const own = q.byIp
        ? sql`SELECT name, minute, kind, ip, sum(value) AS total, argMin(value, at) AS first FROM ${this.perIp} WHERE service = ${q.service} AND ${filter} GROUP BY name, minute, kind, ip`
        : sql`SELECT name, minute, kind, ip, sum(value) AS total, argMin(value, at) AS first FROM ${this.service} WHERE service = ${q.service} AND ${filter} GROUP BY name, minute, kind, ip`;
      const sys = sql`SELECT name, minute, kind, ip, sum(value) AS total, argMin(value, at) AS first FROM ${this.perIp} WHERE ${hosts} AND ${sysFilter} GROUP BY name, minute, kind, ip`;
      rows = await this.sum(withHosts ? sql`${own} UNION ALL ${sys}` : own, q.byIp === true, `reading the curves of ${q.service}${q.byIp ? ' per ip' : ''}`);
    }
    const curves = new Map<string, Curve>();
    for (const r of rows) {
      const key = q.byIp ? `${r.name}\u0000${r.ip}` : r.name;
      let curve = curves.get(key);
      if (!curve) {
        if (curves.size >= (q.limit ?? maxCurves)) throw new TooManyCurves(q.limit ?? maxCurves);
        curve = { name: r.name, ...(q.byIp ? { ip: r.ip! } : {}), values: new Array<number | null>(minutes).fill(null) };
        curves.set(key, curve);
      }
      curve.values[(Number(r.minute) - q.from) / 60] = Number(r.value);
    }
    return [...curves.values()].sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : compareIp(a.ip ?? '', b.ip ?? '')));
  }

  /**
   * Values of many series at given minutes, for the alarm evaluator: the whole-service value of
   * each (service, name) and, for `perHost`, each ip's. Keys `service\0name\0ip\0minute` ('' ip for the service).
   */
  async valuesAt(series: readonly { service: string; name: string; perHost: boolean }[], ranges: readonly [number, number][]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (series.length === 0 || ranges.length === 0) return out;
    const when = joinSql(ranges.map(([a, b]) => sql`(minute >= ${a} AND minute <= ${b})`), ' OR ');
    const wanted = new Set(series.map((s) => `${s.service}\u0000${s.name}`));
    // Services and names as two IN lists, which the sorting key (service, name, …) reads
    // directly; pairs no rule asked for are dropped here.
    const servicesPerQuery = 500;
    for (const [perHost, table] of [[false, this.service], [true, this.perIp]] as const) {
      const bySvc = new Map<string, Set<string>>();
      for (const s of series) if (!perHost || s.perHost) (bySvc.get(s.service) ?? bySvc.set(s.service, new Set()).get(s.service)!).add(s.name);
      const services = [...bySvc.keys()];
      for (let i = 0; i < services.length; i += servicesPerQuery) {
        const chunk = services.slice(i, i + servicesPerQuery);
        const names = [...new Set(chunk.flatMap((svc) => [...bySvc.get(svc)!]))];
        const inner = sql`SELECT service, name, minute, kind, ip, sum(value) AS total, argMin(value, at) AS first FROM ${table}
          WHERE service IN (${list(chunk)}) AND name IN (${list(names)}) AND (${when}) AND kind < ${kinds.receipt} GROUP BY service, name, minute, kind, ip`;
        const rows = await this.ch.select<{ service: string; name: string; ip: string; minute: number; value: number }>(
          perHost
            ? sql`SELECT service, name, ip, minute, sum(if(kind = ${kinds.set}, first, total)) AS value FROM (${inner}) GROUP BY service, name, ip, minute`
            : sql`SELECT service, name, minute, sum(if(kind = ${kinds.set}, first, total)) AS value FROM (${inner}) GROUP BY service, name, minute`,
          `reading the series of ${chunk.length} services for the alarms`);
        for (const r of rows) {
          if (!wanted.has(`${r.service}\u0000${r.name}`)) continue;
          out.set(`${r.service}\u0000${r.name}\u0000${perHost ? r.ip : ''}\u0000${Number(r.minute)}`, Number(r.value));
        }
      }
    }
    return out;
  }

  private async sum(inner: SqlFragment, byIp: boolean, doing: string) {
    const query = byIp
      ? sql`SELECT name, ip, minute, sum(if(kind = ${kinds.set}, first, total)) AS value FROM (${inner}) GROUP BY name, ip, minute ORDER BY name, ip, minute`
      : sql`SELECT name, minute, sum(if(kind = ${kinds.set}, first, total)) AS value FROM (${inner}) GROUP BY name, minute ORDER BY name, minute`;
    return this.ch.select<{ name: string; ip?: string; minute: number; value: number }>(query, doing);
  }
}

function list(values: readonly string[]): SqlFragment {
  return values.length ? joinSql(values.map((v) => sql`${v}`), ', ') : sql`''`;
}

/** 10.0.0.9 before 10.0.0.10. */
export function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
