/**
 * Business logs: the query (MSEC's queryLogReq, without its raw SQL: every filter is checked
 * by domain/logs/query.ts and bound as a literal), the call graph of a request, and the log
 * settings of a service (level, coloring rules, custom fields), which running services poll.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { logSettingsDecider, parseLogQuery, type LogSettingsCommand } from '../../../domain/logs/index.ts';
import { checkRequestId } from '../../../domain/logs/query.ts';
import { levelName } from '../../../domain/logs/levels.ts';
import { parseSecondLevelName } from '../../../domain/services/names.ts';
import { parseIni } from '../../../domain/services/ini.ts';
import { streams } from '../../../domain/streams.ts';
import { buildCallGraph } from '../../../projections/call-graph.ts';
import { logSettingsOf, logSettingsProjection, type LogSettingsView } from '../../../projections/log-settings.ts';
import type { StoredLogRecord } from '../../../adapters/views/clickhouse-logs.ts';
import { configLogSettings } from '../../../domain/logs/config.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { abortOnClose, waitUntil } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';

/** A record as the API answers it. */
export interface LogRecordView {
  id: string;
  time: string;
  timeMs: number;
  level: string;
  service: string;
  requestId: string;
  clientIp: string;
  serverIp: string;
  rpcName: string;
  caller: string;
  coloring: number;
  message: string;
  fields: Record<string, string>;
}

export function recordView(r: StoredLogRecord): LogRecordView {
  return {
    id: r.id, time: new Date(r.timeMs).toISOString(), timeMs: r.timeMs, level: levelName(r.level) ?? String(r.level), service: r.service,
    requestId: r.requestId, clientIp: r.clientIp, serverIp: r.serverIp, rpcName: r.rpcName, caller: r.caller, coloring: r.coloring,
    message: r.message, fields: Object.fromEntries(r.fieldNames.map((name, i) => [name, r.fieldValues[i] ?? ''])),
  };
}

const text = (max: number) => ({ type: 'string', maxLength: max }) as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } as const;
const withReason = (properties: Record<string, unknown>, required: string[]) =>
  ({ type: 'object', required, additionalProperties: false, properties: { ...properties, reason: schemas.reason } }) as const;

interface LogsQuery {
  service?: string; level?: string; since?: string; until?: string; requestId?: string; ip?: string; field?: string[]; grep?: string; limit?: number;
}

