import type Database from 'better-sqlite3';
import { openSqlite, type SqliteDatabase } from '../sqlite/open.ts';
import { normalizeRowFilter, rowInstant, type RowFilter, type ViewRow, type ViewStore } from './port.ts';

/**
 * The embedded ViewStore (MSEC_VIEWS=embedded): one SQLite file, shared safely with other
 * tables (everything here is prefixed `view_`). State documents are JSON text; rows go to one
 * table with the audit filters as indexed columns (see rowsSchema). Every write is one
 * transaction with its checkpoint.
 */
const schema = `
  CREATE TABLE IF NOT EXISTS view_checkpoints (
    projection_key TEXT PRIMARY KEY,
    checkpoint     INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS view_states (
    projection_key TEXT PRIMARY KEY,
    state          TEXT NOT NULL
  );
`;

/**
 * Rows are identified by (projection key, position): one row per event, and an event is its
 * position, so a redelivered event is ignored. Identifying them by the event id instead (a
 * random text key) made every insert land in a random page of that index: 3× slower on a
 * replay. The table itself is in insertion order (rowid), and rows are large (the JSON):
 * keyed by position it would be a covering index that the planner prefers to the filter
 * indexes, and a filter on a rare stream would then scan every row.
 */
const rowsSchema = `
  CREATE TABLE IF NOT EXISTS view_rows (
    projection_key TEXT NOT NULL,
    position       INTEGER NOT NULL,
    event_id       TEXT NOT NULL,
    time           TEXT NOT NULL,
    actor          TEXT,
    stream         TEXT,
    type           TEXT,
    row            TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS view_rows_by_position ON view_rows (projection_key, position);
  CREATE INDEX IF NOT EXISTS view_rows_by_stream ON view_rows (projection_key, stream, position);
  CREATE INDEX IF NOT EXISTS view_rows_by_actor  ON view_rows (projection_key, actor, position);
  CREATE INDEX IF NOT EXISTS view_rows_by_type   ON view_rows (projection_key, type, position);
  CREATE INDEX IF NOT EXISTS view_rows_by_time   ON view_rows (projection_key, time);
`;

const tables = ['view_checkpoints', 'view_states', 'view_rows'] as const;

export class SqliteViewStore implements ViewStore {
  private readonly db: SqliteDatabase;
  private readonly ownsDb: boolean;
  private readonly setCheckpoint: Database.Statement;
  private readonly insertRow: Database.Statement;
  private readonly writeRows: (key: string, rows: readonly ViewRow[], checkpoint: number) => void;
  private readonly writeState: (key: string, state: string, checkpoint: number) => void;
  private readonly moveKey: (source: string, target: string) => void;
  private readonly dropKey: (key: string) => void;

  /** Opens (creating it and its folder) a database file in WAL mode, owned and closed by this store. */
  static open(file: string): SqliteViewStore {
    return new SqliteViewStore(file);
  }

  /** `database`: an open better-sqlite3 database (its owner closes it) or a file path (see `open`). */
  constructor(database: SqliteDatabase | string) {
    this.ownsDb = typeof database === 'string';
    this.db = typeof database === 'string' ? openSqlite(database) : database;
    this.db.exec(schema);
    migrateRows(this.db);

    this.setCheckpoint = this.db.prepare(
      'INSERT INTO view_checkpoints (projection_key, checkpoint) VALUES (?, ?) '
      + 'ON CONFLICT (projection_key) DO UPDATE SET checkpoint = excluded.checkpoint');
    const setState = this.db.prepare(
      'INSERT INTO view_states (projection_key, state) VALUES (?, ?) ON CONFLICT (projection_key) DO UPDATE SET state = excluded.state');
    this.insertRow = this.db.prepare(
      'INSERT OR IGNORE INTO view_rows (projection_key, position, event_id, time, actor, stream, type, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');

    this.writeState = this.db.transaction((key: string, state: string, checkpoint: number) => {
      setState.run(key, state);
      this.setCheckpoint.run(key, checkpoint);
    });
    this.writeRows = this.db.transaction((key: string, rows: readonly ViewRow[], checkpoint: number) => {
      for (const row of rows) {
        this.insertRow.run(key, row.position, row.eventId, rowInstant(row), text(row.actor), text(row.stream), text(row.type), JSON.stringify(row));
      }
      this.setCheckpoint.run(key, checkpoint);
    });
    const deleteKey = tables.map((t) => this.db.prepare(`DELETE FROM ${t} WHERE projection_key = ?`));
    const renameKey = tables.map((t) => this.db.prepare(`UPDATE ${t} SET projection_key = ? WHERE projection_key = ?`));
    this.dropKey = this.db.transaction((key: string) => {
      for (const statement of deleteKey) statement.run(key);
    });
    this.moveKey = this.db.transaction((source: string, target: string) => {
      for (const statement of deleteKey) statement.run(target);
      for (const statement of renameKey) statement.run(target, source);
    });
  }

