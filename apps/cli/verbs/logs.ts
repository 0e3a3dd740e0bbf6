import { writeFileSync } from 'node:fs';
import { boolOpt, integerArg, listOpt, strOpt, usageLine } from '../args.ts';
import { seg, type ConsoleClient } from '../client.ts';
import { connect, connectStoppable, printJson, type Command, type Ctx } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { callGraphDot, callGraphSvg, callGraphText } from '../callgraph-render.ts';
import type { CallGraph } from '../../../projections/call-graph.ts';
import type { LogRecordView } from '../../console/routes/logs.ts';

/**
 * `msec logs [SERVICE]`: business log records of a service or of a request (every service it
 * touched), filtered by level, time, request id, IP, custom fields and text; `--follow` keeps
 * printing new ones. `msec callgraph REQUEST_ID`: the services a request went through.
 */

/** A record as the console answers it (one shape for the API, the CLI and the web UI). */
export type { LogRecordView } from '../../console/routes/logs.ts';

interface LogsAnswer {
  records: LogRecordView[];
  truncated: boolean;
  dropped: number;
  since: string;
  until: string;
}

/** Newlines and tabs of a message shown as \n and \t: one record is one line, whatever it holds. */
const inline = (s: string) => s.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');

/** `2024-05-01 12:03:04.567  INFO   Shop.front  req 123 shop.Front.Order <- caller (client → server)  message  field=value…` */
export function recordLine(r: LogRecordView): string {
  const time = r.time.replace('T', ' ').replace(/Z$/, '');
  const request = r.requestId ? `req ${r.requestId} ${r.rpcName || '-'} <- ${inline(r.caller) || '-'} (${r.clientIp || '-'} -> ${r.serverIp || '-'})` : `(${r.serverIp || '-'})`;
  const fields = Object.entries(r.fields).map(([k, v]) => `${k}=${inline(v)}`).join(' ');
  return [time, r.level.padEnd(5), r.service, request + (r.coloring ? ' colored' : ''), inline(r.message), fields].filter(Boolean).join('  ');
}

function queryPath(line: Parameters<Command['run']>[1], service: string | undefined, overrides: { since?: string; limit?: number } = {}): string {
  const q = new URLSearchParams();
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') q.set(key, value);
  };
  put('service', service);
  put('level', strOpt(line.opts, 'level'));
  put('since', overrides.since ?? strOpt(line.opts, 'since'));
  put('until', strOpt(line.opts, 'until'));
  put('requestId', strOpt(line.opts, 'request-id'));
  put('ip', strOpt(line.opts, 'ip'));
  put('grep', strOpt(line.opts, 'grep'));
  const limit = overrides.limit ?? integerArg(strOpt(line.opts, 'limit'), '--limit', usageLine(line.spec));
  if (limit !== undefined) q.set('limit', String(limit));
  for (const f of listOpt(line.opts, 'field')) q.append('field', f);
  return `/api/logs?${q}`;
}

