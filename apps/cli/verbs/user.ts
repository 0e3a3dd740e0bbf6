import { strOpt } from '../args.ts';
import { seg } from '../client.ts';
import { askSecret, connect, consoleUrl, knownUser, printDone, printJson, type Command, type Ctx, type MutationAnswer } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { formatTable, shortTime } from '../table.ts';

/**
 * `msec user add|list|remove|passwd|grant|revoke`: console users and their roles (MSEC had
 * none): viewer, operator, admin, everywhere or on one first-level service (`--service`).
 */

export interface UserView {
  name: string;
  createdAt?: string;
  roles?: { role: string; service: string }[];
  tokens?: { tokenId: string; label?: string; scope?: string }[];
}

const roleOptions = {
  service: { type: 'string', value: 'FIRST', help: 'the role holds on this first-level service (and its children) only' },
} as const;

const roleText = (g: { role: string; service: string }) => (g.service ? `${g.role} of ${g.service}` : g.role);

const passwordOption = {
  password: { type: 'string', value: 'P', help: 'the new password (else asked for; on a terminal without echo)' },
} as const;

const payloadNote = 'Here --password is the new password: authenticate with a token, `msec login` or MSEC_USER/MSEC_PASSWORD.';

/** The new password: --password, else asked (twice on a terminal), else one line of stdin. */
async function newPassword(ctx: Ctx, given: string | undefined, label: string): Promise<string> {
  if (given !== undefined) return given;
  const first = await askSecret(ctx, `new password for ${label}: `);
  if (first === null) throw new UsageError('no password given: pass --password or type it when asked');
  if (ctx.stdin.isTTY) {
    const again = await askSecret(ctx, 'again: ');
    if (again !== first) throw new CliError('the two passwords differ: nothing changed');
  }
  return first;
}

export function userTable(ctx: Ctx, users: readonly UserView[]): string {
  if (users.length === 0) return 'no users\n';
  return formatTable(
    ['NAME', 'ROLES', 'CREATED', 'TOKENS'],
    users.map((u) => [
      u.name, (u.roles ?? []).map(roleText).join(', ') || '(none)', shortTime(u.createdAt),
      (u.tokens ?? []).map((t) => `${t.label || t.tokenId}${t.scope === 'routes' ? ' (routes)' : ''}`).join(', '),
    ]),
    { color: ctx.color },
  );
}

const add: Command = {
  path: ['user', 'add'],
  summary: 'add a console user with one role (default viewer)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  options: {
    ...passwordOption,
    role: { type: 'string', value: 'ROLE', help: 'viewer (default), operator or admin' },
    ...roleOptions,
  },
  passwordIsPayload: true,
  notes: [payloadNote, 'More roles later: msec user grant NAME ROLE [--service FIRST].'],
  async run(ctx, line) {
    const role = checkRoleArg(strOpt(line.opts, 'role') ?? 'viewer');
    const client = await connect(ctx, line);
    const password = await newPassword(ctx, strOpt(line.opts, 'password'), line.args.NAME!);
    const service = strOpt(line.opts, 'service');
    const answer = await client.send<MutationAnswer>('POST', '/api/users', {
      body: { name: line.args.NAME, password, role, ...(service ? { service } : {}) },
      reason: strOpt(line.opts, 'reason'),
    });
    printDone(ctx, line, `added user ${line.args.NAME} (${roleText({ role, service: service ?? '' })})`, answer);
  },
};

function checkRoleArg(role: string): string {
  if (!['viewer', 'operator', 'admin'].includes(role)) throw new UsageError(`unknown role "${role}": use viewer, operator or admin`);
  return role;
}

const roleChange = (verb: 'grant' | 'revoke'): Command => ({
  path: ['user', verb],
  summary: verb === 'grant' ? 'give a user a role, everywhere or on one first-level service' : 'take a role from a user (never the last admin)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }, { name: 'ROLE' }],
  options: roleOptions,
  notes: ['Roles: viewer (read), operator (services, hosts, versions), admin (users, keys, agents; never scoped).'],
  async run(ctx, line) {
    const role = checkRoleArg(line.args.ROLE!);
    const service = strOpt(line.opts, 'service');
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>(verb === 'grant' ? 'POST' : 'DELETE', `/api/users/${seg(line.args.NAME!)}/roles`, {
      body: { role, ...(service ? { service } : {}) },
      reason: strOpt(line.opts, 'reason'),
    });
    const what = roleText({ role, service: service ?? '' });
    printDone(ctx, line, verb === 'grant' ? `granted ${what} to ${line.args.NAME}` : `revoked ${what} from ${line.args.NAME}`, answer);
  },
});

const list: Command = {
  path: ['user', 'list'],
  summary: 'list the console users and their API tokens',
  kind: 'query',
  positionals: [],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.get<{ users: UserView[] }>('/api/users');
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(userTable(ctx, answer.users ?? []));
  },
};

const remove: Command = {
  path: ['user', 'remove'],
  summary: 'remove a console user (not yourself, not the last admin)',
  kind: 'mutation',
  positionals: [{ name: 'NAME' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('DELETE', `/api/users/${seg(line.args.NAME!)}`, { reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `removed user ${line.args.NAME}`, answer);
  },
};

const passwd: Command = {
  path: ['user', 'passwd'],
  summary: "change a user's password (yours when NAME is left out)",
  kind: 'mutation',
  positionals: [{ name: 'NAME', optional: true }],
  options: {
    ...passwordOption,
    'old-password': { type: 'string', value: 'P', help: 'your current password (changing your own; else asked for)' },
  },
  passwordIsPayload: true,
  notes: [payloadNote, 'Changing your own password needs the current one (--old-password, or asked for).'],
  async run(ctx, line) {
    const url = consoleUrl(ctx, line);
    const client = await connect(ctx, line);
    let me = await knownUser(ctx, line, url);
    if (me === undefined && line.args.NAME === undefined) {
      me = await client.get<{ user?: string }>('/api/session').then((s) => s.user, () => undefined);
      if (!me) throw new UsageError('cannot tell who you are: name the user (msec user passwd NAME)');
    }
    const name = line.args.NAME ?? me!;
    let oldPassword = strOpt(line.opts, 'old-password');
    if (oldPassword === undefined && name === me) {
      // The console wants the current password when you change your own.
      oldPassword = client.auth.kind === 'basic' && client.auth.user === name ? client.auth.password : (await askSecret(ctx, `current password of ${name}: `)) ?? undefined;
      if (oldPassword === undefined) throw new UsageError('no current password given: pass --old-password or type it when asked');
    }
    const password = await newPassword(ctx, strOpt(line.opts, 'password'), name);
    const answer = await client.send<MutationAnswer>('PUT', `/api/users/${seg(name)}/password`, {
      body: { password, ...(oldPassword !== undefined ? { oldPassword } : {}) },
      reason: strOpt(line.opts, 'reason'),
    });
    printDone(ctx, line, `changed the password of ${name}`, answer);
  },
};

export const userCommands: Command[] = [add, list, remove, passwd, roleChange('grant'), roleChange('revoke')];
