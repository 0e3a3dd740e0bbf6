import { resolve } from 'node:path';
import { strOpt } from '../args.ts';
import type { Command } from '../context.ts';
import { CliError } from '../errors.ts';
import { defaultHome } from './up.ts';

/** `msec reset-password USER`: a new password for a user, set directly in the data folder. */
const resetPassword: Command = {
  path: ['reset-password'],
  summary: 'set a new password for a user, offline, on the host that holds the data (--home)',
  kind: 'local',
  positionals: [{ name: 'USER' }],
  options: {
    home: { type: 'string', value: 'DIR', help: `data folder (env MSEC_HOME, default ${defaultHome})` },
    password: { type: 'string', value: 'PW', help: 'the new password (default: a generated one, printed once)' },
  },
  notes: [
    'Needs no login: whoever can write the data folder owns the console anyway. The audit trail records it as actor system.',
    "The user's API tokens are revoked and their browser sessions end. A user that does not exist is created.",
  ],
  async run(ctx, line) {
    const home = resolve(strOpt(line.opts, 'home') ?? ctx.env.MSEC_HOME ?? defaultHome);
    const user = line.args.USER!;
    const { resetPassword: reset } = await import('../../console/reset-password.ts');
    let password: string;
    try {
      ({ password } = await reset(home, user, strOpt(line.opts, 'password')));
    } catch (e) {
      throw new CliError((e as Error).message); // refused by the rules (unknown user, weak password) or no data there
    }
    ctx.out(strOpt(line.opts, 'password') ? `password of ${user} changed\n` : `new password of ${user} (shown once): ${password}\n`);
  },
};

export const resetPasswordCommands: Command[] = [resetPassword];
