/** Downloads generated from an IDL version: the dev package (a TypeScript project) and caller stubs. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseServiceName } from '../../../domain/services/index.ts';
import { callerStubs, devPackage, devPackageRoot, msecRoot, stubsRoot, tarGz, tsxVersion, type GeneratedFiles } from '../../devpack/index.ts';
import { schemas, type ConsoleContext } from '../context.ts';
import { HttpProblem, problemSchema } from '../problems.ts';

type Params = { name: string };
type Query = { idl: string };

const params = { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } as const;
const querystring = {
  type: 'object', required: ['idl'], additionalProperties: false,
  properties: { idl: { ...schemas.tag, description: 'the IDL version (tag) to generate from' } },
} as const;
const tarball = { description: 'a .tar.gz holding one folder', content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } } };
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });

export function devPackageRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    const tags = ['idls'];

    /** The stored IDL text of `name` at `tag`, or a 404 that says which part is missing. */
    const idlOf = (name: string, tag: string) => {
      const service = parseServiceName(name).full;
      if (ctx.reads.service(service) === undefined) throw new HttpProblem(404, 'not_found', `service ${service} does not exist`);
      const v = ctx.reads.version('idl', service, tag);
      if (!v) throw new HttpProblem(404, 'not_found', `${service} has no IDL version "${tag}": \`msec idl list ${service}\` shows the tags`);
      return { service, text: v.text };
    };

    const generated = (service: string, tag: string, make: () => GeneratedFiles) => {
      try {
        return make();
      } catch (err) {
        throw new HttpProblem(422, 'unusable-idl', `cannot generate from IDL ${tag} of ${service}: ${(err as Error).message}`);
      }
    };

    const download = (reply: FastifyReply, root: string, files: GeneratedFiles) => reply
      .type('application/gzip')
      .header('content-disposition', `attachment; filename="${root}.tar.gz"`)
      .header('cache-control', 'no-store')
      .send(tarGz(files, { root }));

    app.get<{ Params: Params; Querystring: Query }>('/api/services/:name/dev-package', {
      config: { permission: 'read' },
      schema: {
        tags, params, querystring,
        summary: 'Download the dev package of an IDL version: a TypeScript project with one handler per RPC (npm install && npm start)',
        response: { 200: tarball, 404: problem('no such service or IDL version'), 422: problem('the IDL defines no service to serve') },
      },
    }, async (request, reply) => {
      const tag = request.query.idl;
      const { service, text } = idlOf(request.params.name, tag);
      const files = generated(service, tag, () => devPackage({ service, idlTag: tag, idlText: text, msecRoot, tsxVersion }));
      return download(reply, devPackageRoot(service, tag), files);
    });

    app.get<{ Params: Params; Querystring: Query }>('/api/services/:name/stubs', {
      config: { permission: 'read' },
      schema: {
        tags, params, querystring,
        summary: 'Download the caller stubs of an IDL version: types and a typed connect(client) for calling the service',
        response: { 200: tarball, 404: problem('no such service or IDL version'), 422: problem('the IDL defines no service to call') },
      },
    }, async (request, reply) => {
      const tag = request.query.idl;
      const { service, text } = idlOf(request.params.name, tag);
      const files = generated(service, tag, () => callerStubs({ service, idlTag: tag, idlText: text }));
      return download(reply, stubsRoot(service, tag), files);
    });
  };
}
