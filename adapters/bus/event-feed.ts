/**
 * Domain events from the bus instead of the store: `msec.events` as the relay publishes it
 * (apps/relay, messages described in event-message.ts), read back as the store's global log.
 *
 * Partitions keep each stream in order but not the log, so the feed puts the log back
 * together (PositionChain): an event is handed over only once the event before it was (or lies
 * at or below `after`). Events at or below the last delivered position are dropped, so
 * redeliveries and the relay's re-sends reach the handler once. A message is acknowledged only
 * after every event in it was handled; a batch that waits for another partition is given back
 * to the bus (DeliverLater) and its events are kept here until their turn comes.
 *
 * The topic is not trusted: a message is used only if the relay's signature verifies with the
 * deployment key and its headers agree with the signed envelope, and, with the store at hand,
 * only if its position is not past the store's head (read again when a message claims more).
 * Anything else is refused: skipped and counted (refusals.ts), never handed to the handler,
 * never stalling the group, never moving a checkpoint.
 *
 * With `catchUpFrom` (the event store, the source of truth) the feed first folds in what the
 * store holds after `after`, then follows the bus; whenever it has waited `gapFillAfterMs` for
 * a missing event it reads the gap from the store, and after a refusal it reads the store up
 * to its head, so a real event refused by mistake (another key, a head read too early) still
 * arrives. That also covers what the bus cannot give back: a group that committed past the
 * projection's stored checkpoint before a crash, a new group, messages expired by retention.
 */
import pino, { type Logger } from 'pino';
import type { RecordedEvent } from '../../domain/events.ts';
import type { BusKey } from '../signing/bus-key.ts';
import type { BatchHandler, EventStore } from '../eventstore/port.ts';
import { checkSigned, openSigned, type Refused, type Signed } from './event-message.ts';
import { PositionChain } from './position-chain.ts';
import { eventFeedRefusals, type RefusalCounts } from './refusals.ts';
import { DeliverLater, topics, type BusSubscription, type ConsumedMessage, type MessageBus } from './port.ts';

/** The store-shaped view of the event topic: what a projection runner subscribes to. */
export interface EventFeed {
  subscribeAll(after: number, handler: BatchHandler): BusSubscription;
}

export interface BusEventFeed extends EventFeed {
  /** What this feed refused since it was made, by reason. */
  refusals(): RefusalCounts;
  /** True with `catchUpFrom`: subscribing again after a checkpoint brings back every later event. */
  readonly resumesFromCheckpoint: boolean;
}

export interface EventFeedOptions {
  /** Consumer group; one live subscriber per group (a group's partitions split between members would each wait for the other's events). */
  group: string;
  /** The deployment key the relay signs with (adapters/signing). */
  key: BusKey;
  topic?: string;
  logger?: Logger;
  /** Most events per handler call (default 500). */
  batchSize?: number;
  /** Warn when the feed has waited this long for a missing event (default 30 s). */
  stallWarningMs?: number;
  /** The store to catch up from, to check positions against and to fill gaps from (see above). */
  catchUpFrom?: Pick<EventStore, 'readAll' | 'headPosition'>;
  /** How long a missing event is waited for on the bus before it is read from the store (default 2 s). */
  gapFillAfterMs?: number;
  /** Pause before a failed catch-up is tried again (default 1 s). */
  retryMs?: number;
  /** Least time between two log lines about refusals of one reason (default 60 s). */
  refusalLogEveryMs?: number;
}

