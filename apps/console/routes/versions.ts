/** Config versions (INI) and IDL versions (.proto) of a service: one shape, two kinds. */
import type { FastifyInstance } from 'fastify';
import { parseServiceName, serviceDecider } from '../../../domain/services/index.ts';
import { streams } from '../../../domain/streams.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import type { VersionKind } from '../reads.ts';
import { HttpProblem } from '../problems.ts';

type TagParams = { name: string; tag: string };

const kinds: { kind: VersionKind; path: string; label: string; add: 'AddConfigVersion' | 'AddIdlVersion'; del: 'DeleteConfigVersion' | 'DeleteIdlVersion'; ext: string; mime: string }[] = [
  { kind: 'config', path: 'configs', label: 'config', add: 'AddConfigVersion', del: 'DeleteConfigVersion', ext: 'ini', mime: 'text/plain; charset=utf-8' },
  { kind: 'idl', path: 'idls', label: 'IDL', add: 'AddIdlVersion', del: 'DeleteIdlVersion', ext: 'proto', mime: 'text/plain; charset=utf-8' },
];

const nameParams = { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } as const;
const tagParams = { type: 'object', required: ['name', 'tag'], properties: { name: schemas.serviceName, tag: schemas.tag } } as const;

export function versionRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    for (const k of kinds) {
      const tags = [k.path];
      const found = (name: string, tag: string) => {
        const service = parseServiceName(name).full;
        const v = ctx.reads.version(k.kind, service, tag);
        if (!v) throw new HttpProblem(404, 'not_found', `${service} has no ${k.label} version "${tag}": \`msec ${k.kind} list ${service}\` shows the tags`);
        return { service, v };
      };

      app.get<{ Params: { name: string } }>(`/api/services/:name/${k.path}`, { config: { permission: 'read' }, schema: { tags, params: nameParams } }, async (request) => {
        const service = parseServiceName(request.params.name).full;
        const versions = ctx.reads.versions(k.kind, service);
        if (!versions) throw new HttpProblem(404, 'not_found', `service ${service} does not exist`);
        return { versions };
      });

      app.put<{ Params: TagParams; Body: { text: string; memo?: string; reason?: string } }>(`/api/services/:name/${k.path}/:tag`, {
        config: { permission: 'services.write' },
        schema: {
          tags, summary: `Save a new ${k.label} version under a tag (tags are unique per service)`, params: tagParams,
          body: {
            type: 'object', required: ['text'], additionalProperties: false,
            properties: { text: { type: 'string', maxLength: 1024 * 1024 }, memo: { type: 'string', maxLength: 140 }, reason: schemas.reason },
          },
        },
      }, async (request, reply) => {
        const service = parseServiceName(request.params.name).full;
        const outcome = await ctx.commands.execute(streams.service(service), serviceDecider,
          { type: k.add, service, tag: request.params.tag, text: request.body.text, memo: request.body.memo ?? '' }, commandMeta(ctx, request));
        return commandAnswer(ctx, reply, outcome, 201);
      });

      app.get<{ Params: TagParams }>(`/api/services/:name/${k.path}/:tag`, { config: { permission: 'read' }, schema: { tags, params: tagParams } }, async (request) =>
        found(request.params.name, request.params.tag).v);

      app.get<{ Params: TagParams }>(`/api/services/:name/${k.path}/:tag/raw`, { config: { permission: 'read' }, schema: { tags, params: tagParams } }, async (request, reply) => {
        const { service, v } = found(request.params.name, request.params.tag);
        return reply
          .type(k.mime)
          .header('content-disposition', `attachment; filename="${service}.${request.params.tag}.${k.ext}"`)
          .send(v.text);
      });

      app.delete<{ Params: TagParams }>(`/api/services/:name/${k.path}/:tag`, {
        config: { permission: 'services.write' },
        schema: { tags, params: tagParams, body: { type: ['object', 'null'], properties: { reason: schemas.reason }, additionalProperties: false } },
      }, async (request, reply) => {
        const service = parseServiceName(request.params.name).full;
        return commandAnswer(ctx, reply, await ctx.commands.execute(streams.service(service), serviceDecider,
          { type: k.del, service, tag: request.params.tag }, commandMeta(ctx, request)));
      });
    }
  };
}
