/**
 * subscribeAll over EventStoreDB: a catch-up subscription to $all (server-side filter: no
 * system event types), whose events queue up in a bounded buffer that the shared delivery loop
 * (batch-follower.ts) drains one batch at a time. The loop keeps a failed batch and hands it
 * to the handler again, so redelivery needs nothing here. When the server drops the
 * subscription (restart, leader change, slow consumer) it is opened again from the last event
 * handed to the loop; the buffer is refilled from there and nothing is skipped or repeated.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { excludeSystemEvents, type AllStreamSubscription, type SubscribeToAllOptions } from '@eventstore/db-client';
import type { RecordedEvent } from '../../domain/events.ts';
import { defaultLogger, followBatches, followerDefaults, type FollowerOptions } from './batch-follower.ts';
import { esdbPositionAfter, fromEsdbEvent } from './esdb-mapping.ts';
import type { BatchHandler, Subscription } from './port.ts';

export interface SubscribeToAllClient {
  subscribeToAll(options?: SubscribeToAllOptions): AllStreamSubscription;
}

export function followEsdbAll(client: SubscribeToAllClient, after: number, handler: BatchHandler, options: FollowerOptions): Subscription {
  const logger = options.logger ?? defaultLogger();
  const batchSize = options.batchSize ?? followerDefaults.batchSize;
  const delays = options.retryDelays ?? followerDefaults.retryDelays;
  const highWater = Math.max(2 * batchSize, 64);
  const description = `EventStoreDB subscription to $all (started after position ${after})`;
  esdbPositionAfter(after); // refuses a bad `after` now rather than in the background

  let closed = false;
  /** Position of the last event handed to the delivery loop: where a new subscription starts. */
  let handedOut = after;
  /** Position of the last event put in the buffer (dedupes an inclusive or repeated start). */
  let queuedUpTo = after;
  let buffer: RecordedEvent[] = [];
  let current: AllStreamSubscription | null = null;
  const wakers = new Set<() => void>();
  let roomWaiter: (() => void) | null = null;
  let stopRetryPause: (() => void) | null = null;

  const makeRoom = () => {
    const wake = roomWaiter;
    roomWaiter = null;
    wake?.();
  };

  async function drop(sub: AllStreamSubscription): Promise<void> {
    try {
      await sub.unsubscribe();
    } catch {
      // The call is gone already.
    }
    // unsubscribe() cancels the gRPC call but does not end the readable: end it, so the
    // iteration below stops.
    sub.destroy();
  }

  async function pump(): Promise<void> {
    let delay = delays.initialMs;
    while (!closed) {
      buffer = [];
      queuedUpTo = handedOut;
      let sub: AllStreamSubscription | null = null;
      try {
        sub = client.subscribeToAll({ fromPosition: esdbPositionAfter(handedOut), resolveLinkTos: false, filter: excludeSystemEvents() });
        current = sub;
        for await (const resolved of sub) {
          if (closed) break;
          const event = resolved.event ? fromEsdbEvent(resolved.event) : null;
          if (!event || event.position <= queuedUpTo) continue;
          buffer.push(event);
          queuedUpTo = event.position;
          delay = delays.initialMs;
          for (const wake of [...wakers]) wake();
          if (buffer.length >= highWater && !closed) await new Promise<void>((resolve) => (roomWaiter = resolve));
        }
        if (!closed) logger.warn({ subscription: description }, `${description}: the server ended the subscription; subscribing again after position ${handedOut}`);
      } catch (err) {
        if (!closed) logger.error({ err, subscription: description }, `${description}: the subscription failed; subscribing again after position ${handedOut} in ${delay} ms`);
      } finally {
        current = null;
        if (sub) await drop(sub);
      }
      if (closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          stopRetryPause = null;
          resolve();
        }
        stopRetryPause = done;
      });
      delay = Math.min(delay * 2, delays.maxMs);
    }
  }

  const pumping = pump();
  const delivery = followBatches<RecordedEvent>(
    {
      description,
      fetch: async () => {
        if (buffer.length === 0) return [];
        // Events of one append arrive as separate messages; let the ones already received
        // join this batch rather than trickle out one by one.
        if (buffer.length < batchSize) await nextMacrotask();
        const batch = buffer.splice(0, batchSize);
        if (batch.length) handedOut = batch[batch.length - 1]!.position;
        if (buffer.length < highWater / 2) makeRoom();
        return batch;
      },
      deliver: (batch) => handler(batch),
      listen: (wake) => {
        wakers.add(wake);
        return () => wakers.delete(wake);
      },
    },
    options,
  );

  return {
    async close() {
      if (!closed) {
        closed = true;
        makeRoom();
        stopRetryPause?.();
        if (current) await drop(current);
      }
      await delivery.close();
      await pumping;
    },
  };
}
