/** The audit trail, the raw event log, and projection status / replay. */
import type { FastifyInstance } from 'fastify';
import { callerMay } from '../authorize.ts';
import { schemas, type ConsoleContext } from '../context.ts';
import { abortOnClose, waitUntil } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';
import type { AuditFilter } from '../reads.ts';
import { auditProjection } from '../../../projections/audit.ts';

const isoTime = { type: 'string', format: 'date-time' } as const;

export function historyRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Partial<AuditFilter> }>('/api/audit', {
      // A scoped reader may read the audit of a service stream of its first level.
      config: { permission: 'read', serviceOf: (request) => serviceOfStream((request.query as { stream?: string }).stream) },
      schema: {
        tags: ['audit'], summary: 'Who did what, when, why, to which stream (newest first)',
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            stream: { type: 'string', maxLength: 200 }, actor: { type: 'string', maxLength: 64 }, type: { type: 'string', maxLength: 64 },
            since: isoTime, until: isoTime, before: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    }, async (request) => {
      // Commands answer before the audit has their rows (it is stored in the analytic views): a
      // read waits until it has everything written before the read began, when this process keeps it.
      if (ctx.projections.status().some((p) => p.name === auditProjection.name)) {
        await ctx.projections.waitFor(await ctx.store.headPosition(), ctx.readYourWritesMs, { projections: [auditProjection.name] });
      }
      return { entries: await ctx.reads.audit({ limit: 100, ...request.query }) };
    });

    app.get<{ Querystring: { after?: number; limit?: number; wait?: number } }>('/api/events', {
      config: { permission: 'read' },
      schema: {
        tags: ['events'], summary: 'The global event log after a position; ?wait=<s> waits for new events',
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            after: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            wait: { type: 'integer', minimum: 0, maximum: 120, default: 0 },
          },
        },
      },
    }, async (request) => {
      const { after = 0, limit = 100, wait = 0 } = request.query;
      const mayExec = !!request.caller && callerMay(request.caller, 'agents.exec');
      const read = async () => {
        const events = await ctx.store.readAll(after, limit);
        return events.length ? events : undefined;
      };
      const events = (wait ? await waitUntil(read, wait * 1000, abortOnClose(request)) : await read()) ?? [];
      return {
        head: await ctx.store.headPosition(),
        events: events.map((e) => ({
          position: e.position, id: e.id, type: e.type, stream: e.stream, revision: e.revision, occurredAt: e.occurredAt,
          actor: e.actor, reason: e.reason, correlationId: e.correlationId, data: redact(e.type, e.data as Record<string, unknown>, mayExec),
        })),
      };
    });

    app.get('/api/projections', { config: { permission: 'read' }, schema: { tags: ['projections'] } }, async () => {
      const head = await ctx.store.headPosition();
      return {
        head,
        projections: ctx.projections.status().map((p) => ({ ...p, head, lag: head - p.checkpoint })),
        ...(ctx.components ? { components: await ctx.components() } : {}),
      };
    });

    app.post<{ Params: { name: string }; Body: { reason?: string } | null }>('/api/projections/:name/replay', {
      config: { permission: 'system.admin', serviceOf: () => undefined },
      schema: {
        tags: ['projections'], summary: 'Rebuild a projection from position 0 into a fresh copy, compare, switch',
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } },
        body: { type: ['object', 'null'], properties: { reason: schemas.reason }, additionalProperties: false },
      },
    }, async (request) => {
      const known = ctx.projections.status().map((p) => p.name);
      if (!known.includes(request.params.name)) {
        throw new HttpProblem(404, 'not_found', `no projection "${request.params.name}": known are ${known.join(', ')}`);
      }
      request.log.info({ projection: request.params.name, actor: request.caller!.user }, 'replay requested');
      return ctx.projections.replay(request.params.name);
    });
  };
}

/** `service-Flight.mod_flight` → `Flight.mod_flight`; undefined for other streams. */
function serviceOfStream(stream: string | undefined): string | undefined {
  return stream?.startsWith('service-') ? stream.slice('service-'.length) : undefined;
}

/**
 * Secrets never leave through the event API, even as hashes; what commands ran on hosts and
 * printed (argv, output, the signed command) only to those who may run them (agents.exec).
 */
function redact(type: string, data: Record<string, unknown>, mayExec: boolean): Record<string, unknown> {
  const out = { ...data };
  for (const k of ['passwordHash', 'tokenHash']) if (k in out) out[k] = '(redacted)';
  if (!mayExec && (type === 'AgentCommandIssued' || type === 'AgentCommandCompleted')) {
    for (const k of ['summary', 'output', 'signed', 'error']) if (k in out) out[k] = '(redacted: needs agents.exec)';
  }
  return out;
}
