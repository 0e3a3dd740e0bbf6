import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteViewStore } from '../../adapters/views/sqlite.ts';
import { viewStoreContract } from './viewstore.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'msec-views-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const paths = new WeakMap<SqliteViewStore, string>();
const openFile = async (path = join(dir, `views-${++files}.sqlite`)) => {
  const store = new SqliteViewStore(path);
  paths.set(store, path);
  return store;
};

viewStoreContract('sqlite file', {
  open: () => openFile(),
  reopen: async (closed) => openFile(paths.get(closed as SqliteViewStore)!),
});

viewStoreContract('sqlite on a database opened by its owner', {
  open: async () => new SqliteViewStore(new Database(':memory:')),
});

describe('SqliteViewStore', () => {
  it('opens its file in WAL mode, in a folder it creates', async () => {
    const path = join(dir, 'nested', 'deeper', 'views.sqlite');
    const store = new SqliteViewStore(path);
    await store.close();
    const db = new Database(path);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('leaves a database it was given open when closed', async () => {
    const db = new Database(':memory:');
    const store = new SqliteViewStore(db);
    await store.saveState('users_v1', {}, 1);
    await store.close();
    assert.equal(db.open, true);
    assert.equal((db.prepare('SELECT count(*) AS n FROM view_states').get() as { n: number }).n, 1);
    db.close();
  });

  it('answers audit filters from an index', async () => {
    const db = new Database(':memory:');
    new SqliteViewStore(db);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT row FROM view_rows WHERE projection_key = 'a' AND stream = 's' ORDER BY position DESC LIMIT 10")
      .all() as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join('\n'), /USING INDEX view_rows_by_stream/);
    db.close();
  });
});
