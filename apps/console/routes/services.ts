/** The service tree and the hosts (instances) of a service. */
import type { FastifyInstance } from 'fastify';
import { parseHostAddress, parseServiceName, serviceDecider } from '../../../domain/services/index.ts';
import type { HostProtocol, ServiceKind } from '../../../domain/services/events.ts';
import { streams } from '../../../domain/streams.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { createService, deleteService } from '../service-workflows.ts';
import { HttpProblem } from '../problems.ts';
import { serviceDetail } from '../../../projections/catalog.ts';
import { atParameter, describeAt, pastState } from '../time-travel-reads.ts';
import type { StateHistory } from '../state-history.ts';
import { scopesAllowing } from '../../../domain/access/roles.ts';

type NameParams = { name: string };
type HostParams = { name: string; addr: string };

const nameParams = { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } as const;
const hostParams = { type: 'object', required: ['name', 'addr'], properties: { name: schemas.serviceName, addr: schemas.address } } as const;
const reasonOnly = { type: ['object', 'null'], properties: { reason: schemas.reason }, additionalProperties: false } as const;

export function serviceRoutes(ctx: ConsoleContext, history: StateHistory) {
  return async (app: FastifyInstance) => {
    // Everyone sees the part of the tree they may read: all of it, or their first levels.
    app.get('/api/services', { config: { permission: 'authenticated' }, schema: { tags: ['services'], summary: 'The service tree (the part the caller may read)' } }, async (request) => {
      const { all, services } = scopesAllowing(request.caller!.grants, 'read');
      const tree = ctx.reads.serviceTree() as { name: string }[];
      return { services: all ? tree : tree.filter((first) => services.includes(first.name)) };
    });

    app.post<{ Body: { name: string; kind?: ServiceKind; lang?: string; port?: number; reason?: string } }>('/api/services', {
      config: { permission: 'services.write', serviceOf: (request) => (request.body as { name?: string } | undefined)?.name },
      schema: {
        tags: ['services'], summary: 'Create a service (`First` or `First.Second`; the first level is created when missing)',
        body: {
          type: 'object', required: ['name'], additionalProperties: false,
          properties: {
            name: schemas.serviceName, kind: { type: 'string', enum: ['standard', 'odd'] },
            lang: { type: 'string', maxLength: 32 }, port: { type: 'integer', minimum: 0, maximum: 65535 }, reason: schemas.reason,
          },
        },
      },
    }, async (request, reply) => {
      const b = request.body;
      const kind = b.kind ?? 'standard';
      const outcome = await createService(ctx.commands, {
        name: b.name, kind,
        lang: b.lang ?? (kind === 'odd' ? '' : 'typescript'),
        port: b.port ?? (kind === 'odd' ? 0 : 7963),
      }, commandMeta(ctx, request));
      return commandAnswer(ctx, reply, outcome, 201, { service: parseServiceName(b.name).full });
    });

    app.get<{ Params: NameParams; Querystring: { at?: string } }>('/api/services/:name', {
      config: { permission: 'read' },
      schema: {
        tags: ['services'], summary: 'A service; with ?at=POSITION|TIME, as it was then (folded from the log)', params: nameParams,
        querystring: { type: 'object', additionalProperties: false, properties: { at: atParameter } },
      },
    }, async (request) => {
      const name = parseServiceName(request.params.name).full;
      if (request.query.at !== undefined) {
        const past = await pastState(history, request.query.at);
        const found = serviceDetail(past.catalog, name);
        if (!found) throw new HttpProblem(404, 'not_found', `service ${request.params.name} did not exist at ${describeAt(past.at)}`);
        return { ...found, at: past.at };
      }
      const found = ctx.reads.service(name);
      if (!found) throw new HttpProblem(404, 'not_found', `service ${request.params.name} does not exist`);
      return found;
    });

    app.delete<{ Params: NameParams }>('/api/services/:name', { config: { permission: 'services.write' }, schema: { tags: ['services'], params: nameParams, body: reasonOnly } }, async (request, reply) =>
      commandAnswer(ctx, reply, await deleteService(ctx.commands, request.params.name, commandMeta(ctx, request))));

    app.post<{ Params: NameParams; Body: { ip: string; port: number; protocol?: HostProtocol; weight?: number; reason?: string } }>(
      '/api/services/:name/hosts', {
        config: { permission: 'services.write' },
        schema: {
          tags: ['hosts'], summary: 'Add a host (ip:port) to a service; it starts disabled', params: nameParams,
          body: {
            type: 'object', required: ['ip', 'port'], additionalProperties: false,
            properties: {
              ip: { type: 'string', maxLength: 15 }, port: { type: 'integer' },
              protocol: { type: 'string', enum: ['udp', 'tcp', 'both'] }, weight: { type: 'integer' }, reason: schemas.reason,
            },
          },
        },
      }, async (request, reply) => {
        const service = parseServiceName(request.params.name).full;
        const { ip, port, protocol, weight } = request.body;
        const outcome = await ctx.commands.execute(streams.service(service), serviceDecider,
          { type: 'AddHost', service, ip, port, protocol: protocol ?? 'tcp', weight }, commandMeta(ctx, request));
        return commandAnswer(ctx, reply, outcome, 201);
      });

    const hostAction = (action: 'enable' | 'disable', type: 'EnableHost' | 'DisableHost', summary: string) =>
      app.post<{ Params: HostParams }>(`/api/services/:name/hosts/:addr/${action}`, {
        config: { permission: 'services.write' },
        schema: { tags: ['hosts'], summary, params: hostParams, body: reasonOnly },
      }, async (request, reply) => {
        const service = parseServiceName(request.params.name).full;
        const { ip, port } = parseHostAddress(request.params.addr);
        return commandAnswer(ctx, reply, await ctx.commands.execute(streams.service(service), serviceDecider,
          { type, service, ip, port }, commandMeta(ctx, request)));
      });
    hostAction('enable', 'EnableHost', 'Scale out: the host enters the routing table');
    hostAction('disable', 'DisableHost', 'Scale in: the host leaves the routing table');

    app.put<{ Params: HostParams; Body: { weight: number; reason?: string } }>('/api/services/:name/hosts/:addr/weight', {
      config: { permission: 'services.write' },
      schema: {
        tags: ['hosts'], summary: 'Set the static weight of a host', params: hostParams,
        body: { type: 'object', required: ['weight'], additionalProperties: false, properties: { weight: { type: 'integer' }, reason: schemas.reason } },
      },
    }, async (request, reply) => {
      const service = parseServiceName(request.params.name).full;
      const { ip, port } = parseHostAddress(request.params.addr);
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.service(service), serviceDecider,
        { type: 'SetHostWeight', service, ip, port, weight: request.body.weight }, commandMeta(ctx, request)));
    });

    app.delete<{ Params: HostParams }>('/api/services/:name/hosts/:addr', {
      config: { permission: 'services.write' },
      schema: { tags: ['hosts'], summary: 'Remove a disabled host', params: hostParams, body: reasonOnly },
    }, async (request, reply) => {
      const service = parseServiceName(request.params.name).full;
      const { ip, port } = parseHostAddress(request.params.addr);
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.service(service), serviceDecider,
        { type: 'RemoveHost', service, ip, port }, commandMeta(ctx, request)));
    });
  };
}
