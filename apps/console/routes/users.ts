/** Console users: list, add, remove, change password. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { userDecider } from '../../../domain/users/index.ts';
import { hashPassword, passwordProblem, verifyPasswordAsync } from '../../../domain/users/password-hash.ts';
import { streams } from '../../../domain/streams.ts';
import { executeCommand } from '../command-bus.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { HttpProblem } from '../problems.ts';

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } } as const;

export function newPasswordHash(password: string): string {
  const problem = passwordProblem(password);
  if (problem) throw new HttpProblem(400, 'invalid', problem);
  return hashPassword(password, randomBytes(16));
}

export function userRoutes(ctx: ConsoleContext) {
  return async (app: FastifyInstance) => {
    app.get('/api/users', { schema: { tags: ['users'] } }, async () => ({ users: ctx.reads.users() }));

    app.post<{ Body: { name: string; password: string; reason?: string } }>('/api/users', {
      schema: {
        tags: ['users'],
        body: {
          type: 'object', required: ['name', 'password'], additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 256 }, reason: schemas.reason },
        },
      },
    }, async (request, reply) => {
      const { name, password } = request.body;
      const outcome = await executeCommand(ctx.store, streams.user(name), userDecider,
        { type: 'CreateUser', name, passwordHash: newPasswordHash(password) }, commandMeta(ctx, request));
      return commandAnswer(ctx, reply, outcome, 201);
    });

    app.delete<{ Params: { name: string } }>('/api/users/:name', {
      schema: { tags: ['users'], params: nameParams, body: { type: ['object', 'null'], properties: { reason: schemas.reason } } },
    }, async (request, reply) => {
      const { name } = request.params;
      if (ctx.reads.userCount() <= 1 && ctx.users.findUser(name)) {
        throw new HttpProblem(409, 'conflict', 'cannot remove the last user: add another user first');
      }
      return commandAnswer(ctx, reply, await executeCommand(ctx.store, streams.user(name), userDecider,
        { type: 'RemoveUser', name, actor: request.caller!.user }, commandMeta(ctx, request)));
    });

    app.put<{ Params: { name: string }; Body: { password: string; oldPassword?: string; reason?: string } }>('/api/users/:name/password', {
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
        const me = ctx.users.findUser(name);
        if (!me || !(await verifyPasswordAsync(request.body.oldPassword ?? '', me.passwordHash))) {
          throw new HttpProblem(403, 'forbidden', 'give your current password (oldPassword) to change your own password');
        }
      }
      return commandAnswer(ctx, reply, await executeCommand(ctx.store, streams.user(name), userDecider,
        { type: 'ChangePassword', name, passwordHash: newPasswordHash(request.body.password) }, commandMeta(ctx, request)));
    });
  };
}
