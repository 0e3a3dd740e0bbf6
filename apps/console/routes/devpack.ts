/** Downloads generated from an IDL version: the dev package (a TypeScript project) and caller stubs. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseServiceName } from '../../../domain/services/index.ts';
import { devPackageRoot, stubsRoot } from '../../devpack/index.ts';
import type { GenerationJob } from '../../devpack/generate-job.ts';
import { GenerationError, IsolatedGenerator, type GenerationLimits } from '../../devpack/isolated.ts';
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

/**
 * Generation runs in a worker thread under `limits` (apps/devpack/isolated.ts): whatever IDL a
 * user stored, the console's event loop stays free for everyone else.
 */
export function devPackageRoutes(ctx: ConsoleContext, limits: GenerationLimits = {}) {
  return async (app: FastifyInstance) => {
    const tags = ['idls'];
    const generator = new IsolatedGenerator(limits);
    app.addHook('onClose', () => generator.close());

    /** The stored IDL text of `name` at `tag`, or a 404 that says which part is missing. */
    const idlOf = (name: string, tag: string) => {
      const service = parseServiceName(name).full;
      if (ctx.reads.service(service) === undefined) throw new HttpProblem(404, 'not_found', `service ${service} does not exist`);
      const v = ctx.reads.version('idl', service, tag);
      if (!v) throw new HttpProblem(404, 'not_found', `${service} has no IDL version "${tag}": \`msec idl list ${service}\` shows the tags`);
      return { service, text: v.text };
    };

    const download = async (reply: FastifyReply, root: string, job: GenerationJob) => {
      let tarball: Uint8Array;
      try {
        tarball = await generator.generate(job);
      } catch (err) {
        if (!(err instanceof GenerationError)) throw err;
        if (err.status === 503) ctx.logger.warn({ service: job.service, idl: job.idlTag, problem: err.code }, 'a download was not generated');
        if (err.retryAfterS !== undefined) reply.header('retry-after', String(err.retryAfterS));
        throw new HttpProblem(err.status, err.code, err.message);
      }
      return reply
        .type('application/gzip')
        .header('content-disposition', `attachment; filename="${root}.tar.gz"`)
        .header('cache-control', 'no-store')
        .send(Buffer.from(tarball.buffer, tarball.byteOffset, tarball.byteLength));
    };
    const unavailable = problem('generation took too long (the IDL is too large: split it) or too many run at once (try again)');

    app.get<{ Params: Params; Querystring: Query }>('/api/services/:name/dev-package', {
      config: { permission: 'read' },
      schema: {
        tags, params, querystring,
        summary: 'Download the dev package of an IDL version: a TypeScript project with one handler per RPC (npm install && npm start)',
        response: { 200: tarball, 404: problem('no such service or IDL version'), 422: problem('the IDL defines no service to serve'), 503: unavailable },
      },
    }, async (request, reply) => {
      const tag = request.query.idl;
      const { service, text } = idlOf(request.params.name, tag);
      return download(reply, devPackageRoot(service, tag), { kind: 'dev-package', service, idlTag: tag, idlText: text });
    });

    app.get<{ Params: Params; Querystring: Query }>('/api/services/:name/stubs', {
      config: { permission: 'read' },
      schema: {
        tags, params, querystring,
        summary: 'Download the caller stubs of an IDL version: types and a typed connect(client) for calling the service',
        response: { 200: tarball, 404: problem('no such service or IDL version'), 422: problem('the IDL defines no service to call'), 503: unavailable },
      },
    }, async (request, reply) => {
      const tag = request.query.idl;
      const { service, text } = idlOf(request.params.name, tag);
      return download(reply, stubsRoot(service, tag), { kind: 'stubs', service, idlTag: tag, idlText: text });
    });
  };
}
