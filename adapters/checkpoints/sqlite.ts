/** Named checkpoints in the embedded database, beside the events they point into. */
import type { Statement } from 'better-sqlite3';
import type { CheckpointStore } from '../bus/port.ts';
import { openSqlite, type SqliteDatabase } from '../sqlite/open.ts';

const schema = `
CREATE TABLE IF NOT EXISTS checkpoints (
  name       TEXT    PRIMARY KEY,
  position   INTEGER NOT NULL,
  updated_at TEXT    NOT NULL
) WITHOUT ROWID;`;

export class SqliteCheckpointStore implements CheckpointStore {
  /** Opens the store on its own connection to `file`; close() closes that connection. */
  static open(file: string): SqliteCheckpointStore {
    return new SqliteCheckpointStore(openSqlite(file), { ownsDatabase: true });
  }

  private readonly loadOne: Statement<[string], number>;
  private readonly saveOne: Statement<[string, number, string]>;

  /** Uses a connection opened with openSqlite (possibly shared with the event store and bus). */
  constructor(private readonly db: SqliteDatabase, private readonly options: { ownsDatabase?: boolean } = {}) {
    db.exec(schema);
    this.loadOne = db.prepare('SELECT position FROM checkpoints WHERE name = ?').pluck() as Statement<[string], number>;
    this.saveOne = db.prepare(
      'INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
    );
  }

  async load(name: string): Promise<number | null> {
    return this.loadOne.get(name) ?? null;
  }

  async save(name: string, position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new Error(`checkpoint ${name} cannot be ${position}: save the position of the last event handled (an integer >= 0)`);
    }
    this.saveOne.run(name, position, new Date().toISOString());
  }

  /** Closes the connection if open() made it; a shared connection is left to its owner. */
  close(): void {
    if (this.options.ownsDatabase && this.db.open) this.db.close();
  }
}
