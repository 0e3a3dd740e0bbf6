import { integerArg, strOpt, boolOpt, usageLine } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printJson, type Command, type Ctx, type MutationAnswer } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatTable } from '../table.ts';

/**
 * `msec metric add|set SERVICE NAME VALUE [--ip IP]`: report a value from a script or a cron job
 * (MSEC's Monitor_Add / Monitor_Set), and `msec metrics SERVICE …`: the per-minute views.
 */

const dayPattern = /^\d{8}$/;

/** Minutes east of UTC on this machine, at `day` (the console counts days in it). */
function localTz(): number {
  return -new Date().getTimezoneOffset() || 0;
}

function numberArg(text: string, what: string, usage: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${what} must be a number, got '${text}'`, usage);
  return n;
}

function reportCommand(kind: 'add' | 'set'): Command {
  return {
    path: ['metric', kind],
    summary: kind === 'add'
      ? 'add VALUE to usr.NAME of SERVICE for this minute (summed per minute)'
      : 'set the gauge usr.NAME of SERVICE for this minute (the first set of a minute wins)',
    kind: 'mutation',
    positionals: [{ name: 'SERVICE' }, { name: 'NAME' }, { name: 'VALUE' }],
    options: { ip: { type: 'string', value: 'IP', help: 'the host the value is about (default: none, the whole-service view only)' } },
    notes: ['NAME gets the prefix usr. (MSEC\'s ATTR_REPORT); frm.* and sys.* are reserved.', 'A negative VALUE comes after --: msec metric set S queue -- -3'],
    async run(ctx, line) {
      const usage = usageLine(this);
      const value = numberArg(line.args.VALUE!, 'VALUE', usage);
      const ip = strOpt(line.opts, 'ip');
      const client = await connect(ctx, line);
      const answer = await client.send<MutationAnswer & { name: string; minute: number }>('POST', `/api/services/${seg(line.args.SERVICE!)}/metrics`, {
        body: { name: line.args.NAME!, value, kind, ...(ip !== undefined ? { ip } : {}) }, reason: strOpt(line.opts, 'reason'),
      });
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(`${kind === 'add' ? 'added' : 'set'} ${value} ${kind === 'add' ? 'to' : 'as'} ${answer.name} of ${line.args.SERVICE}${ip ? ` at ${ip}` : ''}, minute ${new Date(answer.minute * 1000).toISOString().slice(0, 16)}Z\n`);
    },
  };
}

interface Series {
  name: string;
  ip?: string;
  day: string;
  from: number;
  values: (number | null)[];
}

interface CurvesAnswer {
  service: string;
  days: string[];
  series: Series[];
}

/** Total, highest, lowest and last reported value of a curve, and the last minute that had one. */
export function summarize(values: readonly (number | null)[], from: number) {
  let total = 0;
  let max: number | null = null;
  let min: number | null = null;
  let last: number | null = null;
  let lastAt = -1;
  values.forEach((v, i) => {
    if (v === null) return;
    total += v;
    max = max === null ? v : Math.max(max, v);
    min = min === null ? v : Math.min(min, v);
    last = v;
    lastAt = i;
  });
  return { total, max, min, last, lastMinute: lastAt < 0 ? '' : new Date((from + lastAt * 60) * 1000).toISOString().slice(11, 16) };
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);

function curvesTable(ctx: Ctx, answer: CurvesAnswer, byIp: boolean): string {
  if (answer.series.length === 0) return `no metrics of ${answer.service} on ${answer.days.join(', ')} match\n`;
  const several = answer.days.length > 1;
  const rows = answer.series.map((s) => {
    const sum = summarize(s.values, s.from);
    return [s.name, ...(byIp ? [s.ip] : []), ...(several ? [s.day] : []), round(sum.total), round(sum.max), round(sum.min), round(sum.last), sum.lastMinute];
  });
  return formatTable(['NAME', ...(byIp ? ['IP'] : []), ...(several ? ['DAY'] : []), 'TOTAL', 'MAX', 'MIN', 'LAST', 'AT (UTC)'], rows, { color: ctx.color });
}

interface LatencyAnswer {
  service: string;
  day: string;
  methods: { side: string; method: string; overall: { p50: number | null; p90: number | null; p99: number | null; calls: number } }[];
}

const ms = (n: number | null) => (n === null ? null : `${Math.round(n * 10) / 10} ms`);

const metrics: Command = {
  path: ['metrics'],
  summary: 'per-minute metrics of a service: names, curves of a day, against another day, N days, per ip, latency percentiles',
  kind: 'query',
  positionals: [{ name: 'SERVICE' }],
  options: {
    name: { type: 'string', value: 'REGEX', help: 'only names matching this RE2 regular expression (e.g. ^usr\\.)' },
    ip: { type: 'string', value: 'IP', help: 'the view of one ip' },
    'by-ip': { type: 'boolean', help: 'one row per name and ip (one attribute across the ips)' },
    day: { type: 'string', value: 'YYYYMMDD', help: 'the day (default today)' },
    compare: { type: 'string', value: 'YYYYMMDD', help: 'another day, beside the day' },
    days: { type: 'string', value: 'N', help: 'N continuous days ending at --day' },
    latency: { type: 'boolean', help: 'p50/p90/p99 per method from the latency buckets' },
    list: { type: 'boolean', help: 'only the names and ips that reported on the day' },
  },
  notes: ['Days are counted in this machine\'s time zone. --json prints every minute\'s value.'],
  async run(ctx, line) {
    const usage = usageLine(this);
    const service = line.args.SERVICE!;
    const day = strOpt(line.opts, 'day');
    const compare = strOpt(line.opts, 'compare');
    for (const [flag, v] of [['--day', day], ['--compare', compare]] as const) {
      if (v !== undefined && !dayPattern.test(v)) throw new UsageError(`${flag} must be a day as YYYYMMDD, got '${v}'`, usage);
    }
    const days = integerArg(strOpt(line.opts, 'days'), '--days', usage);
    if (days !== undefined && (days < 1 || days > 31)) throw new UsageError(`--days must be from 1 to 31, got ${days}`, usage);
    if (compare !== undefined && days !== undefined) throw new UsageError('--compare and --days draw different things: use one', usage);
    const ip = strOpt(line.opts, 'ip');
    const byIp = boolOpt(line.opts, 'by-ip');
    if (ip !== undefined && byIp) throw new UsageError('--ip shows one ip, --by-ip every ip: use one', usage);
    const tz = localTz();
    const client = await connect(ctx, line);
    const base = `/api/services/${seg(service)}/metrics`;

    if (boolOpt(line.opts, 'list')) {
      const answer = await client.get<{ service: string; day: string; names: string[]; ips: string[] }>(base, { query: { day, tz } });
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(`${answer.service} on ${answer.day}\nips: ${answer.ips.join(' ') || '(none)'}\n${answer.names.map((n) => `  ${n}\n`).join('') || '  (no metrics)\n'}`);
      return;
    }
    if (boolOpt(line.opts, 'latency')) {
      const answer = await client.get<LatencyAnswer>(`${base}/latency`, { query: { day, tz, ip } });
      if (line.opts.json === true) return printJson(ctx, answer);
      ctx.out(answer.methods.length === 0 ? `no calls of ${answer.service} on ${answer.day}\n`
        : formatTable(['METHOD', 'SIDE', 'CALLS', 'P50', 'P90', 'P99'], answer.methods.map((m) => [m.method, m.side, m.overall.calls, ms(m.overall.p50), ms(m.overall.p90), ms(m.overall.p99)]), { color: ctx.color }));
      return;
    }
    const answer = await client.get<CurvesAnswer>(`${base}/curves`, {
      query: { name: strOpt(line.opts, 'name'), ip, byIp: byIp ? 'true' : undefined, day, compare, days, tz },
    });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(curvesTable(ctx, answer, byIp));
  },
};

export const metricsCommands: Command[] = [reportCommand('add'), reportCommand('set'), metrics];