/** Follow: every second, what came since the last record seen (30 s back: records arrive late), each shown once. */
async function follow(ctx: Ctx, client: ConsoleClient, stop: AbortSignal, line: Parameters<Command['run']>[1], service: string | undefined, json: boolean): Promise<void> {
  const seen = new Set<string>();
  let since = strOpt(line.opts, 'since') ?? '1m';
  while (!stop.aborted) {
    const answer = await client.get<LogsAnswer>(queryPath(line, service, { since, limit: 1000 }));
    for (const r of answer.records) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      ctx.out(json ? `${JSON.stringify(r)}\n` : `${recordLine(r)}\n`);
    }
    if (seen.size > 50_000) for (const id of [...seen].slice(0, 25_000)) seen.delete(id);
    const last = answer.records.at(-1);
    if (last) since = new Date(Math.max(Date.parse(last.time) - 30_000, Date.parse(answer.since))).toISOString();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      stop.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

const logs: Command = {
  path: ['logs'],
  summary: 'business log records of a service, or of one request across services',
  kind: 'query',
  positionals: [{ name: 'SERVICE', optional: true }],
  options: {
    level: { type: 'string', value: 'L', help: 'only records at or above TRACE|DEBUG|INFO|ERROR|FATAL' },
    since: { type: 'string', value: 'T', help: 'not before: ISO-8601, or a time ago (30s, 15m, 2h, 3d); default 1h ago (with --request-id: the whole retention)' },
    until: { type: 'string', value: 'T', help: 'not after (default now)' },
    'request-id': { type: 'string', value: 'ID', help: 'only this request (without SERVICE: every service it touched)' },
    ip: { type: 'string', value: 'IP', help: 'client or server IP' },
    field: { type: 'string', value: 'NAME=VALUE', multiple: true, help: 'a custom field (or header: Caller, RPCName, ClientIP, ServerIP) equals VALUE; repeatable' },
    grep: { type: 'string', value: 'TEXT', help: 'the message contains TEXT (any case)' },
    limit: { type: 'string', value: 'N', help: 'at most N records, the newest (default 100, at most 1000)' },
    follow: { type: 'boolean', short: 'f', help: 'keep running and print new records as they arrive (Ctrl-C stops)' },
  },
  notes: [
    'Records print oldest first, one per line: time, level, service, request (id, method, caller, client -> server IP), message, custom fields.',
    'Newlines in messages print as \\n. With --json: the console\'s answer (with --follow: one record per line).',
    'Filters are values, never SQL: a range wider than the retention (14 days) or a bad level is refused.',
  ],
  async run(ctx, line) {
    const service = line.args.SERVICE;
    if (!service && !strOpt(line.opts, 'request-id')) throw new UsageError('name a SERVICE or give --request-id', usageLine(this));
    const json = line.opts.json === true;
    if (boolOpt(line.opts, 'follow')) {
      const { client, stop } = await connectStoppable(ctx, line);
      try {
        await follow(ctx, client, stop, line, service, json);
      } catch (err) {
        if (!stop.aborted) throw err;
      }
      return 0;
    }
    const client = await connect(ctx, line);
    const answer = await client.get<LogsAnswer>(queryPath(line, service));
    if (json) return printJson(ctx, answer);
    if (answer.records.length === 0) ctx.out(`no records from ${answer.since} to ${answer.until}\n`);
    for (const r of answer.records) ctx.out(`${recordLine(r)}\n`);
    if (answer.truncated) ctx.out(`(more records match: these are the newest ${answer.records.length}; narrow the filters or raise --limit, at most 1000)\n`);
    if (answer.dropped > 0) ctx.out(`(${answer.dropped} records were dropped by the service's processes in this range: their log buffer was full while the bus was away)\n`);
  },
};

const callgraph: Command = {
  path: ['callgraph'],
  summary: 'the services one request went through: calls in order, instances, methods, latency, errors',
  kind: 'query',
  positionals: [{ name: 'REQUEST_ID' }],
  options: {
    dot: { type: 'boolean', help: 'print Graphviz DOT (dot -Tpng draws it)' },
    svg: { type: 'string', value: 'FILE', help: 'write the drawing as SVG to FILE' },
  },
  async run(ctx, line) {
    const id = line.args.REQUEST_ID!;
    if (!/^[0-9]{1,20}$/.test(id)) throw new UsageError(`REQUEST_ID must be a decimal request id, got '${id.slice(0, 40)}'`, usageLine(this));
    const modes = [line.opts.json === true, boolOpt(line.opts, 'dot'), strOpt(line.opts, 'svg') !== undefined].filter(Boolean).length;
    if (modes > 1) throw new UsageError('choose one of --json, --dot, --svg', usageLine(this));
    const client = await connect(ctx, line);
    const graph = await client.get<CallGraph>(`/api/callgraph/${seg(id)}`);
    if (line.opts.json === true) return printJson(ctx, graph);
    if (boolOpt(line.opts, 'dot')) return void ctx.raw(callGraphDot(graph));
    const file = strOpt(line.opts, 'svg');
    if (file !== undefined) {
      try {
        writeFileSync(file, callGraphSvg(graph));
      } catch (err) {
        throw new CliError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      ctx.out(`wrote the call graph of request ${graph.requestId} (${graph.nodes.length} nodes, ${graph.edges.length} calls) to ${file}\n`);
      return;
    }
    ctx.out(callGraphText(graph));
  },
};

export const logsCommands: Command[] = [logs, callgraph];
