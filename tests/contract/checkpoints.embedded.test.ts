/** Runs the CheckpointStore contract against the embedded stores. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MemoryCheckpointStore } from '../../adapters/checkpoints/memory.ts';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { openSqlite } from '../../adapters/sqlite/open.ts';
import { checkpointStoreContract } from './checkpoints.contract.ts';
import { quickFollow, tempDir } from './support.ts';

checkpointStoreContract('SqliteCheckpointStore', async () => {
  const temp = tempDir('msec-checkpoints-');
  const file = join(temp.dir, 'msec.db');
  const opened: SqliteCheckpointStore[] = [];
  const open = () => {
    const store = SqliteCheckpointStore.open(file);
    opened.push(store);
    return store;
  };
  return {
    checkpoints: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const s of opened) s.close();
      temp.remove();
    },
  };
});

checkpointStoreContract('MemoryCheckpointStore', async () => {
  const positions = new Map<string, number>();
  return {
    checkpoints: new MemoryCheckpointStore(positions),
    reopen: async () => new MemoryCheckpointStore(positions),
    cleanup: async () => {},
  };
});

describe('embedded checkpoints', () => {
  test('a position that is not a non-negative integer is refused', async () => {
    for (const store of [new MemoryCheckpointStore(), new SqliteCheckpointStore(openSqlite(':memory:'))]) {
      await assert.rejects(store.save('relay', -1), /integer >= 0/);
      await assert.rejects(store.save('relay', 1.5), /integer >= 0/);
    }
  });

  test('the event store, the bus and the checkpoints share one connection to one file', async () => {
    const temp = tempDir('msec-shared-');
    const db = openSqlite(join(temp.dir, 'nested', 'msec.db'));
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      const store = new SqliteEventStore(db, quickFollow);
      const bus = new SqliteMessageBus(db, quickFollow);
      const checkpoints = new SqliteCheckpointStore(db);
      await bus.publish('msec.test', [{ key: 'k', value: Buffer.from('v') }]);
      await checkpoints.save('relay', 0);
      // Closing adapters built on a shared connection leaves it to its owner.
      await store.close();
      await bus.close();
      checkpoints.close();
      assert.equal(db.open, true);
      assert.deepEqual(await new SqliteMessageBus(db).lag('msec.test', 'nobody'), { committed: -1, end: 1 });
    } finally {
      db.close();
      temp.remove();
    }
  });
});
