import { boolOpt, strOpt, usageLine } from '../args.ts';
import { UsageError } from '../errors.ts';
import { parseJson, seg, type ConsoleClient } from '../client.ts';
import { connectStoppable, printJson, type Command, type Ctx } from '../context.ts';
import { formatTable } from '../table.ts';

/** `msec route SERVICE [--watch]`: the routing table the name service publishes. */

export interface RouteView {
  service: string;
  version: number | string;
  instances: { ip: string; port: number; protocol: string; weight: number }[];
  /** With --at: the point of the log the table is from. */
  at?: PastPoint;
}

/** The point of the log a `--at` answer is from. */
export interface PastPoint {
  position: number;
  time?: string;
}

/** "as of position 42 (2024-05-01T10:00:00.000Z)" under a `--at` answer. */
export function pastPointText(at: PastPoint): string {
  return `as of position ${at.position}${at.time ? ` (${at.time})` : ' (before the first event)'}\n`;
}

export const atOption = {
  type: 'string', value: 'POSITION|TIME',
  help: 'as it was at a position of the log, or at a time (ISO-8601 or epoch ms): folded from the log',
} as const;

/** Seconds the console may hold a long poll before answering 304. */
export const watchWaitSeconds = 30;

export function routeText(ctx: Ctx, r: RouteView): string {
  const table = r.instances.length === 0
    ? '(no enabled instances: msec host enable SERVICE IP:PORT)\n'
    : formatTable(['IP', 'PORT', 'PROTO', 'WEIGHT'], r.instances.map((i) => [i.ip, i.port, i.protocol, i.weight]), { color: ctx.color });
  return `${table}version: ${r.version}\n${r.at ? pastPointText(r.at) : ''}`;
}

function show(ctx: Ctx, r: RouteView, json: boolean, watching: boolean): void {
  if (json) {
    if (watching) ctx.out(JSON.stringify(r) + '\n'); // one object per line while watching
    else printJson(ctx, r);
  } else ctx.out(routeText(ctx, r));
}

async function watch(ctx: Ctx, client: ConsoleClient, path: string, first: RouteView, etag: string, json: boolean, stop: AbortSignal) {
  let tag = etag;
  let shown = first.version;
  while (!stop.aborted) {
    const res = await client.request('GET', path, {
      query: { wait: watchWaitSeconds },
      headers: { 'if-none-match': tag },
      accept: [304],
      timeoutMs: (watchWaitSeconds + 15) * 1000,
    });
    if (res.status === 304) continue;
    const r = parseJson<RouteView>(res);
    tag = res.headers.get('etag') ?? `"${r.version}"`;
    if (r.version === shown) continue; // a console that answers 200 instead of 304: nothing new
    shown = r.version;
    if (!json) ctx.out('\n');
    show(ctx, r, json, true);
  }
}

const route: Command = {
  path: ['route'],
  summary: 'show the enabled instances of a service and the routing version',
  kind: 'query',
  positionals: [{ name: 'SERVICE' }],
  options: {
    watch: { type: 'boolean', help: 'keep running and print the table again on every change (Ctrl-C stops)' },
    at: atOption,
  },
  async run(ctx, line) {
    const path = `/api/routes/${seg(line.args.SERVICE!)}`;
    const json = line.opts.json === true;
    const watching = boolOpt(line.opts, 'watch');
    const at = strOpt(line.opts, 'at');
    if (at !== undefined && watching) throw new UsageError('--at and --watch do not go together: the past does not change', usageLine(this));
    const { client, stop } = await connectStoppable(ctx, line);
    try {
      const res = await client.request('GET', path, at === undefined ? {} : { query: { at } });
      const first = parseJson<RouteView>(res);
      show(ctx, first, json, watching);
      if (watching) await watch(ctx, client, path, first, res.headers.get('etag') ?? `"${first.version}"`, json, stop);
    } catch (err) {
      if (stop.aborted) return 0; // Ctrl-C ends a watch normally
      throw err;
    }
  },
};

export const routeCommands: Command[] = [route];
