/**
 * Domain events from the bus instead of the store: `msec.events` as the relay publishes it
 * (apps/relay), read back as the store's global log.
 *
 * A message's key is the stream id, its value the protobuf envelope, and its headers carry the
 * event id, type, global position and `prev-position`, the position of the event before it in
 * the store's log. Partitions keep each stream in order but not the log, so the feed puts the
 * log back together: an event is handed over only once the event before it was (or lies at or
 * below `after`). Events at or below the last delivered position are dropped, so redeliveries
 * and the relay's re-sends reach the handler once. A message is acknowledged only after every
 * event in it was handled; a batch that waits for another partition is given back to the bus
 * (DeliverLater) and its events are kept here until their turn comes.
 *
 * With `catchUpFrom` (the event store, the source of truth) the feed first folds in what the
 * store holds after `after`, then follows the bus; and whenever it has waited `gapFillAfterMs`
 * for a missing event, it reads the gap from the store. That covers what the bus cannot give
 * back: a group that committed past the projection's stored checkpoint before a crash (state
 * projections snapshot now and then), a new group, offsets or messages expired by retention.
 */
import pino, { type Logger } from 'pino';
import type { RecordedEvent } from '../../domain/events.ts';
import { decodeEnvelope, encodeEnvelope } from '../../schemas/codec.ts';
import type { BatchHandler, EventStore } from '../eventstore/port.ts';
import { DeliverLater, topics, type BusMessage, type BusSubscription, type ConsumedMessage, type MessageBus } from './port.ts';

export const eventHeaders = {
  id: 'event-id',
  type: 'event-type',
  position: 'position',
  prevPosition: 'prev-position',
} as const;

/** The `msec.events` message of a stored event; `prevPosition` is the position of the event before it in the log. */
export function eventMessage(event: RecordedEvent, prevPosition: number): BusMessage {
  return {
    key: event.stream,
    value: encodeEnvelope(event, event.stream, { revision: event.revision, position: event.position }),
    headers: {
      [eventHeaders.id]: event.id,
      [eventHeaders.type]: event.type,
      [eventHeaders.position]: String(event.position),
      [eventHeaders.prevPosition]: String(prevPosition),
    },
  };
}

/** The store-shaped view of the event topic: what a projection runner subscribes to. */
export interface EventFeed {
  subscribeAll(after: number, handler: BatchHandler): BusSubscription;
}

export interface EventFeedOptions {
  /** Consumer group; one live subscriber per group (a group's partitions split between members would each wait for the other's events). */
  group: string;
  topic?: string;
  logger?: Logger;
  /** Most events per handler call (default 500). */
  batchSize?: number;
  /** Warn when the feed has waited this long for a missing event (default 30 s). */
  stallWarningMs?: number;
  /** The store to catch up from at start and to fill gaps from (see above). */
  catchUpFrom?: Pick<EventStore, 'readAll'>;
  /** How long a missing event is waited for on the bus before it is read from the store (default 2 s). */
  gapFillAfterMs?: number;
  /** Pause before a failed catch-up is tried again (default 1 s). */
  retryMs?: number;
}

