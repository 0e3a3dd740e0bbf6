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

  it('moves the rows of a file made when rows were keyed by event id, keeping them readable', async () => {
    const path = join(dir, 'views-by-event-id.sqlite');
    const old = new Database(path);
    old.exec(`
      CREATE TABLE view_checkpoints (projection_key TEXT PRIMARY KEY, checkpoint INTEGER NOT NULL);
      CREATE TABLE view_states (projection_key TEXT PRIMARY KEY, state TEXT NOT NULL);
      CREATE TABLE view_rows (
        projection_key TEXT NOT NULL, event_id TEXT NOT NULL, position INTEGER NOT NULL, time TEXT NOT NULL,
        actor TEXT, stream TEXT, type TEXT, row TEXT NOT NULL, PRIMARY KEY (projection_key, event_id));
      CREATE INDEX view_rows_by_position ON view_rows (projection_key, position);
      CREATE INDEX view_rows_by_stream ON view_rows (projection_key, stream, position);`);
    const insert = old.prepare('INSERT INTO view_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const position of [1, 2]) {
      const row = { eventId: `e-${position}`, position, time: '2024-05-01T10:00:00.000Z', actor: 'admin', stream: 's', type: 'HostAdded', summary: `event ${position}` };
      insert.run('audit_v1', row.eventId, position, row.time, row.actor, row.stream, row.type, JSON.stringify(row));
    }
    old.prepare('INSERT INTO view_checkpoints VALUES (?, ?)').run('audit_v1', 2);
    old.close();

    const store = new SqliteViewStore(path);
    try {
      assert.deepEqual((await store.queryRows('audit_v1', { stream: 's' })).map((r) => (r as { summary?: string }).summary), ['event 2', 'event 1']);
      assert.equal(await store.checkpoint('audit_v1'), 2);
      await store.appendRows('audit_v1', [{ eventId: 'e-2', position: 2, time: '2024-05-01T10:00:00.000Z' }, { eventId: 'e-3', position: 3, time: '2024-05-01T10:00:00.000Z' }], 3);
      assert.deepEqual((await store.scanRows('audit_v1', 0, 10)).map((r) => r.position), [1, 2, 3]);
    } finally {
      await store.close();
    }
    const reopened = new SqliteViewStore(path); // a second open finds the new table and moves nothing
    try {
      assert.equal((await reopened.queryRows('audit_v1')).length, 3);
    } finally {
      await reopened.close();
    }
  });
});
