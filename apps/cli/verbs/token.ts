import { strOpt } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printDone, printJson, type Command, type MutationAnswer } from '../context.ts';

/**
 * `msec token create|revoke`: API tokens of the calling user. A route-read token (`--routes`)
 * is what services and agents that look up routes through the console should hold: it reads
 * routing tables and nothing else, so a leaked one changes nothing.
 */

const create: Command = {
  path: ['token', 'create'],
  summary: 'issue an API token for yourself (--routes: a route-read token for services and agents)',
  kind: 'mutation',
  positionals: [],
  options: {
    routes: { type: 'boolean', help: 'the token may read routing tables and nothing else (MSEC_TOKEN of services and agents)' },
    label: { type: 'string', value: 'TEXT', help: 'what the token is for, shown in `msec user list`' },
  },
  notes: ['The token is printed once, on stdout; the console keeps only its hash.'],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const label = strOpt(line.opts, 'label');
    const answer = await client.send<MutationAnswer & { token: string; tokenId: string; scope?: string }>('POST', '/api/tokens', {
      body: { ...(line.opts.routes === true ? { scope: 'routes' } : {}), ...(label ? { label } : {}) },
      reason: strOpt(line.opts, 'reason'),
    });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(`${answer.token}\n`);
    ctx.stderr.write(`issued ${answer.scope === 'routes' ? 'route-read ' : ''}token ${answer.tokenId}; it is not shown again\n`);
  },
};

const revoke: Command = {
  path: ['token', 'revoke'],
  summary: 'revoke one of your API tokens by id (`msec user list` shows them)',
  kind: 'mutation',
  positionals: [{ name: 'TOKEN_ID' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('DELETE', `/api/tokens/${seg(line.args.TOKEN_ID!)}`, { reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `revoked token ${line.args.TOKEN_ID}`, answer);
  },
};

export const tokenCommands: Command[] = [create, revoke];
