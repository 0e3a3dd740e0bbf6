/** Routing tables: enabled instances per service, with ETag and long-poll for watchers. */
import type { FastifyInstance } from 'fastify';
import { parseServiceName } from '../../../domain/services/index.ts';
import { schemas, type ConsoleContext } from '../context.ts';
import { abortOnClose, waitUntil } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';
import { routeFor, routingProjection } from '../../../projections/routing.ts';
import { atParameter, describeAt, pastState } from '../time-travel-reads.ts';
import type { StateHistory } from '../state-history.ts';

const etagOf = (version: number) => `"${version}"`;

export function routingRoutes(ctx: ConsoleContext, history: StateHistory) {
  return async (app: FastifyInstance) => {
    app.get('/api/routes', { config: { permission: 'routes.read' }, schema: { tags: ['routing'], summary: 'Every routing table' } }, async () => ({ routes: ctx.reads.routes() }));

    app.get<{ Params: { name: string }; Querystring: { wait?: number; at?: string } }>('/api/routes/:name', {
      config: { permission: 'routes.read' },
      schema: {
        tags: ['routing'],
        summary: 'Enabled instances of a service. With If-None-Match and ?wait=<s>, waits for the next change (304 when none came); with ?at=POSITION|TIME, as they were then',
        params: { type: 'object', required: ['name'], properties: { name: schemas.serviceName } },
        querystring: { type: 'object', properties: { wait: { type: 'integer', minimum: 0, maximum: 120 }, at: atParameter } },
      },
    }, async (request, reply) => {
      const service = parseServiceName(request.params.name).full;
      if (request.query.at !== undefined) {
        if (request.query.wait) throw new HttpProblem(400, 'invalid', 'at and wait do not go together: the past does not change');
        const past = await pastState(history, request.query.at);
        const route = routeFor(past.routing, service);
        if (!route) throw new HttpProblem(404, 'not_found', `there was no routing table for ${service} at ${describeAt(past.at)}`);
        return { ...route, at: past.at };
      }
      const known = request.headers['if-none-match'];
      const current = () => {
        const r = ctx.reads.route(service);
        if (!r) throw new HttpProblem(404, 'not_found', `no routing table for ${service}: create the service first`);
        return r;
      };
      let route = current();
      if (known === etagOf(route.version) && request.query.wait) {
        const signal = abortOnClose(request);
        route = (await waitUntil(() => {
          const r = current();
          return etagOf(r.version) !== known ? r : undefined;
        }, request.query.wait * 1000, signal, (wake) => ctx.projections.onChange(routingProjection.name, wake))) ?? route;
      }
      reply.header('etag', etagOf(route.version)).header('cache-control', 'no-cache');
      if (known === etagOf(route.version)) return reply.code(304).send();
      return route;
    });
  };
}
