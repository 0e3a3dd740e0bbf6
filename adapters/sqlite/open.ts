/**
 * Opens the embedded SQLite database shared by the event store, the bus and the checkpoints.
 * The console and `msec replay` may open the same file at once, so: WAL (readers never block
 * the writer), a busy timeout (a second writer waits instead of failing) and short transactions.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export type SqliteDatabase = Database.Database;

/** The one database file of an embedded installation: `<MSEC_HOME>/msec.db`. */
export function msecDatabaseFile(home: string = process.env.MSEC_HOME ?? './.msec'): string {
  return join(resolve(home), 'msec.db');
}

/** Opens (creating it and its folders if needed) a database file; ':memory:' works for tests. */
export function openSqlite(file: string): SqliteDatabase {
  const inMemory = file === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(file)), { recursive: true });
  let db: SqliteDatabase;
  try {
    db = new Database(inMemory ? file : resolve(file));
  } catch (err) {
    throw new Error(`cannot open the database ${file}: ${(err as Error).message}; check that the folder is writable or set MSEC_HOME elsewhere`, { cause: err });
  }
  // busy_timeout first: switching to WAL itself needs a lock another process may hold.
  db.pragma('busy_timeout = 5000');
  if (!inMemory) db.pragma('journal_mode = WAL');
  // NORMAL is durable against application crashes under WAL; only an OS crash may lose the last commits.
  db.pragma('synchronous = NORMAL');
  // Fewer, larger checkpoints (a ~16 MB WAL instead of ~4 MB): each one costs fsyncs, and
  // with small appends they were about a third of the append time.
  db.pragma('wal_autocheckpoint = 4000');
  db.pragma('foreign_keys = ON');
  return db;
}
