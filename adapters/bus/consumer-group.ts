/**
 * Consumer groups of the embedded buses. A group's committed offset is the next offset it
 * will read (as in Kafka); it moves only after the handler resolved, so a crash or a failing
 * handler gets the same batch again (at-least-once).
 */
import { followBatches, followerDefaults, type FollowerOptions } from '../eventstore/batch-follower.ts';
import type { Subscription } from '../eventstore/port.ts';
import type { ConsumedMessage } from './port.ts';

/** What a consumer group needs from a bus's storage. */
export interface TopicLog {
  /** Short name for log lines, e.g. "sqlite bus". */
  name: string;
  read(topic: string, fromOffset: number, limit: number): ConsumedMessage[];
  /** Next offset the group will read, or null when it never committed. */
  committed(topic: string, group: string): number | null;
  commit(topic: string, group: string, nextOffset: number): void;
  /** The offset the next published message will get (0 for an empty topic). */
  endOffset(topic: string): number;
  listen(topic: string, wake: () => void): () => void;
}

export interface GroupOptions {
  topic: string;
  group: string;
  fromBeginning?: boolean;
  /** Partitions handled at once (partitioned buses only; default 1). */
  concurrency?: number;
}

export type MessageHandler = (batch: ConsumedMessage[]) => Promise<void> | void;

export function consumeGroup(log: TopicLog, { topic, group, fromBeginning }: GroupOptions, handler: MessageHandler, options: FollowerOptions): Subscription {
  let next = log.committed(topic, group);
  if (next === null && fromBeginning) next = 0;
  if (next === null) {
    // A new group starts at the end. Commit that start now, so a restart before the first
    // message resumes here instead of at a later end (which would skip what came between).
    next = log.endOffset(topic);
    log.commit(topic, group, next);
  }
  const batchSize = options.batchSize ?? followerDefaults.batchSize;
  return followBatches<ConsumedMessage>(
    {
      description: `${log.name} group "${group}" on topic ${topic}`,
      fetch: () => log.read(topic, next!, batchSize),
      deliver: async (batch) => {
        await handler(batch);
        const after = batch[batch.length - 1]!.offset + 1;
        log.commit(topic, group, after);
        next = after;
      },
      listen: (wake) => log.listen(topic, wake),
    },
    options,
  );
}

/**
 * The embedded buses do not split a topic between members of a group, so two live consumers
 * of one group would each get every message. Refuse the second one instead.
 */
export class ActiveGroups {
  private readonly active = new Set<string>();

  consume(log: TopicLog, group: GroupOptions, handler: MessageHandler, options: FollowerOptions): Subscription {
    const key = `${group.topic}\u0000${group.group}`;
    if (this.active.has(key)) {
      throw new Error(`group "${group.group}" already consumes ${group.topic} on this bus: close its subscription first, or use another group name to get every message again`);
    }
    this.active.add(key);
    let inner: Subscription;
    try {
      inner = consumeGroup(log, group, handler, options);
    } catch (err) {
      this.active.delete(key);
      throw err;
    }
    return {
      close: async () => {
        await inner.close();
        // Released only once the handler stopped, so a new consumer cannot overlap it.
        this.active.delete(key);
      },
    };
  }
}

export function closedBusError(kind: string): Error {
  return new Error(`the ${kind} bus is closed: open a new one instead of reusing it`);
}
