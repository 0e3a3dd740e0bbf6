/**
 * The embedded event store: one SQLite table, shared by every process that opens the file.
 * Appends run in IMMEDIATE transactions, so writers are serialised and global positions are
 * handed out in commit order (a follower reading `position > n` never misses a later commit).
 */
import type { Statement } from 'better-sqlite3';
import type { NewEvent, RecordedEvent } from '../../domain/events.ts';
import { decodeEnvelope, encodeEnvelope } from '../../schemas/codec.ts';
import { changeChannel, type ChangeChannel } from '../sqlite/change-notifier.ts';
import { openSqlite, type SqliteDatabase } from '../sqlite/open.ts';
import { assertAppendable, checkExpectedRevision, earlierResult, type StoredAt } from './append-rules.ts';
import type { FollowerOptions } from './batch-follower.ts';
import { followAll } from './follow-all.ts';
import { KnownEnds } from './known-ends.ts';
import { OpenSubscriptions } from './open-subscriptions.ts';
import { RecentEvents } from './recent-events.ts';
import type { AppendResult, BatchHandler, EventStore, ExpectedRevision, Subscription } from './port.ts';

const schema = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT    NOT NULL UNIQUE,
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  occurred_at TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  envelope    BLOB    NOT NULL,
  UNIQUE (stream, revision)
);`;

export type SqliteEventStoreOptions = FollowerOptions;

/** One per connection: store objects sharing a connection see each other's commits only there. */
const knownEndsOf = new WeakMap<SqliteDatabase, KnownEnds>();

interface AppendOutcome {
  result: AppendResult;
  wrote: boolean;
  envelopes: Uint8Array[];
}

export class SqliteEventStore implements EventStore {
  /** Opens the store on its own connection to `file`; close() closes that connection. */
  static open(file: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    return new SqliteEventStore(openSqlite(file), { ...options, ownsDatabase: true });
  }

  private readonly changes: ChangeChannel;
  private readonly subscriptions = new OpenSubscriptions();
  private closed = false;
  private readonly recent = new RecentEvents();
  private readonly ends: KnownEnds;
  private readonly sql: {
    findById: Statement<[string], StoredAt>;
    lastRevision: Statement<[string], number | null>;
    lastPosition: Statement<[], number>;
    insert: Statement<[number, string, string, number, string, string, string, Uint8Array]>;
    readStream: Statement<[string, number], Buffer>;
    readAll: Statement<[number, number], Buffer>;
    head: Statement<[], number>;
  };
  private readonly appendInTransaction: (stream: string, expected: ExpectedRevision, events: readonly NewEvent[]) => AppendOutcome;

  /** Uses a connection opened with openSqlite (possibly shared with the bus and checkpoints). */
  constructor(private readonly db: SqliteDatabase, private readonly options: SqliteEventStoreOptions & { ownsDatabase?: boolean } = {}) {
    db.exec(schema);
    this.changes = changeChannel(db, 'events');
    let ends = knownEndsOf.get(db);
    if (!ends) knownEndsOf.set(db, (ends = new KnownEnds(db)));
    this.ends = ends;
    this.sql = {
      findById: db.prepare('SELECT stream, revision, position FROM events WHERE id = ?'),
      lastRevision: db.prepare('SELECT MAX(revision) FROM events WHERE stream = ?').pluck() as Statement<[string], number | null>,
      // AUTOINCREMENT's counter, not MAX(position): a position is never handed out twice.
      lastPosition: db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)").pluck() as Statement<[], number>,
      insert: db.prepare('INSERT INTO events (position, id, stream, revision, type, occurred_at, actor, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      readStream: db.prepare('SELECT envelope FROM events WHERE stream = ? AND revision >= ? ORDER BY revision').pluck() as Statement<[string, number], Buffer>,
      readAll: db.prepare('SELECT envelope FROM events WHERE position > ? ORDER BY position LIMIT ?').pluck() as Statement<[number, number], Buffer>,
      head: db.prepare('SELECT COALESCE(MAX(position), 0) FROM events').pluck() as Statement<[], number>,
    };
    this.appendInTransaction = db.transaction((stream: string, expected: ExpectedRevision, events: readonly NewEvent[]): AppendOutcome => {
      const earlier = earlierResult(stream, events, (id) => this.sql.findById.get(id));
      if (earlier) return { result: earlier, wrote: false, envelopes: [] };
      const current = this.sql.lastRevision.get(stream) ?? undefined;
      checkExpectedRevision(stream, expected, current);
      const firstRevision = (current ?? -1) + 1;
      const firstPosition = this.sql.lastPosition.get()! + 1;
      const envelopes = events.map((event, i) => {
        const at = { revision: firstRevision + i, position: firstPosition + i };
        const envelope = encodeEnvelope(event, stream, at);
        this.sql.insert.run(at.position, event.id, stream, at.revision, event.type, event.occurredAt, event.actor, envelope);
        return envelope;
      });
      if (events.length === 0) return { result: { nextRevision: current ?? -1, position: firstPosition - 1 }, wrote: false, envelopes };
      return { result: { nextRevision: firstRevision + events.length - 1, position: firstPosition + events.length - 1 }, wrote: true, envelopes };
    }).immediate;
  }

  async append(stream: string, expected: ExpectedRevision, events: NewEvent[]): Promise<AppendResult> {
    this.assertOpen();
    assertAppendable(stream, events);
    const { result, wrote, envelopes } = this.appendInTransaction(stream, expected, events);
    // Committed: decode once here (exactly what a reader of the table would get) for the followers.
    if (wrote) {
      this.recent.add(envelopes.map(decodeEnvelope));
      // Committed under the write lock: nothing comes after it until another connection commits.
      this.ends.endsAt(result.position);
      this.ends.streamEndsAt(stream, result.nextRevision);
      this.changes.notify();
    }
    return result;
  }

  async readStream(stream: string, fromRevision = 0): Promise<RecordedEvent[]> {
    this.assertOpen();
    // A command on a cached stream reads its tail first: almost always nothing new.
    if (this.ends.nothingFrom(stream, fromRevision)) return [];
    const read = this.sql.readStream.all(stream, fromRevision).map(decodeEnvelope);
    this.ends.streamEndsAt(stream, read.length ? read[read.length - 1]!.revision : fromRevision - 1);
    return read;
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readAllNow(after, limit);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.sql.head.get()!;
  }

  subscribeAll(after: number, handler: BatchHandler): Subscription {
    this.assertOpen();
    const global = {
      name: 'sqlite event store',
      readAfter: (position: number, limit: number) => this.readAllNow(position, limit),
      listen: (wake: () => void) => this.changes.listen(wake),
      knownHead: () => this.ends.knownHead(),
    };
    return this.subscriptions.add(followAll(global, after, handler, this.options));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriptions.closeAll();
    if (this.options.ownsDatabase) this.db.close();
  }

  private readAllNow(after: number, limit: number): RecordedEvent[] {
    const cached = this.recent.after(after, limit);
    if (cached.length) return cached;
    // A follower that caught up looks again after every append: answered without a query.
    if (this.ends.nothingAfter(after)) return [];
    // Followers move in step (one per projection): the first to read a page decodes it for all.
    const read = this.sql.readAll.all(after, limit).map(decodeEnvelope);
    if (read.length < limit) this.ends.endsAt(read.length ? read[read.length - 1]!.position : after);
    this.recent.add(read);
    return read;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the event store is closed: open a new one (SqliteEventStore.open) instead of reusing it');
  }
}
