/** Console users: list, add, remove, change password, grant and revoke roles. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { roles, type Grant, type Role } from '../../../domain/access/roles.ts';
import { userDecider } from '../../../domain/users/index.ts';
import { hashPassword, passwordProblem } from '../../../domain/users/password-hash.ts';
import { streams } from '../../../domain/streams.ts';
import { checkPassword } from '../auth.ts';
import { demand } from '../authorize.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { HttpProblem } from '../problems.ts';
import { createUser, onAccessStream, removeUser } from '../user-workflows.ts';

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } } as const;
const grantBody = {
  type: 'object', required: ['role'], additionalProperties: false,
  properties: {
    role: { type: 'string', enum: [...roles] },
    service: { type: 'string', maxLength: 32, description: 'a first-level service: the role holds there only' },
    reason: schemas.reason,
  },
} as const;
/** User routes name a user, not a service: no service scope applies. */
const userAdmin = { permission: 'users.admin', serviceOf: () => undefined } as const;

export function newPasswordHash(password: string): string {
  const problem = passwordProblem(password);
  if (problem) throw new HttpProblem(400, 'invalid', problem);
  return hashPassword(password, randomBytes(16));
}

export function userRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    app.get('/api/users', { config: userAdmin, schema: { tags: ['users'] } }, async () => ({ users: ctx.reads.users() }));

    app.post<{ Body: { name: string; password: string; role?: Role; service?: string; reason?: string } }>('/api/users', {
      config: userAdmin,
      schema: {
        tags: ['users'], summary: 'Add a user with one role (default viewer), on every service or on one first-level service',
        body: {
          type: 'object', required: ['name', 'password'], additionalProperties: false,
          properties: {
            name: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 256 },
            role: grantBody.properties.role, service: grantBody.properties.service, reason: schemas.reason,
          },
        },
      },
    }, async (request, reply) => {
      const { name, password, role = 'viewer', service = '' } = request.body;
      const grants: Grant[] = [{ role, service }];
      const outcome = await createUser(ctx.commands, { name, passwordHash: newPasswordHash(password), grants }, commandMeta(ctx, request));
      return commandAnswer(ctx, reply, outcome, 201);
    });

    app.delete<{ Params: { name: string } }>('/api/users/:name', {
      config: userAdmin,
      schema: { tags: ['users'], summary: 'Remove a user (not yourself, not the last admin)', params: nameParams, body: { type: ['object', 'null'], properties: { reason: schemas.reason } } },
    }, async (request, reply) => {
      const outcome = await removeUser(ctx.commands, request.params.name, request.caller!.user, commandMeta(ctx, request));
      return commandAnswer(ctx, reply, outcome);
    });

    app.post<{ Params: { name: string }; Body: { role: Role; service?: string; reason?: string } }>('/api/users/:name/roles', {
      config: userAdmin,
      schema: { tags: ['users'], summary: 'Grant a role, on every service or on one first-level service', params: nameParams, body: grantBody },
    }, async (request, reply) => {
      const { name } = request.params;
      if (!ctx.users.findUser(name)) throw new HttpProblem(404, 'not_found', `user ${name} does not exist: add it first (msec user add ${name})`);
      const { role, service = '' } = request.body;
      return commandAnswer(ctx, reply, await onAccessStream(ctx.commands, { type: 'GrantRole', user: name, role, service }, commandMeta(ctx, request)));
    });

    app.delete<{ Params: { name: string }; Body: { role: Role; service?: string; reason?: string } }>('/api/users/:name/roles', {
      config: userAdmin,
      schema: { tags: ['users'], summary: 'Revoke a role (never the last admin)', params: nameParams, body: grantBody },
    }, async (request, reply) => {
      const { role, service = '' } = request.body;
      return commandAnswer(ctx, reply, await onAccessStream(ctx.commands,
        { type: 'RevokeRole', user: request.params.name, role, service, actor: request.caller!.user }, commandMeta(ctx, request)));
    });

    app.put<{ Params: { name: string }; Body: { password: string; oldPassword?: string; reason?: string } }>('/api/users/:name/password', {
      // Your own password with the current one; anyone else's needs users.admin (checked below).
      config: { permission: 'authenticated', serviceOf: () => undefined },
      schema: {
        tags: ['users'], params: nameParams,
        body: {
          type: 'object', required: ['password'], additionalProperties: false,
          properties: { password: { type: 'string', maxLength: 256 }, oldPassword: { type: 'string', maxLength: 256 }, reason: schemas.reason },
        },
      },
    }, async (request, reply) => {
      const { name } = request.params;
      if (name === request.caller!.user) {
        if (request.body.oldPassword === undefined) {
          throw new HttpProblem(403, 'forbidden', 'give your current password (oldPassword) to change your own password');
        }
        // Throttled like a login: a stolen session must not become a password oracle.
        await checkPassword(ctx.users, ctx.throttle, name, request.body.oldPassword, request.ip).catch((e: unknown) => {
          if (e instanceof HttpProblem && e.status === 401) throw new HttpProblem(403, 'forbidden', 'the current password (oldPassword) is wrong');
          throw e;
        });
      } else {
        await demand(request, ctx.refusals!, 'users.admin');
      }
      return commandAnswer(ctx, reply, await ctx.commands.execute(streams.user(name), userDecider,
        { type: 'ChangePassword', name, passwordHash: newPasswordHash(request.body.password) }, commandMeta(ctx, request)));
    });
  };
}
