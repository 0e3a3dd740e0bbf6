/**
 * Metric views over HTTP (MSEC's monitor queries): the names and ips of a service for a day, its
 * curves (a day, against another day, N days, per ip), latency percentiles from the buckets, and
 * reporting a value from scripts (`msec metric add|set`).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { clickHouseErrorCode } from '../../../adapters/views/clickhouse-client.ts';
import { parseIpv4, parseSecondLevelName } from '../../../domain/services/names.ts';
import { userMetricName } from '../../../domain/monitoring/metric-names.ts';
import { encodeReport } from '../../../schemas/reports.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import type { ConsoleContext } from '../context.ts';
import { HttpProblem } from '../problems.ts';
import { addDays, dayOf, dayStart, localTz, minutesPerDay } from '../../monitor/days.ts';
import { latencySummaries } from '../../monitor/latency.ts';
import { TooManyCurves, type Curve, type MetricQueries } from '../../monitor/metrics-queries.ts';
import { maxValue } from '../../monitor/metric-report-checks.ts';

/** Curves in one answer (each 1440 values): about 10 MB of JSON at most. */
const maxSeriesPerAnswer = 1000;

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const day = { type: 'string', pattern: '^[0-9]{8}$', description: 'YYYYMMDD (default: today)' } as const;
const tz = { type: 'integer', minimum: -720, maximum: 840, description: 'minutes east of UTC the days are counted in (default: the console\'s)' } as const;
const ip = { type: 'string', maxLength: 15, description: 'one ip\'s view' } as const;

type DayQuery = { day?: string; tz?: number };
type CurveQuery = DayQuery & { name?: string; ip?: string; byIp?: boolean; compare?: string; days?: number };

export interface CurveSeries extends Curve {
  /** The day (YYYYMMDD) the values belong to, and its first minute (epoch seconds). */
  day: string;
  from: number;
}

