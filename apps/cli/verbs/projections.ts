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

interface ComponentsView {
  role?: string;
  backends?: Record<string, string>;
  monitoring?: {
    views: boolean;
    signingKey: string;
    evaluator?: { lastMinute?: number; last?: { rules: number; ms: number }; lastError?: string };
    webhooks: { delivered: number; failedAttempts: number; givenUp: number; inFlight: number; lastError?: string };
  };
  projector?: {
    at?: string;
    head?: number;
    relay?: { checkpoint: number; head?: number; published?: number; lastError?: string; outageSince?: string };
    busKey?: { id: string; source: string };
    projections?: { name: string; version: number; checkpoint: number; group?: string; busLag?: number; refused?: { total: number; byReason: Record<string, number> }; error?: string }[];
    registry?: { published: number; pending: number; failures: number; lastError?: string };
    ingest?: { name: string; topic: string; stored: number; refused?: { total: number; byReason: Record<string, number> }; error?: string }[];
  } | null;
}

const status: Command = {
  path: ['status'],
  summary: 'every component: its backend, checkpoints and lag',
  kind: 'query',
  positionals: [],
  notes: ['With --json: {"console", "healthz", "projections", "components"}.'],
  async run(ctx, line) {
    const client = await connect(ctx, line);
    const healthz = await client.get<{ ok?: boolean }>('/healthz');
    const { projections = [], components } = await client.get<{ projections: ProjectionView[]; components?: ComponentsView }>('/api/projections');
    if (line.opts.json === true) return printJson(ctx, { console: client.baseUrl, healthz, projections, components });
    const head = projections.reduce((m, p) => Math.max(m, p.head ?? 0), 0);
    ctx.out(formatFields([
      ['console', `${client.baseUrl} (${healthz.ok ? 'ok' : 'not ok'})${components?.role ? `, ${components.role}` : ''}`],
      ['head', head],
      ...Object.entries(components?.backends ?? {}).map(([port, backend]): [string, string] => [port, backend]),
      ...(components?.monitoring ? monitoringFields(components.monitoring) : []),
    ]));
    ctx.out('\n');
    ctx.out(projections.length === 0
      ? '(no projections)\n'
      : formatTable(['PROJECTION', 'VERSION', 'CHECKPOINT', 'HEAD', 'BEHIND'],
        projections.map((p) => [p.name, p.version, p.checkpoint, p.head, p.head - p.checkpoint]), { color: ctx.color }));
    const projector = components?.projector;
    if (components && (components.role === 'console' || projector)) {
      ctx.out('\n');
      if (!projector) ctx.out('projector: no status stored yet (is `msec projector` running on these backends?)\n');
      else {
        const { relay, registry } = projector;
        ctx.out(formatFields([
          ['projector status at', projector.at ?? '-'],
          ['relay', relay ? `checkpoint ${relay.checkpoint}${relay.outageSince ? `, bus unreachable since ${relay.outageSince}` : ''}${relay.lastError ? ` (${relay.lastError})` : ''}` : 'not running (embedded bus)'],
          ['registry', registry ? `${registry.published} published, ${registry.pending} pending${registry.lastError ? ` (${registry.lastError})` : ''}` : 'not published (embedded)'],
          ...(projector.busKey ? [['bus key', `${projector.busKey.id} (from ${projector.busKey.source})`] as [string, string]] : []),
        ]));
        ctx.out('\n');
        ctx.out(formatTable(['PROJECTOR', 'VERSION', 'CHECKPOINT', 'HEAD', 'BUS LAG', 'REFUSED', 'ERROR'],
          (projector.projections ?? []).map((p) => [p.name, p.version, p.checkpoint, projector.head ?? '-', p.busLag ?? '-', refusedText(p.refused), p.error ?? '']), { color: ctx.color }));
        if (projector.ingest?.length) {
          ctx.out('\n');
          ctx.out(formatTable(['REPORTS', 'TOPIC', 'STORED', 'REFUSED', 'ERROR'],
            projector.ingest.map((i) => [i.name, i.topic, i.stored, refusedText(i.refused), i.error ?? '']), { color: ctx.color }));
        }
      }
    }
    return healthz.ok ? 0 : 1;
  },
};

/** Alarm evaluation and webhook deliveries, one line each. */
function monitoringFields(m: NonNullable<ComponentsView['monitoring']>): [string, string][] {
  const e = m.evaluator;
  const w = m.webhooks;
  return [
    ['alarms', !m.views ? 'off (views not in ClickHouse)' : e?.lastMinute !== undefined
      ? `judged up to ${new Date((e.lastMinute + 60) * 1000).toISOString().slice(0, 16)}Z${e.last ? `, ${e.last.rules} rules in ${Math.round(e.last.ms)} ms` : ''}${e.lastError ? ` (${e.lastError})` : ''}`
      : `not judged yet${e?.lastError ? ` (${e.lastError})` : ''}`],
    ['webhooks', `${w.delivered} delivered, ${w.inFlight} in flight, ${w.failedAttempts} failed attempts, ${w.givenUp} given up (key ${m.signingKey})${w.lastError ? `; last error: ${w.lastError}` : ''}`],
  ];
}

/** Messages of msec.events a projection's feed refused, by reason: "0", or "5 (unsigned 3, bad-signature 2)". */
function refusedText(refused: { total: number; byReason: Record<string, number> } | undefined): string {
  if (!refused) return '-';
  const reasons = Object.entries(refused.byReason).map(([reason, n]) => `${reason} ${n}`);
  return reasons.length ? `${refused.total} (${reasons.join(', ')})` : String(refused.total);
}

export const projectionCommands: Command[] = [replay, status];
