import { boolOpt, strOpt, usageLine } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printDone, printJson, type Command, type MutationAnswer } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatFields, formatTable } from '../table.ts';

/**
 * `msec log settings|level|color|field …`: what a service's processes keep of their business
 * logs (MSEC's SetBusinessLog page). Each change is an event on stream `logs-<service>`
 * (audited), and running services pick it up within seconds, without a new config version.
 */

interface SettingsView {
  service: string;
  revision: number;
  level: string | null;
  colorRules: { field: string; value: string }[];
  fields: { name: string; type: string }[];
  config: { tag: string; level: string | null; colorRules: { field: string; value: string }[] } | null;
}

const base = (service: string) => `/api/services/${seg(service)}/log-settings`;

const settings: Command = {
  path: ['log', 'settings'],
  summary: "show a service's log level, coloring rules and custom fields",
  kind: 'query',
  positionals: [{ name: 'SERVICE' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const s = await client.get<SettingsView>(base(line.args.SERVICE!));
    if (line.opts.json === true) return printJson(ctx, s);
    const level = s.level ? `${s.level} (set in the console)`
      : s.config?.level ? `${s.config.level} (config ${s.config.tag})` : 'INFO (default)';
    ctx.out(formatFields([['service', s.service], ['level', level]]));
    const rules = [...s.colorRules.map((r) => [r.field, r.value, 'console'] as const), ...(s.config?.colorRules ?? []).map((r) => [r.field, r.value, `config ${s.config!.tag}`] as const)];
    ctx.out(rules.length ? `\ncoloring rules:\n${formatTable(['FIELD', 'VALUE', 'FROM'], rules, { color: ctx.color })}` : '\nno coloring rules\n');
    ctx.out(s.fields.length ? `\ncustom fields:\n${formatTable(['NAME', 'TYPE'], s.fields.map((f) => [f.name, f.type]), { color: ctx.color })}` : '\nno custom fields\n');
  },
};

const level: Command = {
  path: ['log', 'level'],
  summary: "set the level a service's records are kept at (default: back to its config version's)",
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'LEVEL' }],
  notes: ['LEVEL: TRACE, DEBUG, INFO, ERROR, FATAL, or default.'],
  async run(ctx, line) {
    const wanted = line.args.LEVEL!;
    const value = wanted.toLowerCase() === 'default' ? '' : wanted;
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('PUT', `${base(line.args.SERVICE!)}/level`, { body: { level: value }, reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, value ? `${line.args.SERVICE} keeps records at ${value.toUpperCase()} and above` : `${line.args.SERVICE} keeps records at its config version's level`, answer);
  },
};

const color: Command = {
  path: ['log', 'color'],
  summary: 'color requests whose header or custom field equals a value: their records are kept at every level, downstream too',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'FIELD=VALUE' }],
  options: { remove: { type: 'boolean', help: 'remove the rule instead' } },
  notes: ['FIELD: a header (ReqID, ClientIP, ServerIP, RPCName, Caller, ServiceName) or a declared custom field.'],
  async run(ctx, line) {
    const pair = line.args['FIELD=VALUE']!;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected FIELD=VALUE, got '${pair.slice(0, 80)}'`, usageLine(this));
    const body = { field: pair.slice(0, eq), value: pair.slice(eq + 1) };
    const client = await connect(ctx, line);
    const remove = boolOpt(line.opts, 'remove');
    const answer = await client.send<MutationAnswer>(remove ? 'DELETE' : 'POST', `${base(line.args.SERVICE!)}/color-rules`, { body, reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `${remove ? 'removed' : 'added'} the coloring rule ${body.field}=${body.value} ${remove ? 'from' : 'to'} ${line.args.SERVICE}`, answer);
  },
};

const fieldAdd: Command = {
  path: ['log', 'field', 'add'],
  summary: 'declare a custom field of a service\'s records (the record object\'s key of that name)',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'NAME' }],
  options: { type: { type: 'string', value: 'int|string', help: 'the field\'s type (default string)' } },
  async run(ctx, line) {
    const type = strOpt(line.opts, 'type') ?? 'string';
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('POST', `${base(line.args.SERVICE!)}/fields`, { body: { name: line.args.NAME!, type }, reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `${line.args.SERVICE} records carry the ${type} field ${line.args.NAME}`, answer);
  },
};

const fieldDelete: Command = {
  path: ['log', 'field', 'delete'],
  summary: 'delete a custom field of a service (records keep what they stored)',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'NAME' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('DELETE', `${base(line.args.SERVICE!)}/fields/${seg(line.args.NAME!)}`, { reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `deleted the field ${line.args.NAME} of ${line.args.SERVICE}`, answer);
  },
};

export const logSettingsCommands: Command[] = [settings, level, color, fieldAdd, fieldDelete];
