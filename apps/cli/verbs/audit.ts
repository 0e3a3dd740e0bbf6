import { integerArg, strOpt, usageLine } from '../args.ts';
import { connect, printJson, type Command, type Ctx } from '../context.ts';
import { formatTable, shortTime } from '../table.ts';

/** `msec audit`: who did what, when, why, to which stream; newest first. */

export interface AuditEntry {
  position: number;
  time: string;
  actor: string;
  reason?: string;
  stream: string;
  type: string;
  summary?: string;
  revision?: number;
}

export function auditTable(ctx: Ctx, entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'no matching events\n';
  return formatTable(
    ['TIME', 'ACTOR', 'STREAM', 'TYPE', 'SUMMARY', 'REASON'],
    entries.map((e) => [shortTime(e.time), e.actor, e.stream, e.type, e.summary, e.reason]),
    { color: ctx.color },
  );
}

const audit: Command = {
  path: ['audit'],
  summary: 'query the audit trail (newest first)',
  kind: 'query',
  positionals: [],
  options: {
    stream: { type: 'string', value: 'S', help: 'only this stream (e.g. service-Flight.mod_flight)' },
    actor: { type: 'string', value: 'A', help: 'only events by this user or agent' },
    type: { type: 'string', value: 'T', help: 'only this event type (e.g. HostEnabled)' },
    since: { type: 'string', value: 'ISO', help: 'not before this time (ISO-8601)' },
    until: { type: 'string', value: 'ISO', help: 'not after this time (ISO-8601)' },
    limit: { type: 'string', value: 'N', help: "at most N entries (default: the console's)" },
  },
  async run(ctx, line) {
    const limit = integerArg(strOpt(line.opts, 'limit'), '--limit', usageLine(this));
    const query = {
      stream: strOpt(line.opts, 'stream'),
      actor: strOpt(line.opts, 'actor'),
      type: strOpt(line.opts, 'type'),
      since: strOpt(line.opts, 'since'),
      until: strOpt(line.opts, 'until'),
      limit,
    };
    const client = await connect(ctx, line);
    const answer = await client.get<{ entries: AuditEntry[] }>('/api/audit', { query });
    if (line.opts.json === true) return printJson(ctx, answer);
    ctx.out(auditTable(ctx, answer.entries ?? []));
  },
};

export const auditCommands: Command[] = [audit];
