import { boolOpt, integerArg, strOpt, usageLine } from '../args.ts';
import { connectStoppable, type Command } from '../context.ts';
import { cellText, shortTime } from '../table.ts';

/** `msec events tail`: the global event log, in order, optionally followed live. */

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
  },
  notes: ['With --json: one JSON object per line (the events as the API gives them).'],
  async run(ctx, line) {
    let cursor = integerArg(strOpt(line.opts, 'after'), '--after', usageLine(this)) ?? 0;
    const follow = boolOpt(line.opts, 'follow');
    const json = line.opts.json === true;
    const { client, stop } = await connectStoppable(ctx, line);
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
