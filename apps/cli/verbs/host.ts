import { integerArg, splitAddress, strOpt, usageLine } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printDone, type Command, type MutationAnswer } from '../context.ts';

/** `msec host add|enable|disable|remove|weight`: the IP:port instances of a service. */

export const defaultProtocol = 'tcp';

const add: Command = {
  path: ['host', 'add'],
  summary: 'add an instance to a service (it starts disabled: `msec host enable` routes traffic to it)',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'IP:PORT' }],
  options: {
    proto: { type: 'string', value: 'tcp|udp|both', help: `protocol (default ${defaultProtocol})` },
    weight: { type: 'string', value: 'W', help: "static weight (default: the console's)" },
  },
  async run(ctx, line) {
    const usage = usageLine(this);
    const { ip, port } = splitAddress(line.args['IP:PORT']!, usage);
    const weight = integerArg(strOpt(line.opts, 'weight'), '--weight', usage);
    const body = { ip, port, protocol: strOpt(line.opts, 'proto') ?? defaultProtocol, ...(weight !== undefined ? { weight } : {}) };
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('POST', `/api/services/${seg(line.args.SERVICE!)}/hosts`, {
      body,
      reason: strOpt(line.opts, 'reason'),
    });
    printDone(ctx, line, `added ${line.args['IP:PORT']} to ${line.args.SERVICE}, disabled until \`msec host enable\``, answer);
  },
};

/** enable / disable / remove share one shape: a verb on `/hosts/:addr`. */
function hostAction(verb: 'enable' | 'disable' | 'remove', summary: string, done: string): Command {
  return {
    path: ['host', verb],
    summary,
    kind: 'mutation',
    positionals: [{ name: 'SERVICE' }, { name: 'IP:PORT' }],
    async run(ctx, line) {
      const addr = line.args['IP:PORT']!.trim();
      splitAddress(addr, usageLine(this));
      const base = `/api/services/${seg(line.args.SERVICE!)}/hosts/${seg(addr)}`;
      const client = await connect(ctx, line);
      const reason = strOpt(line.opts, 'reason');
      const answer = verb === 'remove'
        ? await client.send<MutationAnswer>('DELETE', base, { reason })
        : await client.send<MutationAnswer>('POST', `${base}/${verb}`, { reason });
      printDone(ctx, line, `${done} ${addr} of ${line.args.SERVICE}`, answer);
    },
  };
}

const weight: Command = {
  path: ['host', 'weight'],
  summary: 'set the static weight of an instance',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'IP:PORT' }, { name: 'WEIGHT' }],
  async run(ctx, line) {
    const usage = usageLine(this);
    const addr = line.args['IP:PORT']!.trim();
    splitAddress(addr, usage);
    const w = integerArg(line.args.WEIGHT, 'WEIGHT', usage);
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('PUT', `/api/services/${seg(line.args.SERVICE!)}/hosts/${seg(addr)}/weight`, {
      body: { weight: w },
      reason: strOpt(line.opts, 'reason'),
    });
    printDone(ctx, line, `set weight ${w} on ${addr} of ${line.args.SERVICE}`, answer);
  },
};

export const hostCommands: Command[] = [
  add,
  hostAction('enable', 'enable an instance: the routing table sends it traffic (scale out)', 'enabled'),
  hostAction('disable', 'disable an instance: no more traffic (scale in)', 'disabled'),
  hostAction('remove', 'remove a disabled instance', 'removed'),
  weight,
];
