import type { Subscription } from '../eventstore/port.ts';

export interface BusMessage {
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

export interface ConsumedMessage extends BusMessage {
  topic: string;
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
 * Messages with one key stay in order.
 */
export interface MessageBus {
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  subscribe(
    options: { topic: string; group: string; fromBeginning?: boolean },
    handler: (batch: ConsumedMessage[]) => Promise<void> | void,
  ): Subscription;
  /** Committed offset of a group on a topic (-1 when none) and the topic's end offset. */
  lag(topic: string, group: string): Promise<{ committed: number; end: number }>;
  close(): Promise<void>;
}

/** Named checkpoints for consumers that keep their own position (projections, relay). */
export interface CheckpointStore {
  load(name: string): Promise<number | null>;
  save(name: string, position: number): Promise<void>;
}
