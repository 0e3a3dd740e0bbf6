import type { RecordedEvent } from '../../domain/events.ts';
import { followBatches, followerDefaults, type FollowerOptions } from './batch-follower.ts';
import type { BatchHandler, Subscription } from './port.ts';

export interface GlobalLog {
  /** Short name for log lines, e.g. "sqlite event store". */
  name: string;
  readAfter(position: number, limit: number): RecordedEvent[];
  listen(wake: () => void): () => void;
  /** The last position this process knows to exist (its own last append, say), when it knows one. */
  knownHead?(): number | undefined;
}

/** subscribeAll of the embedded stores: the log in position order, from `after` on. */
export function followAll(log: GlobalLog, after: number, handler: BatchHandler, options: FollowerOptions): Subscription {
  let delivered = after;
  const batchSize = options.batchSize ?? followerDefaults.batchSize;
  return followBatches<RecordedEvent>(
    {
      description: `${log.name} subscription (started after position ${after})`,
      fetch: () => log.readAfter(delivered, batchSize),
      deliver: async (batch) => {
        await handler(batch);
        delivered = batch[batch.length - 1]!.position;
      },
      listen: log.listen,
      // A short batch up to the known head: the next look waits for a wake-up (another process's appends: the next poll).
      drained: (batch) => {
        const head = log.knownHead?.();
        return head !== undefined && batch.length < batchSize && batch[batch.length - 1]!.position >= head;
      },
    },
    options,
  );
}
