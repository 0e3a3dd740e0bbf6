/** Login, logout, the browser session, and API tokens for the CLI. */
import type { FastifyInstance } from 'fastify';
import { userDecider } from '../../../domain/users/index.ts';
import { hashToken } from '../../../domain/users/password-hash.ts';
import { streams } from '../../../domain/streams.ts';
import { checkPassword, readCookie, sessionCookie, setSessionCookie } from '../auth.ts';
import { commandAnswer, commandMeta, schemas, secureCookie, type ConsoleContext } from '../context.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { demand } from '../authorize.ts';

/** What any user may do for themselves (not with a route-read token). */
const self = { permission: 'authenticated', serviceOf: () => undefined } as const;

export function sessionRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    app.post<{ Body: { user: string; password: string } }>('/api/login', {
      schema: {
        tags: ['session'], summary: 'Log in; sets an HttpOnly session cookie and returns the CSRF token',
        body: {
          type: 'object', required: ['user', 'password'], additionalProperties: false,
          properties: { user: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 256 } },
        },
      },
    }, async (request, reply) => {
      let user;
      try {
        user = await checkPassword(ctx.users, ctx.throttle, request.body.user, request.body.password, request.ip);
      } catch (e) {
        request.log.info({ user: request.body.user }, 'login refused');
        throw e;
      }
      const session = ctx.keys.issue(user, ctx.clock());
      setSessionCookie(reply, session.cookie, secureCookie(ctx, request));
      request.log.info({ user: user.name }, 'logged in');
      return { user: user.name, csrfToken: session.csrfToken };
    });

    app.post('/api/logout', { config: self, schema: { tags: ['session'], summary: 'End this browser session, on every console and for good' } }, async (request, reply) => {
      const session = ctx.keys.open(readCookie(request, sessionCookie) ?? '', ctx.users, ctx.clock());
      if (session) {
        ctx.keys.end(session, ctx.clock());
        // Durable and shared: every console (and this one after a restart) refuses the session.
        const now = ctx.clock();
        await ctx.commands.execute(streams.user(request.caller!.user), userDecider,
          { type: 'EndSession', name: request.caller!.user, nonce: session.nonce, expiresAtMs: session.expires },
          { commandId: uuidv7(now), actor: request.caller!.user, reason: '', at: now });
      }
      setSessionCookie(reply, '', secureCookie(ctx, request));
      return { ok: true };
    });

    app.get('/api/session', { config: self, schema: { tags: ['session'], summary: 'Who is logged in, and the CSRF token for this session' } }, async (request) => {
      const caller = request.caller!;
      const roles = caller.grants;
      if (caller.via !== 'session') return { user: caller.user, csrfToken: null, via: caller.via, roles };
      const opened = ctx.keys.open(readCookie(request, sessionCookie) ?? '', ctx.users, ctx.clock());
      return { user: caller.user, csrfToken: opened?.csrfToken ?? null, via: caller.via, roles };
    });

    app.post<{ Body: { label?: string; scope?: 'routes'; reason?: string } }>('/api/tokens', {
      config: self,
      schema: {
        tags: ['session'],
        summary: 'Issue an API token for the caller (shown once); scope "routes" makes a route-read token for services and agents',
        body: {
          type: ['object', 'null'], additionalProperties: false,
          properties: { label: { type: 'string', maxLength: 64 }, scope: { type: 'string', enum: ['routes'] }, reason: schemas.reason },
        },
      },
    }, async (request, reply) => {
      const name = request.caller!.user;
      const scope = request.body?.scope ?? '';
      if (scope === 'routes') await demand(request, ctx.refusals!, 'routes.read');
      const meta = commandMeta(ctx, request);
      // Derived from the command id, so a retried request (same Idempotency-Key) answers the same token.
      const { token, tokenId } = ctx.keys.apiToken(name, meta.commandId);
      const outcome = await ctx.commands.execute(streams.user(name), userDecider,
        { type: 'IssueApiToken', name, tokenId, tokenHash: hashToken(token), label: request.body?.label ?? (scope ? 'routes' : 'cli'), scope }, meta);
      return commandAnswer(ctx, reply, outcome, 201, { tokenId, token, scope });
    });

    app.delete<{ Params: { tokenId: string } }>('/api/tokens/:tokenId', {
      config: self,
      schema: { tags: ['session'], params: { type: 'object', properties: { tokenId: { type: 'string', maxLength: 64 } } } },
    }, async (request, reply) => {
      const name = request.caller!.user;
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.user(name), userDecider,
        { type: 'RevokeApiToken', name, tokenId: request.params.tokenId }, commandMeta(ctx, request)));
    });
  };
}
