import { boolOpt, integerArg, strOpt, usageLine } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printDone, printJson, type Command, type MutationAnswer } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatTable } from '../table.ts';

/**
 * `msec alarm set|delete|list|webhook|fired`: MSEC's alarm rules (max, min, diff and diff % against
 * the same minute yesterday; 0 disables a check), beyond MSEC "for N minutes" and per host; the
 * alarm list; the webhooks alarms are sent to; and "did an alarm of SERVICE fire since T".
 */

function threshold(text: string | undefined, flag: string, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number ≥ 0 (0 disables the check), got '${text}'`, usage);
  return n;
}

const minuteText = (minute: number) => `${new Date(minute * 1000).toISOString().slice(0, 16).replace('T', ' ')}Z`;

const set: Command = {
  path: ['alarm', 'set'],
  summary: 'set the alarm rule on a metric of a service (replaces the one there)',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'NAME' }],
  options: {
    max: { type: 'string', value: 'N', help: 'raise when a minute\'s value is ≥ N' },
    min: { type: 'string', value: 'N', help: 'raise when a minute\'s value is ≤ N' },
    diff: { type: 'string', value: 'N', help: 'raise when |value − the same minute yesterday| ≥ N' },
    'diff-percent': { type: 'string', value: 'P', help: 'raise when |Δ|·100 / min(yesterday, value) ≥ P' },
    for: { type: 'string', value: 'MINUTES', help: 'only when it holds this many minutes in a row (default 1)' },
    'per-host': { type: 'boolean', help: 'judge each host of the service on its own (default: the whole service)' },
  },
  notes: ['NAME is the metric as `msec metrics` lists it (usr.orders, "frm.requests queryFlight"). Checks left out are 0 (off).'],
  async run(ctx, line) {
    const usage = usageLine(this);
    const body: Record<string, unknown> = { name: line.args.NAME! };
    for (const [flag, field] of [['max', 'max'], ['min', 'min'], ['diff', 'diff'], ['diff-percent', 'diffPercent']] as const) {
      const v = threshold(strOpt(line.opts, flag), `--${flag}`, usage);
      if (v !== undefined) body[field] = v;
    }
    if (!['max', 'min', 'diff', 'diffPercent'].some((k) => typeof body[k] === 'number' && body[k] !== 0)) {
      throw new UsageError('give at least one check: --max, --min, --diff or --diff-percent (msec alarm delete removes a rule)', usage);
    }
    const forMinutes = integerArg(strOpt(line.opts, 'for'), '--for', usage);
    if (forMinutes !== undefined) body.forMinutes = forMinutes;
    if (boolOpt(line.opts, 'per-host')) body.scope = 'host';
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('PUT', `/api/services/${seg(line.args.SERVICE!)}/alarm-rules`, { body, reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, answer.events && (answer.events as string[]).length === 0 ? `the rule on ${line.args.NAME} of ${line.args.SERVICE} is already so` : `set the alarm rule on ${line.args.NAME} of ${line.args.SERVICE}`, answer);
  },
};

const del: Command = {
  path: ['alarm', 'delete'],
  summary: 'delete the alarm rule on a metric (its open alarms resolve at the next minute)',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'NAME' }],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const answer = await client.send<MutationAnswer>('DELETE', `/api/services/${seg(line.args.SERVICE!)}/alarm-rules`, { body: { name: line.args.NAME! }, reason: strOpt(line.opts, 'reason') });
    printDone(ctx, line, `deleted the alarm rule on ${line.args.NAME} of ${line.args.SERVICE}`, answer);
  },
};

interface Rule { name: string; max: number; min: number; diff: number; diffPercent: number; forMinutes: number; scope: string }
interface Alarm { service?: string; name: string; alarmType: string; ip: string; minute: number; value: number; threshold: number }
interface Row { service: string; day: string; name: string; alarmType: string; count: number; firstMinute: number; lastMinute: number; maxValue: number }

const off = (n: number) => (n === 0 ? null : n);

const list: Command = {
  path: ['alarm', 'list'],
  summary: 'alarm rules and open alarms of a service; without SERVICE the alarm list (per service, name, type and day)',
  kind: 'query',
  positionals: [{ name: 'SERVICE', optional: true }],
  options: {
    from: { type: 'string', value: 'YYYYMMDD', help: 'alarm list: from this UTC day' },
    to: { type: 'string', value: 'YYYYMMDD', help: 'alarm list: up to this UTC day' },
  },
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const service = line.args.SERVICE;
    if (service) {
      const answer = await client.get<{ service: string; rules: Rule[]; webhooks: { url: string }[]; open: Alarm[] }>(`/api/services/${seg(service)}/alarm-rules`);
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(answer.rules.length === 0 ? `no alarm rules on ${answer.service}: msec alarm set ${answer.service} NAME --max N\n`
        : formatTable(['NAME', 'MAX', 'MIN', 'DIFF', 'DIFF %', 'FOR', 'SCOPE'], answer.rules.map((r) => [r.name, off(r.max), off(r.min), off(r.diff), off(r.diffPercent), r.forMinutes, r.scope]), { color: ctx.color }));
      ctx.out(`webhooks: ${answer.webhooks.map((w) => w.url).join(' ') || '(none)'}\n`);
      ctx.out(answer.open.length === 0 ? 'no open alarms\n'
        : `open alarms:\n${formatTable(['NAME', 'TYPE', 'IP', 'SINCE', 'VALUE', 'LINE'], answer.open.map((a) => [a.name, a.alarmType, a.ip, minuteText(a.minute), a.value, a.threshold]), { color: ctx.color })}`);
      return;
    }
    const answer = await client.get<{ rows: Row[]; open: Alarm[] }>('/api/alarms', { query: { from: strOpt(line.opts, 'from'), to: strOpt(line.opts, 'to') } });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(answer.rows.length === 0 ? 'no alarms\n'
      : formatTable(['DAY', 'SERVICE', 'NAME', 'TYPE', 'COUNT', 'FIRST', 'LAST', 'MAX VALUE'],
        answer.rows.map((r) => [r.day, r.service, r.name, r.alarmType, r.count, minuteText(r.firstMinute).slice(11), minuteText(r.lastMinute).slice(11), r.maxValue]), { color: ctx.color }));
    if (answer.open.length) ctx.out(`open: ${answer.open.map((a) => `${a.service} ${a.name} ${a.alarmType}${a.ip ? ` @${a.ip}` : ''}`).join('; ')}\n`);
  },
};

const webhook: Command = {
  path: ['alarm', 'webhook'],
  summary: 'send the alarms of a service to URL (signed with the console\'s key, retried); --remove stops it',
  kind: 'mutation',
  positionals: [{ name: 'SERVICE' }, { name: 'URL' }],
  options: { remove: { type: 'boolean', help: 'stop sending to URL' } },
  notes: ['Receivers check X-Msec-Signature with the public key printed here (also GET /api/alarms/signing-key).'],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const path = `/api/services/${seg(line.args.SERVICE!)}/alarm-webhooks`;
    const reason = strOpt(line.opts, 'reason');
    if (boolOpt(line.opts, 'remove')) {
      const answer = await client.send<MutationAnswer>('DELETE', path, { body: { url: line.args.URL! }, reason });
      return printDone(ctx, line, `${line.args.URL} no longer receives the alarms of ${line.args.SERVICE}`, answer);
    }
    const answer = await client.send<MutationAnswer & { url: string; signingKey: { keyId: string; publicKey: string; header: string; signs: string } }>('POST', path, { body: { url: line.args.URL! }, reason });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(`${answer.url} receives the alarms of ${line.args.SERVICE}\n`
      + `check each delivery: ${answer.signingKey.header} over "${answer.signingKey.signs}" with this ed25519 key (id ${answer.signingKey.keyId}):\n${answer.signingKey.publicKey}`);
  },
};

const fired: Command = {
  path: ['alarm', 'fired'],
  summary: 'did an alarm of SERVICE fire since a time? (exit 0 either way; --json for scripts)',
  kind: 'query',
  positionals: [{ name: 'SERVICE' }],
  options: { since: { type: 'string', value: 'ISO', help: 'the time (ISO-8601 or epoch ms)' } },
  async run(ctx, line) {
    const since = strOpt(line.opts, 'since');
    if (!since) throw new UsageError('--since is required, e.g. --since 2024-05-01T10:00:00Z', usageLine(this));
    const client = await connect(ctx, line);
    const answer = await client.get<{ fired: boolean; raised: Alarm[]; open: Alarm[] }>(`/api/services/${seg(line.args.SERVICE!)}/alarms`, { query: { since } });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(answer.fired
      ? `yes: ${answer.raised.map((a) => `${a.name} ${a.alarmType}${a.ip ? ` @${a.ip}` : ''} at ${minuteText(a.minute)}`).join('; ')}\n`
      : `no alarm of ${line.args.SERVICE} since ${since}${answer.open.length ? ` (${answer.open.length} open from before)` : ''}\n`);
  },
};

export const alarmCommands: Command[] = [set, del, list, webhook, fired];
