import type { NewEvent, RecordedEvent } from '../../domain/events.ts';

/** What the writer expects the stream's last revision to be. */
export type ExpectedRevision = 'any' | 'no_stream' | number;

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextRevision: number;
  /** Global position of the last appended (or, on an idempotent retry, already present) event. */
  position: number;
}

/** Raised when the stream's revision is not the expected one. The console answers 409. */
export class WrongExpectedRevision extends Error {
  constructor(readonly stream: string, readonly expected: ExpectedRevision, readonly actual: number | 'no_stream') {
    super(`stream ${stream} is at revision ${String(actual)}, not ${String(expected)}: reload it and try again`);
    this.name = 'WrongExpectedRevision';
  }
}

export interface Subscription {
  /** Stops delivery; resolves once the handler is no longer running. */
  close(): Promise<void>;
}

export type BatchHandler = (events: RecordedEvent[]) => Promise<void> | void;

/**
 * The event store: the source of truth and the outbox of the bus.
 * - append is atomic per call and idempotent by event id: appending events whose ids are
 *   already stored (same stream) succeeds without writing them again.
 * - revisions are 0-based per stream; global positions start at 1 and only grow.
 */
export interface EventStore {
  append(stream: string, expected: ExpectedRevision, events: NewEvent[]): Promise<AppendResult>;
  readStream(stream: string, fromRevision?: number): Promise<RecordedEvent[]>;
  /** Events with position > `after`, in order, at most `limit`. */
  readAll(after: number, limit: number): Promise<RecordedEvent[]>;
  /** Position of the last stored event (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * Catch up from `after`, then follow live appends (from this or another process).
   * Batches are delivered one at a time; the next batch waits for the handler's promise.
   * A handler that throws gets the same events again after a delay: nothing is skipped.
   */
  subscribeAll(after: number, handler: BatchHandler): Subscription;
  close(): Promise<void>;
}
