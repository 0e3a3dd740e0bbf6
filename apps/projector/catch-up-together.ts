import type { Logger } from 'pino';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import type { LiveProjection } from './live-projection.ts';

export interface CatchUpTogetherOptions {
  store: EventStore;
  /** The projections that follow the store, each loaded (stored state and checkpoint). */
  projections: readonly LiveProjection[];
  pageSize: number;
  logger: Logger;
  /** Asked before each page: true ends the catch-up where it is. */
  stopping(): boolean;
  /** Called once per projection as soon as it leaves the group (a batch failed) or the group is done. */
  release(projection: LiveProjection): void;
}

/**
 * Brings projections that follow the event store up to its head with one read of the log:
 * each page is read and decoded once and handed to every projection, where each following on
 * its own would read (and, past the shared cache of recent events, decode) the log once per
 * projection — on a rebuild from position 0, the largest cost after the audit's writes.
 *
 * Two pages are in flight at a time: while a projection that stores rows waits for its write,
 * the next page is read and folded by the others. A projection that fails a page leaves the
 * group at once (released: it then follows on its own, with its subscription's retries), so one
 * failing view store never holds back the others; the pages already queued for it are skipped,
 * since it no longer has everything before them.
 */
export async function catchUpTogether(options: CatchUpTogetherOptions): Promise<void> {
  const { store, pageSize, logger } = options;
  const group = new Set(options.projections);
  const leave = (live: LiveProjection) => {
    if (group.delete(live)) options.release(live);
  };
  const inFlight: Promise<unknown>[] = [];
  try {
    let after = Math.min(...[...group].map((live) => live.checkpoint));
    while (group.size > 0 && !options.stopping()) {
      const page = await store.readAll(after, pageSize);
      if (page.length === 0) break;
      const readAfter = after;
      after = page[page.length - 1]!.position;
      inFlight.push(Promise.all([...group].map((live) => live.offer(page, readAfter).catch((err: unknown) => {
        // The projection logged the failure; it goes on alone from its checkpoint.
        logger.debug({ err, projection: live.key }, `${live.key} leaves the joint catch-up at position ${live.checkpoint}`);
        leave(live);
      }))));
      if (inFlight.length >= 2) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    for (const live of [...group]) leave(live);
  }
}
