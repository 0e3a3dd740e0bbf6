import type { Subscription } from '../eventstore/port.ts';

export interface BusMessage {
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

/**
 * A subscription to a topic. `ready()` resolves once the consumer is positioned, so a message
 * published after it is delivered (Kafka: the group was joined and its start offsets resolved,
 * which takes seconds). Buses without the method are ready as soon as subscribe() returns.
 */
export interface BusSubscription extends Subscription {
  ready?(): Promise<void>;
}

/**
 * Thrown by a handler that cannot take a batch yet but expects to soon (the event feed waiting
 * for an earlier event from another partition): the bus delivers the batch again after a short
 * pause and logs it at debug level only. Nothing of the batch is committed.
 */
export class DeliverLater extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliverLater';
  }
}

export interface ConsumedMessage extends BusMessage {
  topic: string;
  /** The partition of a partitioned bus (Kafka); offsets count within it. Absent: one partition. */
  partition?: number;
  offset: number;
  timestamp: number;
}

/** Agent and runtime reports; `calls` carries RPC call edges (caller -> callee.method). */
export type ReportKind = 'heartbeat' | 'metrics' | 'logs' | 'routes' | 'results' | 'calls';

/** Topic names of design.md. */
export const topics = {
  events: 'msec.events',
  commands: 'msec.commands',
  reports: (kind: ReportKind) => `msec.reports.${kind}`,
} as const;

/**
 * A message bus with consumer groups. At-least-once: a group's offset advances only after
 * its handler's promise resolved, so a crash redelivers the unacknowledged batch.
 * Messages with one key stay in order. A partitioned bus (Kafka) hands a subscription's
 * handler one batch at a time, each batch from one partition; with `concurrency` N, batches of
 * up to N partitions at once (for handlers that need no order across partitions). A bus with
 * one partition per topic delivers one batch at a time whatever N.
 */
export interface MessageBus {
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  subscribe(
    options: { topic: string; group: string; fromBeginning?: boolean; concurrency?: number },
    handler: (batch: ConsumedMessage[]) => Promise<void> | void,
  ): BusSubscription;
  /**
   * Committed offset of a group on a topic (-1 when none) and the topic's end offset. A
   * partitioned topic sums both over its partitions, so `end - committed` is the lag.
   */
  lag(topic: string, group: string): Promise<{ committed: number; end: number }>;
  close(): Promise<void>;
}

/** Named checkpoints for consumers that keep their own position (projections, relay). */
export interface CheckpointStore {
  load(name: string): Promise<number | null>;
  save(name: string, position: number): Promise<void>;
}
