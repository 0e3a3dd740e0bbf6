import { boolOpt, integerArg, strOpt, usageLine } from '../args.ts';
import type { ConsoleClient } from '../client.ts';
import { connectStoppable, type Command, type Ctx } from '../context.ts';
import { UsageError } from '../errors.ts';
import { cellText, shortTime } from '../table.ts';

/**
 * `msec events tail`: the global event log, in order, optionally followed live; with
 * `--topic msec.reports.<kind>`, the messages of a report topic published after it started.
 */

export interface EventView {
  position: number;
  id?: string;
  type: string;
  stream: string;
  revision?: number;
  occurredAt: string;
  actor: string;
  reason?: string;
  data?: unknown;
}

interface EventsPage {
  events: EventView[];
  head?: number;
}

const pageSize = 500;
const followWaitSeconds = 30;
/** How long a topic tail without --follow waits for the first messages. */
const topicWaitSeconds = 10;

/** One line per event; fixed minimum widths keep a live stream readable without buffering. */
export function eventLine(e: EventView): string {
  return [
    String(e.position).padStart(7),
    shortTime(e.occurredAt),
    cellText(e.stream).padEnd(28),
    cellText(e.type).padEnd(24),
    cellText(e.actor),
  ].join('  ');
}

const tail: Command = {
  path: ['events', 'tail'],
  summary: 'print the event log: position, time, stream, type, actor',
  kind: 'query',
  positionals: [],
  options: {
    after: { type: 'string', value: 'N', help: 'start after global position N (default 0: from the first event)' },
    follow: { type: 'boolean', short: 'f', help: 'keep running and print new events as they come (Ctrl-C stops)' },
    topic: { type: 'string', value: 'TOPIC', help: 'a report topic instead (msec.reports.calls, .routes, .metrics…): what is published on it from now on' },
  },
  notes: [
    'With --json: one JSON object per line (the events as the API gives them).',
    `With --topic: without --follow, waits up to ${topicWaitSeconds} s for the first messages.`,
  ],
  async run(ctx, line) {
    const topic = strOpt(line.opts, 'topic');
    if (topic !== undefined && strOpt(line.opts, 'after') !== undefined) throw new UsageError('--after is for the event log; a topic tail starts now', usageLine(this));
    let cursor = integerArg(strOpt(line.opts, 'after'), '--after', usageLine(this)) ?? 0;
    const follow = boolOpt(line.opts, 'follow');
    const json = line.opts.json === true;
    const { client, stop } = await connectStoppable(ctx, line);
    if (topic !== undefined) return tailTopic(ctx, client, stop, topic, follow, json);
    let caughtUp = false;
    try {
      while (!stop.aborted) {
        const wait: number | undefined = follow && caughtUp ? followWaitSeconds : undefined;
        const page: EventsPage = await client.get<EventsPage>('/api/events', {
          query: { after: cursor, limit: pageSize, wait },
          timeoutMs: wait ? (wait + 15) * 1000 : undefined,
        });
        const events: EventView[] = page.events ?? [];
        for (const e of events) ctx.out(json ? JSON.stringify(e) + '\n' : eventLine(e) + '\n');
        if (events.length > 0) cursor = events[events.length - 1]!.position;
        caughtUp = events.length === 0 || (page.head !== undefined && cursor >= page.head);
        if (caughtUp && !follow) break;
      }
    } catch (err) {
      if (stop.aborted) return 0;
      throw err;
    }
  },
};

export const eventsCommands: Command[] = [tail];

export interface TopicMessage {
  offset: number;
  key: string;
  timestamp: number;
  value: Record<string, unknown> & { calls?: Edge[]; instances?: Feedback[]; metrics?: MetricValue[] };
}
interface Edge { caller: string; callee: string; method: string; requestId: string; err: number; latencyMs: number; atMs: number; instance: string; side: string }
interface Feedback { service: string; ip: string; port: number; requests: number; failures: number; latencyMsSum: number }
interface MetricValue { service: string; method: string; side: string; attr: string; minute: number; value: number }

interface TopicPage {
  group: string;
  messages: TopicMessage[];
}

/** Long-polls /api/topics/<topic>/tail with one tail group; once without --follow. */
async function tailTopic(ctx: Ctx, client: ConsoleClient, stop: AbortSignal, topic: string, follow: boolean, json: boolean): Promise<number> {
  let group: string | undefined;
  const wait = follow ? followWaitSeconds : topicWaitSeconds;
  try {
    do {
      const page: TopicPage = await client.get<TopicPage>(`/api/topics/${encodeURIComponent(topic)}/tail`, {
        query: { wait, group },
        timeoutMs: (wait + 15) * 1000,
      });
      group = page.group;
      for (const m of page.messages ?? []) ctx.out(json ? JSON.stringify(m) + '\n' : topicLines(m).map((l) => l + '\n').join(''));
    } while (follow && !stop.aborted);
  } catch (err) {
    if (!stop.aborted) throw err;
  }
  return 0;
}

const clock = (ms: number) => shortTime(new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

/** Human lines for one message: an edge, an instance or a metric per line; anything else as JSON. */
export function topicLines(m: TopicMessage): string[] {
  const v = m.value;
  if (Array.isArray(v.calls)) {
    return v.calls.map((e) => [
      clock(e.atMs), e.side.padEnd(6), `${e.caller} -> ${e.callee} ${e.method}`, e.err === 0 ? 'ok' : `err ${e.err}`,
      `${e.latencyMs.toFixed(1)} ms`, `req ${e.requestId}`, e.instance || '-',
    ].join('  '));
  }
  if (Array.isArray(v.instances)) {
    return v.instances.map((f) => [
      clock(m.timestamp), cellText(f.service), `${f.ip}:${f.port}`, `${f.requests} requests`, `${f.failures} failed`,
      `avg ${(f.requests ? f.latencyMsSum / f.requests : 0).toFixed(1)} ms`,
    ].join('  '));
  }
  if (Array.isArray(v.metrics)) {
    return v.metrics.filter((x) => x.value !== 0).map((x) => [
      clock(x.minute * 1000), x.side.padEnd(6), `${x.service} ${x.method}`, `${x.attr}=${x.value}`,
    ].join('  '));
  }
  return [`${clock(m.timestamp)}  ${m.key}  ${JSON.stringify(v)}`];
}