export function busEventFeed(bus: MessageBus, options: EventFeedOptions): BusEventFeed {
  const topic = options.topic ?? topics.events;
  const logger = options.logger ?? pino({ name: 'msec-event-feed' }, pino.destination(2));
  const batchSize = options.batchSize ?? 500;
  const stallWarningMs = options.stallWarningMs ?? 30_000;
  const gapFillAfterMs = options.gapFillAfterMs ?? 2000;
  const retryMs = options.retryMs ?? 1000;
  const store = options.catchUpFrom;
  const { key, group } = options;
  const refusals = eventFeedRefusals(logger, { group, topic }, options.refusalLogEveryMs);
  return {
    refusals: () => refusals.snapshot(),
    resumesFromCheckpoint: store !== undefined,
    subscribeAll(after, handler) {
      const chain = new PositionChain(after);
      /** The store's head as last read: a message claiming more makes the feed read it again. */
      let head = 0;
      let waitingSince: number | undefined;
      let warned = false;
      let closed = false;
      let sweepTimer: NodeJS.Timeout | undefined;
      // The catch-up, the bus batches and the sweeps take turns: all of them move the chain.
      let turn: Promise<unknown> = Promise.resolve();
      const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
        const run = turn.then(task);
        turn = run.catch(() => {});
        return run;
      };

      /** Hands the store's events after `chain.delivered` up to `upTo` to the handler, in pages. */
      const readFromStore = async (upTo: number) => {
        while (!closed && store && chain.delivered < upTo) {
          const page = (await store.readAll(chain.delivered, batchSize)).filter((e) => e.position <= upTo);
          if (page.length === 0) return;
          await handler(page);
          chain.advance(page[page.length - 1]!.position);
        }
      };

      const caughtUp = store ? exclusive(async () => {
        for (;;) {
          try {
            return await readFromStore(Number.MAX_SAFE_INTEGER);
          } catch (err) {
            if (closed) return;
            logger.warn({ err, group }, `event feed (group ${group}): catching up from the store failed; retrying`);
            await new Promise((r) => setTimeout(r, retryMs));
          }
        }
      }) : Promise.resolve();

      /** After a refusal: the store up to its head, once the bus had `gapFillAfterMs` to bring the real event. */
      let sweepFailing = false;
      const sweepSoon = () => {
        if (!store || closed || sweepTimer) return;
        sweepTimer = setTimeout(() => {
          void exclusive(async () => {
            sweepTimer = undefined;
            if (closed) return;
            head = Math.max(head, await store.headPosition());
            await readFromStore(head);
            sweepFailing = false;
          }).catch((err: unknown) => {
            // Said once per run of failures: the projection's own retries report the cause too.
            if (!sweepFailing) logger.warn({ err, group }, `event feed (group ${group}): reading the store after a refused message failed; trying again every ${gapFillAfterMs} ms`);
            sweepFailing = true;
            sweepSoon();
          });
        }, gapFillAfterMs);
        sweepTimer.unref();
      };
      const refuse = (m: ConsumedMessage, refused: Refused) => {
        if (!refusals.isNew(m)) return;
        refusals.refuse(m, refused.reason, refused.detail);
        sweepSoon();
      };

      /** The signed message's event, if it is new to the chain and believable; null when refused. */
      const examine = (m: ConsumedMessage): { s: Signed; event?: RecordedEvent } | null => {
        let checked: Signed | Refused;
        let opened: { ok: true; event: RecordedEvent } | Refused | undefined;
        try {
          checked = checkSigned(m, key);
          // What the chain has (or had) needs no decoding: a replayed genuine message changes nothing.
          if (checked.ok && checked.position > chain.delivered && !chain.has(checked.position)) opened = openSigned(m, checked);
        } catch (err) {
          // Whatever a message does to the checks, it is that message's problem, not the group's.
          checked = { ok: false, reason: 'malformed', detail: `the checks failed on it (${(err as Error).message})` };
        }
        const refused = !checked.ok ? checked : opened && !opened.ok ? opened : undefined;
        if (refused) {
          refuse(m, refused);
          return null;
        }
        return { s: checked as Signed, ...(opened?.ok ? { event: opened.event } : {}) };
      };

      const take = async (batch: ConsumedMessage[]) => {
        const believed = batch.map((m) => ({ m, x: examine(m) }));
        const claimed = believed.reduce((most, { x }) => (x?.event ? Math.max(most, x.s.position) : most), 0);
        if (store && claimed > head) head = Math.max(head, await store.headPosition());
        let newest = 0;
        for (const { m, x } of believed) {
          if (!x) continue;
          if (x.event) {
            if (store && x.s.position > head) {
              refuse(m, { ok: false, reason: 'past-head', detail: `position ${x.s.position} is past the event store's head (${head})` });
              continue;
            }
            chain.offer(x.event, x.s.prev);
          }
          newest = Math.max(newest, x.s.position);
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
          logger.warn({ group, topic, delivered: chain.delivered, held: chain.size },
            `event feed (group ${group}) has waited ${Math.round((Date.now() - waitingSince) / 1000)} s for the event after position ${chain.delivered}; ` +
              'if this group consumed it before (a replay from an earlier position), subscribe with a new group');
        }
        throw new DeliverLater(`event feed (group ${group}): waiting for the event after position ${chain.delivered} from another partition`);
      };

      const subscription = bus.subscribe({ topic, group, fromBeginning: true }, (batch) => exclusive(async () => {
        try {
          await take(batch);
        } finally {
          refusals.looked(batch);
        }
      }));
      return {
        ...(subscription.ready ? { ready: () => subscription.ready!() } : {}),
        close: async () => {
          closed = true;
          if (sweepTimer) clearTimeout(sweepTimer);
          sweepTimer = undefined;
          await caughtUp;
          await subscription.close();
          await turn;
        },
      };
    },
  };
}