export function logRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    const store = () => {
      if (!ctx.logs) {
        throw new HttpProblem(503, 'unavailable', 'business logs are kept in ClickHouse and this console runs with SQLite views: start it with MSEC_VIEWS=embedded (chdb) or http://host:8123');
      }
      return ctx.logs;
    };
    const settingsView = () => ctx.logSettings?.() ?? ({ services: [] } satisfies LogSettingsView);
    const existing = (name: string) => {
      const service = parseSecondLevelName(name).full;
      if (!ctx.reads.service(service)) throw new HttpProblem(404, 'not_found', `service ${service} does not exist: create it first (msec service create ${service})`);
      return service;
    };

    app.get<{ Querystring: LogsQuery }>('/api/logs', {
      // A request id alone searches every service: that needs read on all of them.
      config: { permission: 'read', serviceOf: (request) => (request.query as LogsQuery).service || undefined },
      schema: {
        tags: ['logs'], summary: 'Business log records of a service or a request (newest `limit`, oldest first)',
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            service: text(64), level: text(16), since: text(40), until: text(40), requestId: text(24), ip: text(45),
            field: { type: 'array', maxItems: 8, items: text(1100) }, grep: text(200), limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    }, async (request) => {
      const q = request.query;
      const service = q.service ? parseSecondLevelName(q.service).full : undefined;
      const declared = service ? new Map(logSettingsOf(settingsView(), service).fields.map((f) => [f.name, f.type])) : undefined;
      const query = parseLogQuery({ ...q, service, fields: q.field }, ctx.clock(), declared);
      const answer = await store().query(query);
      return {
        records: answer.records.map(recordView), truncated: answer.truncated, dropped: answer.dropped,
        since: new Date(query.sinceMs).toISOString(), until: new Date(query.untilMs).toISOString(),
      };
    });

    app.get<{ Params: { requestId: string } }>('/api/callgraph/:requestId', {
      config: { permission: 'read', serviceOf: () => undefined },
      schema: { tags: ['logs'], summary: 'The call graph of a request: services (instance, methods, latency, error) and the calls in order', params: { type: 'object', required: ['requestId'], properties: { requestId: text(24) } } },
    }, async (request) => {
      const requestId = checkRequestId(request.params.requestId);
      const [edges, summaries] = await Promise.all([store().requestEdges(requestId), store().requestSummaries(requestId)]);
      if (edges.length === 0 && summaries.length === 0) {
        throw new HttpProblem(404, 'not_found', `no call and no log record of request ${requestId} is stored: check the id (reports arrive within seconds; older than the retention they are gone)`);
      }
      return buildCallGraph(requestId, edges, summaries);
    });

    app.get<{ Params: { name: string }; Querystring: { wait?: number } }>('/api/services/:name/log-settings', {
      // Running services read them with a route-read token, as they read their routes.
      config: { permission: 'routes.read' },
      schema: {
        tags: ['logs'], summary: 'Log level, coloring rules and custom fields of a service; with If-None-Match and ?wait=<s>, waits for a change',
        params: nameParams, querystring: { type: 'object', additionalProperties: false, properties: { wait: { type: 'integer', minimum: 0, maximum: 120 } } },
      },
    }, async (request, reply) => {
      const service = existing(request.params.name);
      const etag = (revision: number) => `"${revision}"`;
      const known = request.headers['if-none-match'];
      let settings = logSettingsOf(settingsView(), service);
      if (known === etag(settings.revision) && request.query.wait) {
        settings = (await waitUntil(() => {
          const now = logSettingsOf(settingsView(), service);
          return etag(now.revision) !== known ? now : undefined;
        }, request.query.wait * 1000, abortOnClose(request), (wake) => ctx.projections.onChange(logSettingsProjection.name, wake))) ?? settings;
      }
      reply.header('etag', etag(settings.revision)).header('cache-control', 'no-cache');
      if (known === etag(settings.revision)) return reply.code(304).send();
      return { ...settings, config: newestConfig(ctx, service) };
    });

    const command = async (request: FastifyRequest, reply: Parameters<typeof commandAnswer>[1], make: (service: string) => LogSettingsCommand, status = 200) => {
      const service = existing((request.params as { name: string }).name);
      const outcome = await ctx.commands.execute(streams.logs(service), logSettingsDecider, make(service), commandMeta(ctx, request));
      return commandAnswer(ctx, reply, outcome, status);
    };

    app.put<{ Params: { name: string }; Body: { level: string } }>('/api/services/:name/log-settings/level', {
      config: { permission: 'services.write' },
      schema: { tags: ['logs'], summary: "Set the level records are kept at ('' = the config version's)", params: nameParams, body: withReason({ level: text(16) }, ['level']) },
    }, (request, reply) => command(request, reply, (service) => ({ type: 'SetLogLevel', service, level: request.body.level })));

    app.post<{ Params: { name: string }; Body: { name: string; type: string } }>('/api/services/:name/log-settings/fields', {
      config: { permission: 'services.write' },
      schema: { tags: ['logs'], summary: 'Declare a custom field (int or string)', params: nameParams, body: withReason({ name: text(64), type: text(16) }, ['name', 'type']) },
    }, (request, reply) => command(request, reply, (service) => ({ type: 'AddLogField', service, name: request.body.name, fieldType: request.body.type }), 201));

    app.delete<{ Params: { name: string; field: string } }>('/api/services/:name/log-settings/fields/:field', {
      config: { permission: 'services.write' },
      schema: {
        tags: ['logs'], summary: 'Delete a custom field', params: { type: 'object', required: ['name', 'field'], properties: { name: schemas.serviceName, field: text(64) } },
        body: { type: ['object', 'null'], properties: { reason: schemas.reason }, additionalProperties: false },
      },
    }, (request, reply) => command(request, reply, (service) => ({ type: 'DeleteLogField', service, name: request.params.field })));

    app.post<{ Params: { name: string }; Body: { field: string; value: string } }>('/api/services/:name/log-settings/color-rules', {
      config: { permission: 'services.write' },
      schema: { tags: ['logs'], summary: 'Add a coloring rule: requests whose header or field equals the value are logged at every level', params: nameParams, body: withReason({ field: text(64), value: text(1024) }, ['field', 'value']) },
    }, (request, reply) => command(request, reply, (service) => ({ type: 'AddColorRule', service, field: request.body.field, value: request.body.value }), 201));

    app.delete<{ Params: { name: string }; Body: { field: string; value: string } }>('/api/services/:name/log-settings/color-rules', {
      config: { permission: 'services.write' },
      schema: { tags: ['logs'], summary: 'Remove a coloring rule', params: nameParams, body: withReason({ field: text(64), value: text(1024) }, ['field', 'value']) },
    }, (request, reply) => command(request, reply, (service) => ({ type: 'RemoveColorRule', service, field: request.body.field, value: request.body.value })));
  };
}

/** What the newest config version says ([LOG] Level, [COLOR] pairs): instances running it apply that too. */
function newestConfig(ctx: ConsoleContext, service: string): { tag: string; level: string | null; colorRules: { field: string; value: string }[] } | null {
  const versions = ctx.reads.versions('config', service) as { tag: string }[] | undefined;
  const tag = versions?.at(-1)?.tag;
  if (!tag) return null;
  const text = ctx.reads.version('config', service, tag)?.text;
  if (text === undefined) return null;
  try {
    const { level, rules } = configLogSettings(parseIni(text));
    return { tag, level: level ?? null, colorRules: rules };
  } catch {
    return { tag, level: null, colorRules: [] };
  }
}