export function metricRoutes(ctx: ConsoleContext) {
  const queries = (): MetricQueries => {
    const q = ctx.monitor?.queries;
    if (!q) throw new HttpProblem(503, 'unavailable', 'metric views need ClickHouse (MSEC_VIEWS=embedded or http://…); this console keeps its views in SQLite');
    return q;
  };
  /** The second-level service of the URL, which must exist. */
  const serviceOf = (name: string): string => {
    const service = parseSecondLevelName(name).full;
    if (!ctx.reads.service(service)) throw new HttpProblem(404, 'not_found', `service ${service} does not exist: msec service list shows the services`);
    return service;
  };
  const dayAndTz = (q: DayQuery) => {
    const offset = q.tz ?? localTz(ctx.clock());
    const d = q.day ?? dayOf(ctx.clock(), offset);
    return { day: d, tz: offset, from: dayStart(d, offset) };
  };
  const checkIp = (text: string | undefined) => (text === undefined ? undefined : parseIpv4(text));

  return async (app: FastifyInstance) => {
    app.get<{ Params: { name: string }; Querystring: DayQuery }>('/api/services/:name/metrics', {
      config: { permission: 'read' },
      schema: {
        tags: ['metrics'], summary: 'The metric names and ips of a service on a day', params: nameParams,
        querystring: { type: 'object', additionalProperties: false, properties: { day, tz } },
      },
    }, async (request) => {
      const service = serviceOf(request.params.name);
      const { day: d, tz: offset, from } = dayAndTz(request.query);
      const to = from + minutesPerDay * 60;
      const ips = await queries().ips(service, from, to);
      const names = await queries().names(service, from, to, ips);
      return { service, day: d, tz: offset, from, names, ips };
    });

    app.get<{ Params: { name: string }; Querystring: CurveQuery }>('/api/services/:name/metrics/curves', {
      config: { permission: 'read' },
      schema: {
        tags: ['metrics'], summary: 'Per-minute curves of a service: a day, against another day (compare), N days up to a day, per ip',
        params: nameParams,
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 256, description: 'RE2 regular expression on metric names' },
            ip, byIp: { type: 'boolean', description: 'one curve per (name, ip)' },
            day, compare: { ...day, description: 'another day, drawn over `day`' },
            days: { type: 'integer', minimum: 1, maximum: 31, description: 'N days ending at `day`' }, tz,
          },
        },
      },
    }, async (request) => {
      const service = serviceOf(request.params.name);
      const q = request.query;
      if (q.ip !== undefined && q.byIp) throw new HttpProblem(400, 'invalid', 'ask for one ip (ip=) or for every ip (byIp=true), not both');
      if (q.compare !== undefined && (q.days ?? 1) > 1) throw new HttpProblem(400, 'invalid', 'compare= draws one day over another; days= draws several in a row: use one of them');
      const { day: d, tz: offset } = dayAndTz(q);
      const days = q.compare !== undefined ? [d, q.compare] : Array.from({ length: q.days ?? 1 }, (_, i) => addDays(d, i - (q.days ?? 1) + 1));
      const series: CurveSeries[] = [];
      if (q.name !== undefined) await withRegexCheck(() => queries().checkPattern(q.name!), q.name);
      for (const each of days) {
        const from = dayStart(each, offset);
        let curves;
        try {
          curves = await queries().curves({
            service, from, to: from + minutesPerDay * 60, limit: maxSeriesPerAnswer - series.length,
            ...(q.name !== undefined ? { pattern: q.name } : {}), ...(q.ip !== undefined ? { ip: checkIp(q.ip)! } : {}), ...(q.byIp ? { byIp: true } : {}),
          });
        } catch (err) {
          if (!(err instanceof TooManyCurves)) throw err;
          throw new HttpProblem(400, 'invalid', `more than ${maxSeriesPerAnswer} curves (${days.length} day(s) × the names and ips that match): narrow the name filter (name=) or ask for fewer days`);
        }
        for (const c of curves) series.push({ ...c, day: each, from });
      }
      return { service, tz: offset, step: 60, days, series };
    });

    app.get<{ Params: { name: string }; Querystring: DayQuery & { ip?: string } }>('/api/services/:name/metrics/latency', {
      config: { permission: 'read' },
      schema: {
        tags: ['metrics'], summary: 'p50/p90/p99 per minute and for the day, per method and side, from the latency buckets',
        params: nameParams, querystring: { type: 'object', additionalProperties: false, properties: { day, tz, ip } },
      },
    }, async (request) => {
      const service = serviceOf(request.params.name);
      const { day: d, tz: offset, from } = dayAndTz(request.query);
      const ipOnly = checkIp(request.query.ip);
      const curves = await queries().curves({
        service, from, to: from + minutesPerDay * 60, pattern: '^frm\\.(client\\.)?latency\\.le_', ...(ipOnly ? { ip: ipOnly } : {}),
      }).catch((err: unknown) => {
        if (err instanceof TooManyCurves) throw new HttpProblem(400, 'invalid', `${service} has more latency buckets than one answer holds (${err.limit} curves): read them with /metrics/curves and a name filter`);
        throw err;
      });
      return { service, day: d, tz: offset, from, step: 60, methods: latencySummaries(curves) };
    });

    app.post<{ Params: { name: string }; Body: { name: string; value: number; kind?: 'add' | 'set'; ip?: string; reason?: string } }>('/api/services/:name/metrics', {
      config: { permission: 'services.write' },
      schema: {
        tags: ['metrics'], summary: 'Report a value now (scripts, cron jobs): add sums per minute, set is a gauge (first of the minute wins)',
        params: nameParams,
        body: {
          type: 'object', required: ['name', 'value'], additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 }, value: { type: 'number' },
            kind: { type: 'string', enum: ['add', 'set'] }, ip, reason: { type: 'string', maxLength: 500 },
          },
        },
      },
    }, async (request, reply) => {
      const service = serviceOf(request.params.name);
      const { value, kind = 'add' } = request.body;
      const name = userMetricName(request.body.name);
      if (!Number.isFinite(value) || Math.abs(value) > maxValue) throw new HttpProblem(400, 'invalid', `value must be a finite number within ±${maxValue}`);
      const at = ctx.clock();
      const minute = Math.floor(at / 60_000) * 60;
      const ipText = checkIp(request.body.ip) ?? '';
      if (!ctx.bus) throw new HttpProblem(503, 'unavailable', 'this console has no bus to report on');
      // A retried request (same Idempotency-Key, user and service) is the same report: the views
      // store it once. The id binds all three, so one key cannot stand for another's report.
      const key = request.headers['idempotency-key'];
      const reportId = typeof key === 'string' && /^[0-9a-fA-F-]{36}$/.test(key)
        ? `api-${createHash('sha256').update(`${request.caller!.user}\u0000${service}\u0000${key.toLowerCase()}`).digest('hex').slice(0, 40)}`
        : `api-${uuidv7(at)}`;
      await ctx.bus.publish('msec.reports.metrics', [{
        key: service,
        value: encodeReport('msec.reports.metrics', {
          reporter: `console:${request.caller!.user}`, reportId, droppedRecords: 0, droppedMetrics: 0,
          metrics: [{ service, method: '', side: '', attr: name, minute, value, kind, ip: ipText, atMs: kind === 'set' ? at : 0 }],
        }),
      }]);
      return reply.code(202).send({ ok: true, service, name, kind, value, ip: ipText, minute, reportId });
    });
  };
}

/** A name filter ClickHouse cannot compile (RE2 syntax) is the caller's mistake: 400, without the server's text. */
async function withRegexCheck<T>(run: () => Promise<T>, pattern: string | undefined): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (pattern !== undefined && clickHouseErrorCode(err) === 427) {
      throw new HttpProblem(400, 'invalid', `name filter ${JSON.stringify(pattern.slice(0, 100))} is not a regular expression in RE2 syntax (no look-around or back-references), e.g. ^usr\\.orders`);
    }
    throw err;
  }
}
