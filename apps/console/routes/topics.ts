/**
 * Tailing a report topic of the bus (`msec events tail --topic msec.reports.calls`): the
 * messages published after the tail started, decoded (schemas/reports.ts for the RPC reports).
 *
 * A tail is a consumer group named `tail-…`: the first request makes one (starting at the end
 * of the topic) and answers its name; the next requests pass it back with `?group=` and get
 * what came since, so nothing is missed between two polls. `?wait=<s>` waits for the first
 * messages. Only `msec.reports.*` topics can be tailed: the event and command topics carry
 * data (password hashes, signed commands) that the API only shows redacted, if at all.
 */
import type { FastifyInstance } from 'fastify';
import { uuidv7 } from '../../../domain/event-ids.ts';
import type { ConsumedMessage, MessageBus } from '../../../adapters/bus/port.ts';
import { decodeReport, isReportTopic } from '../../../schemas/reports.ts';
import type { ConsoleContext } from '../context.ts';
import { abortOnClose } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';

const topicPattern = '^msec\\.reports\\.[a-z][a-z0-9_-]{0,63}$';
const groupPattern = '^tail-[A-Za-z0-9-]{1,80}$';

export interface TailMessage {
  offset: number;
  key: string;
  timestamp: number;
  value: unknown;
}

export function topicRoutes(ctx: ConsoleContext, bus: MessageBus) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: { topic: string }; Querystring: { wait?: number; group?: string } }>('/api/topics/:topic/tail', {
      config: { permission: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Messages published on a report topic after the tail started; pass the answered group back to continue, ?wait=<s> to wait for some',
        params: { type: 'object', required: ['topic'], properties: { topic: { type: 'string', pattern: topicPattern } } },
        querystring: {
          type: 'object', additionalProperties: false,
          properties: { wait: { type: 'integer', minimum: 0, maximum: 120, default: 0 }, group: { type: 'string', pattern: groupPattern } },
        },
      },
    }, async (request) => {
      const { topic } = request.params;
      const group = request.query.group ?? `tail-${uuidv7(ctx.clock())}`;
      const messages = await tail(bus, topic, group, (request.query.wait ?? 0) * 1000, abortOnClose(request));
      return { topic, group, messages: messages.map((m) => decoded(topic, m)) };
    });
  };
}

/** Subscribes the group, waits for the first batch (or the time, or the client leaving), stops. */
async function tail(bus: MessageBus, topic: string, group: string, waitMs: number, signal: AbortSignal): Promise<ConsumedMessage[]> {
  const collected: ConsumedMessage[] = [];
  let arrived!: () => void;
  const first = new Promise<void>((resolve) => (arrived = resolve));
  let subscription;
  try {
    subscription = bus.subscribe({ topic, group }, (batch) => {
      collected.push(...batch);
      arrived();
    });
  } catch (error) {
    if (/already consumes/.test((error as Error).message)) {
      throw new HttpProblem(409, 'conflict', `tail group ${group} is being read by another request: wait for it, or start a new tail`);
    }
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    // With no wait, one turn of the event loop lets a waiting batch be read.
    await Promise.race([first, waitMs > 0 ? stop : new Promise((r) => setImmediate(r))]);
  } finally {
    clearTimeout(timer);
    await subscription.close();
  }
  return collected;
}

function decoded(topic: string, m: ConsumedMessage): TailMessage {
  return { offset: m.offset, key: m.key, timestamp: m.timestamp, value: valueOf(topic, m.value) };
}

/** RPC reports through their schema; other report topics as JSON when they are, else base64. */
function valueOf(topic: string, bytes: Uint8Array): unknown {
  try {
    if (isReportTopic(topic)) return decodeReport(topic, bytes);
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { undecoded: Buffer.from(bytes).toString('base64') };
  }
}
