/**
 * The event store on EventStoreDB (MSEC_EVENTSTORE=esdb://host:2113?tls=false). UNVERIFIED:
 * no EventStoreDB server could be had where this was written; the shared contract suite runs
 * against a real one when MSEC_TEST_ESDB_URL is set (tests/contract/eventstore.esdb.test.ts).
 *
 * - append: ESDB's expected revision and its dedupe by event id; the AppendResult is read back
 *   (the revision ESDB reports, the position of the event at that revision), so a first append
 *   and its retry return the same result. ESDB guarantees dedupe for an expected revision or
 *   no_stream; with 'any' it is best effort (its recent-ids cache), as its documentation says.
 * - positions: commit positions in ESDB's transaction log (see globalPosition in esdb-mapping.ts).
 * - the global log is $all without system events and without other applications' events.
 * Needs EventStoreDB 22.10 or later, and a user that may read $all (admins can).
 */
import { readFileSync } from 'node:fs';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  type AllStreamRecordedEvent,
  type AppendResult as EsdbAppendResult,
  type Direction,
  type Position,
  type ReadAllOptions,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from '../../domain/events.ts';
import { assertAppendable, checkExpectedRevision } from './append-rules.ts';
import type { FollowerOptions } from './batch-follower.ts';
import {
  appendError,
  comparePositions,
  esdbPositionAfter,
  fromEsdbEvent,
  globalPosition,
  isMsecEvent,
  isStreamNotFound,
  revisionNumber,
  toEsdbEvent,
  toEsdbExpectedRevision,
} from './esdb-mapping.ts';
import { followEsdbAll } from './esdb-subscription.ts';
import { esdbChannel, parseEsdbUrl } from './esdb-url.ts';
import { OpenSubscriptions } from './open-subscriptions.ts';
import type { AppendResult, BatchHandler, EventStore, ExpectedRevision, Subscription } from './port.ts';

/** The part of EventStoreDBClient this adapter uses (a test can stand in for it). */
export type EsdbClient = Pick<EventStoreDBClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'>;

/** A client for the URL; credentials never leave the client's call metadata. */
export function openEsdbClient(url: string, env: Record<string, string | undefined> = process.env): EventStoreDBClient {
  const connection = parseEsdbUrl(url, env);
  const channel = esdbChannel(connection, (path) => readFileSync(path));
  const { settings, credentials } = connection;
  if ('discover' in settings) return new EventStoreDBClient(settings, channel, credentials);
  if ('endpoints' in settings) return new EventStoreDBClient(settings, channel, credentials);
  return new EventStoreDBClient(settings, channel, credentials);
}

export interface EsdbEventStoreOptions extends FollowerOptions {
  /** Events asked for per $all read; system events count against it. */
  readPageSize?: number;
  /** Closing the store disposes the client (true when the store opened it). */
  ownsClient?: boolean;
}

export class EsdbEventStore implements EventStore {
  /** Opens a client for the URL (see esdb-url.ts); credentials may come from `env`. */
  static open(url: string, options: EsdbEventStoreOptions & { env?: Record<string, string | undefined> } = {}): EsdbEventStore {
    const { env = process.env, ...rest } = options;
    return new EsdbEventStore(openEsdbClient(url, env), { ...rest, ownsClient: true });
  }

  private readonly subscriptions = new OpenSubscriptions();
  private readonly pageSize: number;
  private closed = false;

  constructor(private readonly client: EsdbClient, private readonly options: EsdbEventStoreOptions = {}) {
    this.pageSize = Math.max(2, options.readPageSize ?? 512);
  }

