/**
 * First start: the first admin user and MSEC's reserved services. Idempotent: every later
 * start finds them and does nothing.
 */
import { randomBytes } from 'node:crypto';
import { userDecider } from '../../domain/users/index.ts';
import { passwordProblem } from '../../domain/users/password-hash.ts';
import { uuidv7 } from '../../domain/event-ids.ts';
import { DomainError } from '../../domain/decider.ts';
import { streams } from '../../domain/streams.ts';
import { executeCommand, type CommandMeta } from './command-bus.ts';
import type { ConsoleContext } from './context.ts';
import { createService } from './service-workflows.ts';
import { newPasswordHash } from './routes/users.ts';

export const reservedServices = ['RESERVED.monitor', 'RESERVED.log'] as const;

export async function bootstrap(ctx: ConsoleContext, givenPassword: string | undefined): Promise<{ adminPassword?: string }> {
  const meta = (what: string): CommandMeta => ({
    commandId: uuidv7(ctx.clock()), actor: 'system', reason: what, at: ctx.clock(),
  });
  let last = 0;
  for (const name of reservedServices) {
    if (ctx.reads.service(name)) continue;
    try {
      const r = await createService(ctx.store, { name, kind: 'odd', lang: '', port: 0, system: true }, meta('required by MSEC: created on first start'));
      last = Math.max(last, r.position);
    } catch (e) {
      // Another console starting on the same store created it first.
      if (!(e instanceof DomainError && e.code === 'conflict')) throw e;
    }
  }
  let adminPassword: string | undefined;
  if (ctx.reads.userCount() === 0) {
    const weak = givenPassword === undefined ? null : passwordProblem(givenPassword);
    if (weak) throw new Error(`MSEC_ADMIN_PASSWORD is not usable: ${weak}`);
    const password = givenPassword ?? randomBytes(12).toString('base64url');
    const r = await executeCommand(ctx.store, streams.user('admin'), userDecider,
      { type: 'CreateUser', name: 'admin', passwordHash: newPasswordHash(password) }, meta('first admin, created on first start'));
    last = Math.max(last, r.position);
    if (givenPassword === undefined) adminPassword = password;
  }
  if (last > 0) await ctx.projections.waitFor(last, 10_000);
  return { adminPassword };
}
