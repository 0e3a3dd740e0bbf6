/**
 * A stand-in for EventStoreDBClient that plays EventStoreDB's documented semantics in memory,
 * so the adapter's own logic (paging, filtering, read-back, resubscription, batching,
 * backpressure) runs here where no server exists. It is NOT EventStoreDB and proves nothing
 * about the wire: it encodes our reading of the server (AllReader.cs, WriteEvents.cs,
 * RequestManagerBase.cs of EventStore/EventStore) and of the Node client 6.2:
 * - positions are byte offsets; each gRPC-appended event has commit == prepare == its offset;
 * - $all reads forwards are inclusive of their start, backwards exclusive; subscriptions from
 *   a position deliver what comes after it;
 * - an append's reported position is not the last event's ("not technically correct" in
 *   WriteEvents.cs), and a deduped retry reports the original revisions;
 * - an expected revision other than any is checked, and a retry of the events right after it
 *   is deduped by id; with any, ids are deduped through a cache;
 * - system events ($-types in $-streams) and other applications' events share $all;
 * - unsubscribe() cancels the call but does not end the readable.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import {
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type AppendExpectedRevision,
  type AppendResult,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import type { EsdbClient } from '../../../adapters/eventstore/esdb.ts';

interface StoredRecord {
  position: bigint;
  streamId: string;
  revision: bigint;
  type: string;
  id: string;
  data: Uint8Array;
  metadata: unknown;
  isJson: boolean;
  created: Date;
}

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: 'application/json' | 'application/octet-stream';
  data: unknown;
  metadata?: unknown;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SimulatedEsdbServer {
  readonly records: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  private nextPosition = 1_000n;
  private readonly waiters = new Set<() => void>();
  private readonly subscriptions = new Set<Readable>();
  private appends = 0;

  /**
   * noiseEvery: a system and a foreign event after every n-th append. subscriptionsIncludeStart:
   * a subscription from a position starts with the event at it (the real server does not, we
   * believe; the adapter must cope either way).
   */
  constructor(private readonly options: { noiseEvery?: number; subscriptionsIncludeStart?: boolean } = {}) {
    this.write('$epochs', '$epoch-information', { epoch: 0 }, true);
    this.write('$users', '$UserCreated', { LoginName: 'admin' }, true);
    this.write('$settings', '$settings', { $userStreamAcl: {} }, true);
  }

  /** Every live subscription fails as after a lost connection. */
  dropSubscriptions(): void {
    for (const s of [...this.subscriptions]) s.destroy(new UnavailableError(undefined, 'simulated: connection lost'));
  }

  /** Events pushed to subscribers so far (to see backpressure work). */
  subscriptionPushes = 0;

  get liveSubscriptions(): number {
    return this.subscriptions.size;
  }

  /** An event of another application (JSON, no msec metadata) or of the server. */
  writeForeign(kind: 'application' | 'system'): void {
    if (kind === 'system') this.write('$stats-127.0.0.1:2113', '$statsCollected', { 'proc-cpu': 1 }, true);
    else this.write(`orders-${this.records.length}`, 'OrderPlaced', { total: 12 }, true);
  }

  client(): EsdbClient & { server: SimulatedEsdbServer } {
    const fake = {
      server: this,
      appendToStream: (stream: string, events: ProposedEvent | ProposedEvent[], options: { expectedRevision?: AppendExpectedRevision } = {}) =>
        this.append(stream, Array.isArray(events) ? events : [events], options.expectedRevision ?? 'any'),
      readStream: (stream: string, options: { fromRevision?: ReadRevision; maxCount?: number | bigint; direction?: 'forwards' | 'backwards' } = {}) =>
        this.readStream(stream, options),
      readAll: (options: { fromPosition?: ReadPosition; maxCount?: number | bigint; direction?: 'forwards' | 'backwards' } = {}) =>
        this.readAll(options),
      subscribeToAll: (options: { fromPosition?: ReadPosition; filter?: Filter } = {}) => this.subscribe(options),
      dispose: async () => {},
    };
    return fake as unknown as EsdbClient & { server: SimulatedEsdbServer };
  }

  private write(streamId: string, type: string, data: unknown, isJson: boolean, id: string = crypto.randomUUID(), metadata?: unknown): StoredRecord {
    const bytes = isJson ? new TextEncoder().encode(JSON.stringify(data)) : new Uint8Array(data as Uint8Array);
    const meta = metadata === undefined ? undefined : JSON.parse(JSON.stringify(metadata));
    const stream = this.streams.get(streamId) ?? [];
    const record: StoredRecord = { position: this.nextPosition, streamId, revision: BigInt(stream.length), type, id, data: bytes, metadata: meta, isJson, created: new Date() };
    this.nextPosition += BigInt(120 + bytes.length + JSON.stringify(meta ?? '').length);
    stream.push(record);
    this.streams.set(streamId, stream);
    this.records.push(record);
    for (const wake of [...this.waiters]) wake();
    return record;
  }

  private async append(streamId: string, events: ProposedEvent[], expected: AppendExpectedRevision): Promise<AppendResult> {
    for (const e of events) if (!uuid.test(e.id)) throw new Error(`simulated client: event id ${e.id} is not a UUID`);
    await nextMacrotask();
    const stream = this.streams.get(streamId) ?? [];
    const current = BigInt(stream.length) - 1n;
    const fail = () => {
      throw new WrongExpectedVersionError(undefined, { streamName: streamId, expected, current: current < 0n ? 'no_stream' : current });
    };
    const sameIdsFrom = (start: bigint) => events.every((e, i) => stream[Number(start) + i]?.id === e.id);
    if (expected === 'no_stream' || typeof expected === 'bigint') {
      const exp = expected === 'no_stream' ? -1n : expected;
      if (current > exp && sameIdsFrom(exp + 1n)) return this.idempotent(exp + BigInt(events.length));
      if (current !== exp) fail();
    } else if (expected === 'stream_exists') {
      if (current < 0n) fail();
    } else {
      const first = stream.findIndex((r) => r.id === events[0]!.id);
      if (first >= 0 && sameIdsFrom(BigInt(first))) return this.idempotent(BigInt(first + events.length - 1));
    }
    const written = events.map((e) => this.write(streamId, e.type, e.data, e.contentType === 'application/json', e.id, e.metadata));
    if (++this.appends % (this.options.noiseEvery ?? 3) === 0) {
      this.writeForeign('system');
      this.writeForeign('application');
    }
    // As WriteEvents.cs: the reported position is not the last event's.
    const reported = written[0]!.position;
    return { success: true, nextExpectedRevision: written[written.length - 1]!.revision, position: { commit: reported, prepare: reported } };
  }

  private idempotent(lastRevision: bigint): AppendResult {
    return { success: true, nextExpectedRevision: lastRevision, position: undefined };
  }

  private toRecorded(r: StoredRecord): AllStreamRecordedEvent {
    const position: Position = { commit: r.position, prepare: r.position };
    const base = { streamId: r.streamId, id: r.id, revision: r.revision, type: r.type, created: r.created, position };
    const metadata = r.metadata;
    return (r.isJson
      ? { ...base, isJson: true, data: JSON.parse(new TextDecoder().decode(r.data)), metadata }
      : { ...base, isJson: false, data: new Uint8Array(r.data), metadata }) as AllStreamRecordedEvent;
  }

  private readStream(streamId: string, options: { fromRevision?: ReadRevision; maxCount?: number | bigint; direction?: 'forwards' | 'backwards' }): Readable {
    const stream = this.streams.get(streamId);
    const out = new Readable({ objectMode: true, read() {} });
    Object.assign(out, { cancel: async () => void out.destroy() });
    setImmediate(() => {
      if (!stream) return out.destroy(new StreamNotFoundError(undefined, streamId));
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const backwards = options.direction === 'backwards';
      const from = options.fromRevision ?? (backwards ? 'end' : 'start');
      let picked = backwards ? [...stream].reverse() : stream;
      if (typeof from === 'bigint') picked = picked.filter((r) => (backwards ? r.revision <= from : r.revision >= from));
      for (const r of picked.slice(0, max)) out.push({ event: this.toRecorded(r), commitPosition: r.position });
      out.push(null);
    });
    return out;
  }

  private readAll(options: { fromPosition?: ReadPosition; maxCount?: number | bigint; direction?: 'forwards' | 'backwards' }): Readable {
    const out = new Readable({ objectMode: true, read() {} });
    Object.assign(out, { cancel: async () => void out.destroy() });
    setImmediate(() => {
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const backwards = options.direction === 'backwards';
      const from = options.fromPosition ?? (backwards ? 'end' : 'start');
      let picked = backwards ? [...this.records].reverse() : this.records;
      if (typeof from === 'object') picked = picked.filter((r) => (backwards ? r.position < from.commit : r.position >= from.commit));
      for (const r of picked.slice(0, max)) out.push({ event: this.toRecorded(r), commitPosition: r.position });
      out.push(null);
    });
    return out;
  }

  /** Catch-up then live, pulled one event per read() (so a slow reader holds the server back). */
  private subscribe(options: { fromPosition?: ReadPosition; filter?: Filter }): Readable {
    const from = options.fromPosition ?? 'start';
    let next = from === 'start' ? 0 : from === 'end' ? this.records.length : this.records.findIndex((r) => (this.options.subscriptionsIncludeStart ? r.position >= from.commit : r.position > from.commit));
    if (next < 0) next = this.records.length;
    const regex = options.filter && 'regex' in options.filter ? new RegExp(options.filter.regex) : null;
    let waiting: (() => void) | null = null;
    let cancelled = false;
    let delivered = 0;
    const pushNext = (): void => {
      if (cancelled || sub.destroyed) return;
      while (next < this.records.length) {
        const r = this.records[next++]!;
        if (regex && !regex.test(r.type)) continue;
        delivered += 1;
        this.subscriptionPushes += 1;
        const message = { event: this.toRecorded(r), commitPosition: r.position };
        // Now and then a message comes in a later network read.
        if (delivered % 7 === 0) setImmediate(() => !cancelled && !sub.destroyed && sub.push(message));
        else sub.push(message);
        return;
      }
      const wake = () => {
        this.waiters.delete(wake);
        waiting = null;
        pushNext();
      };
      waiting = wake;
      this.waiters.add(wake);
    };
    // One event per read(): a reader that stops reading holds the "server" back.
    const sub = new Readable({ objectMode: true, highWaterMark: 16, read: pushNext });
    this.subscriptions.add(sub);
    sub.on('close', () => {
      this.subscriptions.delete(sub);
      if (waiting) this.waiters.delete(waiting);
    });
    Object.assign(sub, {
      unsubscribe: async () => {
        await nextMacrotask();
        cancelled = true;
        this.subscriptions.delete(sub);
        if (waiting) this.waiters.delete(waiting);
      },
    });
    return sub;
  }
}