  async append(stream: string, expected: ExpectedRevision, events: NewEvent[]): Promise<AppendResult> {
    this.assertOpen();
    assertAppendable(stream, events);
    const esdbExpected = toEsdbExpectedRevision(expected);
    if (events.length === 0) {
      const current = await this.lastRevision(stream);
      checkExpectedRevision(stream, expected, current);
      return { nextRevision: current ?? -1, position: await this.headPosition() };
    }
    // Encode all before sending any: a bad payload leaves the store untouched.
    const data = events.map(toEsdbEvent);
    let result: EsdbAppendResult;
    try {
      result = await this.client.appendToStream(stream, data, { expectedRevision: esdbExpected });
    } catch (err) {
      throw appendError(err, stream, expected);
    }
    // ESDB answers with the stream's revision after the write (on a deduped retry: the
    // revision of the retried batch's last event) and a transaction-log position that is not
    // always the last event's, so the position is read from that event.
    const nextRevision = revisionNumber(result.nextExpectedRevision, `stream ${stream}`);
    const [last] = await this.readStreamEvents(stream, BigInt(nextRevision), 1);
    if (!last || last.revision !== nextRevision) throw new Error(`appended to ${stream}, but its event at revision ${nextRevision} cannot be read back`);
    return { nextRevision, position: last.position };
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readStreamEvents(stream, BigInt(Math.max(0, Math.floor(fromRevision))));
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    this.assertOpen();
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    let from: ReadPosition = esdbPositionAfter(after);
    // Reads are inclusive of their start: anything at or before `seen` was handled already.
    let seen: Position | null = typeof from === 'string' ? null : from;
    for (;;) {
      const page = await this.readAllPage({ fromPosition: from, direction: FORWARDS, maxCount: Math.min(this.pageSize, limit + 1) });
      for (const e of page) {
        if (seen && comparePositions(e.position, seen) <= 0) continue;
        seen = e.position;
        const event = fromEsdbEvent(e);
        if (event) out.push(event);
        if (out.length === limit) return out;
      }
      if (!seen || page.length < Math.min(this.pageSize, limit + 1)) return out;
      from = seen;
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    let from: ReadPosition = END;
    // The newest event is almost always ours: look at a few first, then page on.
    let pageSize = Math.min(this.pageSize, 16);
    for (;;) {
      const page = await this.readAllPage({ fromPosition: from, direction: BACKWARDS, maxCount: pageSize });
      const newest = page.find(isMsecEvent);
      if (newest) return globalPosition(newest.position, `event ${newest.id} of stream ${newest.streamId}`);
      if (page.length < pageSize) return 0;
      pageSize = this.pageSize;
      // Backward reads exclude their start position.
      from = page[page.length - 1]!.position;
    }
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    this.assertOpen();
    return this.subscriptions.add(followEsdbAll(this.client, after, handler, this.options));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriptions.closeAll();
    if (this.options.ownsClient) await this.client.dispose();
  }

  private async readStreamEvents(stream: string, fromRevision: ReadRevision, maxCount?: number, direction: Direction = FORWARDS): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    const read = this.client.readStream(stream, { fromRevision, direction, resolveLinkTos: false, ...(maxCount ? { maxCount } : {}) });
    try {
      for await (const resolved of read) {
        const e = resolved.event;
        if (!e) continue;
        const event = fromEsdbEvent(e);
        if (!event) {
          throw new Error(`event ${e.id} (${e.type}) at revision ${e.revision} of stream ${stream} was not written by msec (no msec envelope in its metadata): msec streams must hold msec events only`);
        }
        out.push(event);
      }
    } catch (err) {
      if (isStreamNotFound(err)) return [];
      throw err;
    }
    return out;
  }

  private async lastRevision(stream: string): Promise<number | undefined> {
    const [last] = await this.readStreamEvents(stream, END, 1, BACKWARDS);
    return last?.revision;
  }

  private async readAllPage(options: ReadAllOptions): Promise<AllStreamRecordedEvent[]> {
    const page: AllStreamRecordedEvent[] = [];
    for await (const resolved of this.client.readAll({ ...options, resolveLinkTos: false })) {
      if (resolved.event) page.push(resolved.event);
    }
    return page;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the event store is closed: open a new one (EsdbEventStore.open) instead of reusing it');
  }
}
