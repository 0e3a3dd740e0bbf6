/**
 * Every start: MSEC's reserved services, access control, and on the very first start the
 * first admin. Idempotent, and safe when several consoles start at once on one store: each
 * step is decided on its stream with optimistic concurrency, and the console that loses a
 * race finds the winner's result instead of failing.
 */
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../domain/decider.ts';
import { passwordProblem } from '../../domain/users/password-hash.ts';
import { uuidv7 } from '../../domain/event-ids.ts';
import { WrongExpectedRevision } from '../../adapters/eventstore/port.ts';
import type { CommandMeta } from './command-bus.ts';
import type { ConsoleContext } from './context.ts';
import { createService } from './service-workflows.ts';
import { newPasswordHash } from './routes/users.ts';
import { createUser, onAccessStream } from './user-workflows.ts';

export const reservedServices = ['RESERVED.monitor', 'RESERVED.log'] as const;

export async function bootstrap(ctx: ConsoleContext, givenPassword: string | undefined): Promise<{ adminPassword?: string }> {
  const meta = (what: string): CommandMeta => ({
    commandId: uuidv7(ctx.clock()), actor: 'system', reason: what, at: ctx.clock(),
  });
  let last = 0;
  for (const name of reservedServices) {
    if (ctx.reads.service(name)) continue;
    const r = await lostRaceIsDone(() => createService(ctx.commands, { name, kind: 'odd', lang: '', port: 0, system: true }, meta('required by MSEC: created on first start')));
    last = Math.max(last, r?.position ?? 0);
  }
  // Users that existed before roles keep the full rights they had, as admins.
  const existing = (ctx.reads.users() as { name: string }[]).map((u) => u.name);
  const init = await onAccessStream(ctx.commands, { type: 'InitializeAccess', existingUsers: existing }, meta('access control: roles introduced'));
  last = Math.max(last, init.position);
  let adminPassword: string | undefined;
  if (existing.length === 0) {
    const weak = givenPassword === undefined ? null : passwordProblem(givenPassword);
    if (weak) throw new Error(`MSEC_ADMIN_PASSWORD is not usable: ${weak}`);
    const password = givenPassword ?? randomBytes(12).toString('base64url');
    const r = await lostRaceIsDone(() => createUser(ctx.commands,
      { name: 'admin', passwordHash: newPasswordHash(password), grants: [{ role: 'admin', service: '' }] }, meta('first admin, created on first start')));
    last = Math.max(last, r?.position ?? 0);
    // Another console that started at the same moment created the admin and printed its password.
    if (r && givenPassword === undefined) adminPassword = password;
  }
  if (last > 0) await ctx.projections.waitFor(last, 10_000, { projections: 'state' });
  return { adminPassword };
}

/** Undefined when another console did the same first-start step a moment earlier. */
async function lostRaceIsDone<T>(step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof WrongExpectedRevision || (e instanceof DomainError && e.code === 'conflict')) return undefined;
    throw e;
  }
}