export function busEventFeed(bus: MessageBus, options: EventFeedOptions): EventFeed {
  const topic = options.topic ?? topics.events;
  const logger = options.logger ?? pino({ name: 'msec-event-feed' }, pino.destination(2));
  const batchSize = options.batchSize ?? 500;
  const stallWarningMs = options.stallWarningMs ?? 30_000;
  const gapFillAfterMs = options.gapFillAfterMs ?? 2000;
  const retryMs = options.retryMs ?? 1000;
  const store = options.catchUpFrom;
  return {
    subscribeAll(after, handler) {
      const chain = new PositionChain(after);
      let waitingSince: number | undefined;
      let warned = false;
      let closed = false;

      /** Hands the store's events after `chain.delivered` up to `upTo` to the handler, in pages. */
      const readFromStore = async (upTo: number) => {
        while (!closed && store && chain.delivered < upTo) {
          const page = (await store.readAll(chain.delivered, batchSize)).filter((e) => e.position <= upTo);
          if (page.length === 0) return;
          await handler(page);
          chain.advance(page[page.length - 1]!.position);
        }
      };
      // Catch up from the store before the first bus batch is looked at (both run in order).
      const caughtUp = store ? (async () => {
        for (;;) {
          try {
            return await readFromStore(Number.MAX_SAFE_INTEGER);
          } catch (err) {
            if (closed) return;
            logger.warn({ err, group: options.group }, `event feed (group ${options.group}): catching up from the store failed; retrying`);
            await new Promise((r) => setTimeout(r, retryMs));
          }
        }
      })() : Promise.resolve();

      const subscription = bus.subscribe({ topic, group: options.group, fromBeginning: true }, async (batch) => {
        await caughtUp;
        let newest = 0;
        for (const m of batch) {
          const { position, prev } = positionsOf(m);
          newest = Math.max(newest, position);
          if (position > chain.delivered && !chain.has(position)) chain.offer(decoded(m), prev);
        }
        const deliver = async () => {
          const ready = chain.takeDeliverable();
          for (let i = 0; i < ready.length; i += batchSize) {
            const chunk = ready.slice(i, i + batchSize);
            await handler(chunk);
            chain.advance(chunk[chunk.length - 1]!.position);
          }
          return ready.length;
        };
        if (await deliver() > 0) {
          waitingSince = undefined;
          warned = false;
        }
        if (newest <= chain.delivered) return;
        waitingSince ??= Date.now();
        if (store && Date.now() - waitingSince >= gapFillAfterMs) {
          // The bus has not given the missing events in time: the store has them.
          await readFromStore(chain.lowestHeld() - 1);
          await deliver();
          waitingSince = undefined;
          if (newest <= chain.delivered) return;
        }
        if (!warned && waitingSince !== undefined && Date.now() - waitingSince >= stallWarningMs) {
          warned = true;
          logger.warn({ group: options.group, topic, delivered: chain.delivered, held: chain.size },
            `event feed (group ${options.group}) has waited ${Math.round((Date.now() - waitingSince) / 1000)} s for the event after position ${chain.delivered}; ` +
              'if this group consumed it before (a replay from an earlier position), subscribe with a new group');
        }
        throw new DeliverLater(`event feed (group ${options.group}): waiting for the event after position ${chain.delivered} from another partition`);
      });
      return {
        ...(subscription.ready ? { ready: () => subscription.ready!() } : {}),
        close: async () => {
          closed = true;
          await caughtUp;
          await subscription.close();
        },
      };
    },
  };
}

function positionsOf(m: ConsumedMessage): { position: number; prev: number } {
  const position = Number(m.headers?.[eventHeaders.position]);
  const prev = Number(m.headers?.[eventHeaders.prevPosition]);
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(prev)) {
    throw new Error(`message at offset ${m.offset} of ${m.topic} has no "${eventHeaders.position}"/"${eventHeaders.prevPosition}" headers: ` +
      'only the outbox relay may publish to the event topic; remove the stray message or move the group past it');
  }
  return { position, prev };
}

function decoded(m: ConsumedMessage): RecordedEvent {
  try {
    return decodeEnvelope(m.value);
  } catch (err) {
    throw new Error(`message at offset ${m.offset} of ${m.topic} is not an event envelope (${(err as Error).message}): remove it or move the group past it`, { cause: err });
  }
}

/** Events waiting for their turn, and the position of the last one handed over. */
export class PositionChain {
  private readonly byPosition = new Map<number, { event: RecordedEvent; prev: number }>();
  private readonly byPrev = new Map<number, number>();

  constructor(public delivered: number) {}

  get size(): number {
    return this.byPosition.size;
  }

  has(position: number): boolean {
    return this.byPosition.has(position);
  }

  /** The lowest position held (Infinity when none). */
  lowestHeld(): number {
    let lowest = Infinity;
    for (const p of this.byPosition.keys()) lowest = Math.min(lowest, p);
    return lowest;
  }

  offer(event: RecordedEvent, prev: number): void {
    if (event.position <= this.delivered || this.byPosition.has(event.position)) return;
    this.byPosition.set(event.position, { event, prev });
    this.byPrev.set(prev, event.position);
  }

  /** The run of events that follows `delivered`, in log order; they stay held until advance(). */
  takeDeliverable(): RecordedEvent[] {
    const run: RecordedEvent[] = [];
    let cursor = this.delivered;
    for (;;) {
      const next = this.byPrev.get(cursor) ?? this.firstAcross(cursor);
      if (next === undefined) return run;
      run.push(this.byPosition.get(next)!.event);
      cursor = next;
    }
  }

  /** Marks everything up to `position` handed over. */
  advance(position: number): void {
    for (const [p, held] of this.byPosition) {
      if (p > position) continue;
      this.byPosition.delete(p);
      if (this.byPrev.get(held.prev) === p) this.byPrev.delete(held.prev);
    }
    this.delivered = Math.max(this.delivered, position);
  }

  /** The event whose predecessor lies at or below `cursor` though not exactly at it (`after` fell in a gap of positions). */
  private firstAcross(cursor: number): number | undefined {
    let best: number | undefined;
    for (const [p, held] of this.byPosition) {
      if (p > cursor && held.prev <= cursor && (best === undefined || p < best)) best = p;
    }
    return best;
  }
}
