import { seg } from '../client.ts';
import { connect, printJson, type Command } from '../context.ts';
import { strOpt } from '../args.ts';
import { formatFields, formatTable } from '../table.ts';

/** `msec replay` and `msec status`: the read side (projections) and its health. */

export interface ReplayAnswer {
  projection: string;
  events: number;
  identical: boolean;
  before?: string;
  after?: string;
}

export interface ProjectionView {
  name: string;
  version: number | string;
  checkpoint: number;
  head: number;
}

/** A replay reads the whole log: give it time. */
const replayTimeoutMs = 10 * 60_000;

const replay: Command = {
  path: ['replay'],
  summary: 'rebuild a projection from position 0 and compare it with the live one',
  kind: 'mutation',
  positionals: [{ name: 'PROJECTION' }],
  notes: ['Exit status 1 when the rebuilt view differs from the live one.'],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const r = await client.send<ReplayAnswer>('POST', `/api/projections/${seg(line.args.PROJECTION!)}/replay`, {
      reason: strOpt(line.opts, 'reason'),
      timeoutMs: replayTimeoutMs,
    });
    if (line.opts.json === true) printJson(ctx, r);
    else if (r.identical) ctx.out(`replayed ${r.events} events into ${r.projection}: identical (digest ${r.after ?? r.before ?? '-'})\n`);
    else ctx.out(`replayed ${r.events} events into ${r.projection}: NOT identical (live ${r.before ?? '-'}, replayed ${r.after ?? '-'})\n`);
    return r.identical ? 0 : 1;
  },
};

const status: Command = {
  path: ['status'],
  summary: 'console health and each projection: version, checkpoint, head',
  kind: 'query',
  positionals: [],
  notes: ['With --json: {"console", "healthz", "projections"}.'],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const healthz = await client.get<{ ok?: boolean }>('/healthz');
    const { projections = [] } = await client.get<{ projections: ProjectionView[] }>('/api/projections');
    if (line.opts.json === true) return printJson(ctx, { console: client.baseUrl, healthz, projections });
    const head = projections.reduce((m, p) => Math.max(m, p.head ?? 0), 0);
    ctx.out(formatFields([['console', `${client.baseUrl} (${healthz.ok ? 'ok' : 'not ok'})`], ['head', head]]));
    ctx.out('\n');
    ctx.out(projections.length === 0
      ? '(no projections)\n'
      : formatTable(['PROJECTION', 'VERSION', 'CHECKPOINT', 'HEAD', 'BEHIND'],
        projections.map((p) => [p.name, p.version, p.checkpoint, p.head, p.head - p.checkpoint]), { color: ctx.color }));
    return healthz.ok ? 0 : 1;
  },
};

export const projectionCommands: Command[] = [replay, status];
