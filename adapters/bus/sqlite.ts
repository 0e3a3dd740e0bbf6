/**
 * The embedded message bus: topics as append-only SQLite tables, consumer groups as committed
 * offsets, in the same database file as the event store. Other processes on the file see
 * published messages by polling; this process wakes its consumers at once.
 */
import type { Statement } from 'better-sqlite3';
import type { FollowerOptions } from '../eventstore/batch-follower.ts';
import { OpenSubscriptions } from '../eventstore/open-subscriptions.ts';
import type { Subscription } from '../eventstore/port.ts';
import { changeChannel } from '../sqlite/change-notifier.ts';
import { openSqlite, type SqliteDatabase } from '../sqlite/open.ts';
import { ActiveGroups, closedBusError, type GroupOptions, type MessageHandler, type TopicLog } from './consumer-group.ts';
import type { BusMessage, ConsumedMessage, MessageBus } from './port.ts';

const schema = `
CREATE TABLE IF NOT EXISTS bus_messages (
  topic     TEXT    NOT NULL,
  "offset"  INTEGER NOT NULL,
  "key"     TEXT    NOT NULL,
  value     BLOB    NOT NULL,
  headers   TEXT    NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (topic, "offset")
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bus_group_offsets (
  topic          TEXT    NOT NULL,
  consumer_group TEXT    NOT NULL,
  committed      INTEGER NOT NULL,
  PRIMARY KEY (topic, consumer_group)
) WITHOUT ROWID;`;

interface MessageRow {
  offset: number;
  key: string;
  value: Buffer;
  headers: string;
  timestamp: number;
}

export type SqliteMessageBusOptions = FollowerOptions;

export class SqliteMessageBus implements MessageBus {
  /** Opens the bus on its own connection to `file`; close() closes that connection. */
  static open(file: string, options: SqliteMessageBusOptions = {}): SqliteMessageBus {
    return new SqliteMessageBus(openSqlite(file), { ...options, ownsDatabase: true });
  }

  private readonly subscriptions = new OpenSubscriptions();
  private readonly groups = new ActiveGroups();
  private closed = false;
  private readonly sql: {
    end: Statement<[string], number>;
    insert: Statement<[string, number, string, Uint8Array, string, number]>;
    read: Statement<[string, number, number], MessageRow>;
    committed: Statement<[string, string], number>;
    commit: Statement<[string, string, number]>;
  };
  private readonly publishInTransaction: (topic: string, messages: readonly BusMessage[]) => void;
  private readonly log: TopicLog;
  private readonly notify: (topic: string) => void;

  /** Uses a connection opened with openSqlite (possibly shared with the event store). */
  constructor(private readonly db: SqliteDatabase, private readonly options: SqliteMessageBusOptions & { ownsDatabase?: boolean } = {}) {
    db.exec(schema);
    this.sql = {
      end: db.prepare('SELECT COALESCE(MAX("offset") + 1, 0) FROM bus_messages WHERE topic = ?').pluck() as Statement<[string], number>,
      insert: db.prepare('INSERT INTO bus_messages (topic, "offset", "key", value, headers, timestamp) VALUES (?, ?, ?, ?, ?, ?)'),
      read: db.prepare('SELECT "offset" AS offset, "key" AS key, value, headers, timestamp FROM bus_messages WHERE topic = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?'),
      committed: db.prepare('SELECT committed FROM bus_group_offsets WHERE topic = ? AND consumer_group = ?').pluck() as Statement<[string, string], number>,
      commit: db.prepare(
        'INSERT INTO bus_group_offsets (topic, consumer_group, committed) VALUES (?, ?, ?) ON CONFLICT (topic, consumer_group) DO UPDATE SET committed = excluded.committed',
      ),
    };
    this.publishInTransaction = db.transaction((topic: string, messages: readonly BusMessage[]) => {
      const first = this.sql.end.get(topic)!;
      const now = Date.now();
      messages.forEach((m, i) => this.sql.insert.run(topic, first + i, m.key, m.value, JSON.stringify(m.headers ?? {}), now));
    }).immediate;
    const channels = new Map<string, ReturnType<typeof changeChannel>>();
    const channel = (topic: string) => {
      let c = channels.get(topic);
      if (!c) channels.set(topic, (c = changeChannel(db, `bus:${topic}`)));
      return c;
    };
    this.log = {
      name: 'sqlite bus',
      read: (topic, from, limit) =>
        this.sql.read.all(topic, from, limit).map((r): ConsumedMessage => ({
          topic,
          offset: r.offset,
          key: r.key,
          value: r.value,
          headers: JSON.parse(r.headers) as Record<string, string>,
          timestamp: r.timestamp,
        })),
      committed: (topic, group) => this.sql.committed.get(topic, group) ?? null,
      commit: (topic, group, next) => void this.sql.commit.run(topic, group, next),
      endOffset: (topic) => this.sql.end.get(topic)!,
      listen: (topic, wake) => channel(topic).listen(wake),
    };
    this.notify = (topic) => channel(topic).notify();
  }

  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    this.publishInTransaction(topic, messages);
    this.notify(topic);
  }

  subscribe(options: GroupOptions, handler: MessageHandler): Subscription {
    this.assertOpen();
    return this.subscriptions.add(this.groups.consume(this.log, options, handler, this.options));
  }

  async lag(topic: string, group: string): Promise<{ committed: number; end: number }> {
    this.assertOpen();
    return { committed: this.log.committed(topic, group) ?? -1, end: this.log.endOffset(topic) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriptions.closeAll();
    if (this.options.ownsDatabase) this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw closedBusError('sqlite');
  }
}
