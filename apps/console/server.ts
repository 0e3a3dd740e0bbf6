/** The console's HTTP server: JSON API under /api, OpenAPI at /docs, the web UI at /. */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { authenticate } from './auth.ts';
import { demand, RefusalLog, serviceParam } from './authorize.ts';
import type { ConsoleContext } from './context.ts';
import { HttpProblem, problemHandler, routerProblem, sendProblem } from './problems.ts';
import { loadStaticFiles } from './static-files.ts';
import { sessionRoutes } from './routes/session.ts';
import { userRoutes } from './routes/users.ts';
import { serviceRoutes } from './routes/services.ts';
import { versionRoutes } from './routes/versions.ts';
import { routingRoutes } from './routes/routing.ts';
import { StateHistory } from './state-history.ts';
import { historyRoutes } from './routes/history.ts';
import { topicRoutes } from './routes/topics.ts';
import { devPackageRoutes } from './routes/devpack.ts';
import { agentRoutes } from './routes/agents.ts';
import { agentChannelRoutes, agentPublicPaths } from './routes/agent-channel.ts';
import { logRoutes } from './routes/logs.ts';
import { metricRoutes } from './routes/metrics.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { releaseRoutes } from './routes/releases.ts';
import { kvRoutes } from './routes/kv.ts';

/** How long a stopping console lets requests under way finish before it cuts their connections. */
const defaultDrainMs = 10_000;

/**
 * A stopping server waits for its connections to end, and Node closes only those idle at that
 * moment. A keep-alive connection whose request (a long poll answered on closing) ends a moment
 * later would hold the stop for the keep-alive timeout (72 s); one that never sends a byte (a
 * silent client, a TCP health check) for good, since Node stops checking header timeouts once
 * the server closes. So connections are closed as soon as they are idle, and whatever is still
 * open after `drainMs` is cut, and named in the log.
 */
function drainConnections(server: Server, logger: ConsoleContext['logger'], drainMs: number, busy: () => string[], sockets: ReadonlySet<Socket>): void {
  const reap = setInterval(() => server.closeIdleConnections(), 100);
  const cut = setTimeout(() => {
    const open = [...sockets].filter((s) => !s.destroyed);
    if (open.length > 0) {
      const requests = busy();
      const peers = open.map((s) => `${s.remoteAddress}:${s.remotePort} (${s.bytesRead} B in, ${s.bytesWritten} B out)`);
      logger.warn({ connections: open.length, requests, peers }, `stopping: ${open.length} connection(s) still busy after ${drainMs / 1000} s are cut`
        + (requests.length ? `: ${requests.join(', ')}` : ''));
    }
    server.closeAllConnections();
  }, drainMs);
  reap.unref();
  cut.unref();
  server.once('close', () => {
    clearInterval(reap);
    clearTimeout(cut);
  });
}

/** Bodies carry at most a 1 MiB config or IDL text, JSON-escaped. */
export const bodyLimit = 2 * 1024 * 1024;

const publicPaths = new Set(['/api/login', '/healthz', ...agentPublicPaths]);

export async function buildConsole(ctx: ConsoleContext): Promise<FastifyInstance> {
  ctx.refusals ??= new RefusalLog(ctx.store, ctx.logger, ctx.clock);
  const refusals = ctx.refusals;
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit,
    // Behind a proxy: trust its X-Forwarded-For/-Proto only when told which proxies to trust,
    // else anyone could pick the address the password throttle counts, or fake https.
    ...(ctx.trustProxy !== undefined ? { trustProxy: ctx.trustProxy } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // What the router refuses before any route runs (a stray %, a path name past 100
    // characters) is a problem too, like every other refusal.
    frameworkErrors: routerProblem,
  });
  app.setErrorHandler(problemHandler);
  const closing = new AbortController();
  app.decorate('closing', closing.signal);
  app.addHook('preClose', async () => {
    closing.abort();
    drainConnections(app.server, ctx.logger, ctx.drainMs ?? defaultDrainMs, () => [...underWay.values()], sockets);
  });
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Requests under way, for the log of a stop that has to cut them.
  const underWay = new Map<object, string>();
  app.addHook('onRequest', async (request) => {
    underWay.set(request, `${request.method} ${request.url.split('?')[0]}`);
    request.raw.once('close', () => underWay.delete(request));
  });
  app.addHook('onResponse', async (request) => {
    underWay.delete(request);
  });
  // Mutations without parameters (enable, delete, …) take an optional body: an empty JSON body is no body.
  app.removeContentTypeParser('application/json');
  app.removeContentTypeParser('text/plain'); // the API speaks JSON only: anything else is 415
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text, refusePrototypeKeys));
    } catch (e) {
      done(new HttpProblem(400, 'invalid', `malformed JSON body: ${(e as Error).message}`), undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'msec console API', version: '1', description: 'Event-sourced control plane of msec. Errors are application/problem+json.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' },
          session: { type: 'apiKey', in: 'cookie', name: 'msec_session' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Decided on the matched route, never on the raw URL: "/%61pi/users" or an absolute-form
  // request target reach the same handlers as "/api/users" and must meet the same check.
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/api/') || publicPaths.has(route)) return;
    request.caller = await authenticate(request, ctx.users, ctx.keys, ctx.throttle, ctx.agents?.verifier);
  });
  // Authorization runs once params and body are parsed, so a scoped permission can see which
  // service the request is about. A route that declares no permission is refused (fail closed).
  app.addHook('preHandler', async (request) => {
    if (!request.caller) return;
    const config = request.routeOptions.config;
    if (!config.permission) {
      throw new HttpProblem(403, 'forbidden', `route ${request.method} ${request.routeOptions.url} declares no permission: nobody may use it`);
    }
    await demand(request, refusals, config.permission, (config.serviceOf ?? serviceParam)(request));
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  await app.register(sessionRoutes(ctx));
  await app.register(userRoutes(ctx));
  // Time travel (?at= on a service and its routes): snapshots shared by both routes.
  const history = new StateHistory({ store: ctx.store, now: ctx.clock });
  await app.register(serviceRoutes(ctx, history));
  await app.register(versionRoutes(ctx));
  await app.register(routingRoutes(ctx, history));
  await app.register(historyRoutes(ctx));
  if (ctx.bus) await app.register(topicRoutes(ctx, ctx.bus));
  await app.register(devPackageRoutes(ctx));
  if (ctx.agents) {
    await app.register(agentRoutes(ctx, ctx.agents));
    await app.register(agentChannelRoutes(ctx, ctx.agents));
    await app.register(releaseRoutes(ctx, ctx.agents, ctx.releases));
    await app.register(kvRoutes(ctx, ctx.kv));
  }
  await app.register(logRoutes(ctx));
  await app.register(metricRoutes(ctx));
  await app.register(alarmRoutes(ctx));

  const files = loadStaticFiles();
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path.startsWith('/api/') || request.method !== 'GET') {
      return sendProblem(reply, 404, 'not_found', `no route ${request.method} ${path}: see /docs for the API`);
    }
    const file = files.get(path) ?? files.get('/index.html');
    if (!file) return sendProblem(reply, 404, 'not_found', 'the web UI is not installed');
    return reply
      .type(file.type)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(file.body);
  });
  return app as unknown as FastifyInstance;
}

/** Keys that could poison an object's prototype are refused outright. */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor') throw new Error(`key "${key}" is not allowed`);
  return value;
}