  async loadState<S = unknown>(projectionKey: string): Promise<{ state: S; checkpoint: number } | null> {
    const found = this.db.prepare(
      'SELECT s.state AS state, c.checkpoint AS checkpoint FROM view_states s JOIN view_checkpoints c USING (projection_key) WHERE projection_key = ?',
    ).get(projectionKey) as { state: string; checkpoint: number } | undefined;
    return found ? { state: JSON.parse(found.state) as S, checkpoint: found.checkpoint } : null;
  }

  async saveState(projectionKey: string, state: unknown, checkpoint: number): Promise<void> {
    this.writeState(projectionKey, JSON.stringify(state), checkpoint);
  }

  async appendRows(projectionKey: string, rows: readonly ViewRow[], checkpoint: number): Promise<void> {
    this.writeRows(projectionKey, rows, checkpoint);
  }

  async queryRows(projectionKey: string, filter?: RowFilter): Promise<ViewRow[]> {
    const f = normalizeRowFilter(filter);
    const where = ['projection_key = ?'];
    const params: (string | number)[] = [projectionKey];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add('stream = ?', f.stream);
    add('actor = ?', f.actor);
    add('type = ?', f.type);
    add('time >= ?', f.since);
    add('time < ?', f.until);
    add('position < ?', f.before);
    const rows = this.db.prepare(
      `SELECT row FROM view_rows WHERE ${where.join(' AND ')} ORDER BY position DESC LIMIT ?`,
    ).all(...params, f.limit) as { row: string }[];
    return rows.map(({ row }) => JSON.parse(row) as ViewRow);
  }

  async scanRows(projectionKey: string, afterPosition: number, limit: number): Promise<ViewRow[]> {
    const rows = this.db.prepare(
      'SELECT row FROM view_rows WHERE projection_key = ? AND position > ? ORDER BY position LIMIT ?',
    ).all(projectionKey, afterPosition, limit) as { row: string }[];
    return rows.map(({ row }) => JSON.parse(row) as ViewRow);
  }

  async checkpoint(projectionKey: string): Promise<number | null> {
    const found = this.db.prepare('SELECT checkpoint FROM view_checkpoints WHERE projection_key = ?')
      .get(projectionKey) as { checkpoint: number } | undefined;
    return found?.checkpoint ?? null;
  }

  async promote(sourceKey: string, targetKey: string): Promise<void> {
    if (sourceKey !== targetKey) this.moveKey(sourceKey, targetKey);
  }

  async drop(projectionKey: string): Promise<void> {
    this.dropKey(projectionKey);
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}

/**
 * Creates the rows table, or moves the rows of a file made before rows were identified by
 * position (by event id then) into it, in one transaction.
 */
function migrateRows(db: SqliteDatabase): void {
  const columns = db.prepare("SELECT name, pk FROM pragma_table_info('view_rows')").all() as { name: string; pk: number }[];
  const keyedByEventId = columns.some((c) => c.name === 'event_id' && c.pk > 0);
  if (!keyedByEventId) {
    db.exec(rowsSchema);
    return;
  }
  db.transaction(() => {
    db.exec('ALTER TABLE view_rows RENAME TO view_rows_by_event_id');
    for (const index of ['view_rows_by_position', 'view_rows_by_stream', 'view_rows_by_actor', 'view_rows_by_type', 'view_rows_by_time']) {
      db.exec(`DROP INDEX IF EXISTS ${index}`);
    }
    db.exec(rowsSchema);
    db.exec(`INSERT OR IGNORE INTO view_rows (projection_key, position, event_id, time, actor, stream, type, row)
      SELECT projection_key, position, event_id, time, actor, stream, type, row FROM view_rows_by_event_id ORDER BY projection_key, position`);
    db.exec('DROP TABLE view_rows_by_event_id');
  })();
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
