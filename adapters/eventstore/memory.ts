/**
 * An event store in memory, for fast tests. Same rules as the SQLite store, and events still
 * go through the protobuf envelope both ways so a schema mistake fails here as it would there.
 */
import type { NewEvent, RecordedEvent } from '../../domain/events.ts';
import { decodeEnvelope, encodeEnvelope } from '../../schemas/codec.ts';
import { assertAppendable, checkExpectedRevision, earlierResult, type StoredAt } from './append-rules.ts';
import type { FollowerOptions } from './batch-follower.ts';
import { followAll } from './follow-all.ts';
import { OpenSubscriptions } from './open-subscriptions.ts';
import type { AppendResult, BatchHandler, EventStore, ExpectedRevision, Subscription } from './port.ts';

interface StoredEvent extends StoredAt {
  id: string;
  envelope: Uint8Array;
}

/**
 * The stored events. Hand one log to several MemoryEventStores to play a restart or a second
 * process: they all see the same events and wake each other's subscriptions.
 */
export class MemoryEventLog {
  /** Index i holds position i + 1. */
  readonly events: StoredEvent[] = [];
  readonly byId = new Map<string, StoredEvent>();
  readonly lastRevisionByStream = new Map<string, number>();
  readonly revisionsByStream = new Map<string, StoredEvent[]>();
  readonly listeners = new Set<() => void>();
}

export interface MemoryEventStoreOptions extends FollowerOptions {
  log?: MemoryEventLog;
}

export class MemoryEventStore implements EventStore {
  readonly log: MemoryEventLog;
  private readonly subscriptions = new OpenSubscriptions();
  private closed = false;

  constructor(private readonly options: MemoryEventStoreOptions = {}) {
    this.log = options.log ?? new MemoryEventLog();
  }

  async append(stream: string, expected: ExpectedRevision, events: NewEvent[]): Promise<AppendResult> {
    this.assertOpen();
    assertAppendable(stream, events);
    const log = this.log;
    const earlier = earlierResult(stream, events, (id) => log.byId.get(id));
    if (earlier) return earlier;
    const current = log.lastRevisionByStream.get(stream);
    checkExpectedRevision(stream, expected, current);
    const firstRevision = (current ?? -1) + 1;
    const firstPosition = log.events.length + 1;
    if (events.length === 0) return { nextRevision: current ?? -1, position: firstPosition - 1 };
    // Encode everything before storing anything: a bad payload must leave the log untouched.
    const stored = events.map((event, i): StoredEvent => {
      const at = { revision: firstRevision + i, position: firstPosition + i };
      return { id: event.id, stream, ...at, envelope: encodeEnvelope(event, stream, at) };
    });
    const streamEvents = log.revisionsByStream.get(stream) ?? [];
    for (const s of stored) {
      log.events.push(s);
      log.byId.set(s.id, s);
      streamEvents.push(s);
    }
    log.revisionsByStream.set(stream, streamEvents);
    const last = stored[stored.length - 1]!;
    log.lastRevisionByStream.set(stream, last.revision);
    for (const wake of [...log.listeners]) wake();
    return { nextRevision: last.revision, position: last.position };
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    this.assertOpen();
    const events = this.log.revisionsByStream.get(stream) ?? [];
    return events.slice(Math.max(0, fromRevision)).map((e) => decodeEnvelope(e.envelope));
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readAllNow(after, limit);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.log.events.length;
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    this.assertOpen();
    const log = this.log;
    const global = {
      name: 'in-memory event store',
      readAfter: (position: number, limit: number) => this.readAllNow(position, limit),
      knownHead: () => log.events.length,
      listen: (wake: () => void) => {
        log.listeners.add(wake);
        return () => log.listeners.delete(wake);
      },
    };
    return this.subscriptions.add(followAll(global, after, handler, this.options));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscriptions.closeAll();
  }

  private readAllNow(after: number, limit: number): RecordedEvent[] {
    const from = Math.max(0, Math.floor(after));
    return this.log.events.slice(from, from + Math.max(0, limit)).map((e) => decodeEnvelope(e.envelope));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the event store is closed: create a new MemoryEventStore (pass the same log to keep its events)');
  }
}
