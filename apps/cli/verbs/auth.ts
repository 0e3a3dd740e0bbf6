import { hostname } from 'node:os';
import { consoleOptions, strOpt } from '../args.ts';
import { ConsoleClient } from '../client.ts';
import { askSecret, consoleUrl, type Command } from '../context.ts';
import { credentialsPath, findToken, forgetToken, storeToken } from '../credentials.ts';
import { CliError, ProblemError, UsageError } from '../errors.ts';

/** `msec login` / `msec logout`: an API token per console, kept in the credentials file. */

export const defaultLoginUser = 'admin';

const login: Command = {
  path: ['login'],
  summary: 'get an API token from the console and store it for the next commands',
  kind: 'local',
  positionals: [],
  options: {
    console: consoleOptions.console!,
    user: { type: 'string', value: 'U', help: `user name (env MSEC_USER, default ${defaultLoginUser})` },
    password: { type: 'string', value: 'P', help: 'password (env MSEC_PASSWORD; else asked for, without echo on a terminal)' },
  },
  notes: [
    'The token is stored in $MSEC_CONFIG_DIR/credentials.json (default ~/.config/msec), mode 0600.',
    'Piped input works too: printf "%s\\n" "$PW" | msec login --user admin',
  ],
  async run(ctx, line) {
    const url = consoleUrl(ctx, line);
    const user = strOpt(line.opts, 'user') ?? ctx.env.MSEC_USER ?? defaultLoginUser;
    const password = strOpt(line.opts, 'password') ?? ctx.env.MSEC_PASSWORD ?? (await askSecret(ctx, `password for ${user} at ${url}: `));
    if (password === null) throw new UsageError('no password given: pass --password, set MSEC_PASSWORD or type it when asked');
    const client = new ConsoleClient(url, { auth: { kind: 'basic', user, password }, userAgent: `msec-cli/${ctx.version}` });
    let answer: { tokenId: string; token: string };
    try {
      answer = await client.send('POST', '/api/tokens', { body: { label: `msec cli on ${hostname()}` } });
    } catch (err) {
      // Wrong password: say so plainly, without the "run msec login" hint of other verbs.
      if (err instanceof ProblemError && err.status === 401) throw new CliError(`login refused: ${err.detail}`);
      throw err;
    }
    if (!answer.token || !answer.tokenId) throw new CliError('the console answered POST /api/tokens without a token');
    const previous = await storeToken(ctx.env, url, { token: answer.token, tokenId: answer.tokenId, user, createdAt: new Date().toISOString() });
    if (previous && previous.tokenId !== answer.tokenId) {
      // The token this login replaces would stay valid forever otherwise; best effort.
      await client.request('DELETE', `/api/tokens/${encodeURIComponent(previous.tokenId)}`, { mutating: true }).catch(() => undefined);
    }
    ctx.out(`logged in to ${url} as ${user} (token stored in ${credentialsPath(ctx.env)})\n`);
  },
};

const logout: Command = {
  path: ['logout'],
  summary: 'revoke the stored token of a console and forget it',
  kind: 'local',
  positionals: [],
  options: { console: consoleOptions.console! },
  async run(ctx, line) {
    const url = consoleUrl(ctx, line);
    const stored = await findToken(ctx.env, url);
    if (!stored) {
      ctx.out(`not logged in to ${url}: nothing to do\n`);
      return 0;
    }
    const client = new ConsoleClient(url, { auth: { kind: 'bearer', token: stored.token }, userAgent: `msec-cli/${ctx.version}` });
    try {
      await client.request('DELETE', `/api/tokens/${encodeURIComponent(stored.tokenId)}`, { mutating: true });
    } catch (err) {
      // Already revoked or unknown: the console holds nothing to undo, so forgetting is right.
      if (!(err instanceof ProblemError && (err.status === 401 || err.status === 404))) throw err;
    }
    await forgetToken(ctx.env, url);
    ctx.out(`logged out of ${url} (${stored.user})\n`);
  },
};

export const authCommands: Command[] = [login, logout];
