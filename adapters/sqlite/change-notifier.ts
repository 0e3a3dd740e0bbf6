/**
 * In-process wake-ups for followers of a SQLite table. A writer notifies after it commits,
 * so subscribers in the same process see an append at once instead of at the next poll.
 * Channels are keyed by database file (not by connection), so two adapters opened on the
 * same file in one process wake each other too. Other processes are seen by polling.
 */
import { realpathSync } from 'node:fs';
import type { SqliteDatabase } from './open.ts';

export interface ChangeChannel {
  /** Calls `listener` after every notify(); returns the function that stops it. */
  listen(listener: () => void): () => void;
  notify(): void;
}

const listenersByChannel = new Map<string, Set<() => void>>();
const inMemoryIds = new WeakMap<SqliteDatabase, number>();
let nextInMemoryId = 1;

function databaseKey(db: SqliteDatabase): string {
  if (db.memory) {
    // Each in-memory connection is its own database.
    if (!inMemoryIds.has(db)) inMemoryIds.set(db, nextInMemoryId++);
    return `:memory:#${inMemoryIds.get(db)!}`;
  }
  try {
    return realpathSync(db.name);
  } catch {
    return db.name;
  }
}

export function changeChannel(db: SqliteDatabase, name: string): ChangeChannel {
  const key = `${databaseKey(db)}\u0000${name}`;
  return {
    listen(listener) {
      let set = listenersByChannel.get(key);
      if (!set) listenersByChannel.set(key, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listenersByChannel.get(key) === set) listenersByChannel.delete(key);
      };
    },
    notify() {
      const set = listenersByChannel.get(key);
      if (set) for (const listener of [...set]) listener();
    },
  };
}
