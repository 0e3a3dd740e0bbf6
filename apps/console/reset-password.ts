/**
 * `msec reset-password`: on the machine that holds the data, give a user a new password and
 * the admin role without logging in (the first admin password was lost, say). It appends
 * PasswordChanged (and RoleGranted) as actor `system`; a running console sees them within a
 * poll interval.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { destination, pino } from 'pino';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { msecDatabaseFile } from '../../adapters/sqlite/open.ts';
import { streams } from '../../domain/streams.ts';
import { userDecider } from '../../domain/users/index.ts';
import { uuidv7 } from '../../domain/event-ids.ts';
import { accessDecider } from '../../domain/access/index.ts';
import { createCommandBus } from './command-bus.ts';
import { onAccessStream } from './user-workflows.ts';
import { newPasswordHash } from './routes/users.ts';

export async function resetPassword(home: string, user: string, given?: string): Promise<{ password: string; position: number }> {
  const file = msecDatabaseFile(home);
  if (!existsSync(file)) throw new Error(`no msec data at ${file}: pass the --home of the console (or set MSEC_HOME)`);
  const store = SqliteEventStore.open(file, { logger: pino({ level: 'warn' }, destination(2)) });
  const commands = createCommandBus({ store });
  try {
    const password = given ?? randomBytes(12).toString('base64url');
    const stream = streams.user(user);
    const meta = () => ({ commandId: uuidv7(), actor: 'system', reason: 'password reset with msec reset-password on the console host', at: Date.now() });
    const state = await commands.state(stream, userDecider);
    // A reset is for lost or leaked credentials: the user's API tokens end with the old password.
    // With no such user (say every user was removed), the user is created: the host owner gets back in.
    const passwordHash = newPasswordHash(password);
    let outcome = await commands.execute(stream, userDecider, state.exists
      ? { type: 'ChangePassword', name: user, passwordHash }
      : { type: 'CreateUser', name: user, passwordHash }, meta());
    for (const tokenId of state.exists ? state.tokens.keys() : []) {
      outcome = await commands.execute(stream, userDecider, { type: 'RevokeApiToken', name: user, tokenId }, meta());
    }
    // The host owner gets back in with full rights (before roles existed, every user had them).
    if ((await commands.state(streams.access, accessDecider)).initialized) {
      const granted = await onAccessStream(commands, { type: 'GrantRole', user, role: 'admin', service: '' }, meta());
      outcome = { ...outcome, position: Math.max(outcome.position, granted.position) };
    }
    return { password, position: outcome.position };
  } finally {
    await store.close();
  }
}
