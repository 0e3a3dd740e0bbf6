/**
 * The SQLite store answers "anything new?" from what its connection knows, without a query,
 * and never hides another connection's commit (another process, or another store object).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite.ts';
import { openSqlite } from '../../../adapters/sqlite/open.ts';
import { eventIdFor } from '../../../domain/event-ids.ts';
import type { NewEvent } from '../../../domain/events.ts';

const silent = pino({ level: 'silent' });
let n = 0;
const userCreated = (name: string): NewEvent => {
  const id = `known-ends-${++n}`;
  return {
    type: 'UserCreated', data: { name, passwordHash: 'x' }, id: eventIdFor(id, 0), occurredAt: new Date(0).toISOString(),
    actor: 'test', reason: '', correlationId: id, causationId: id,
  } as NewEvent;
};

function withFile(run: (file: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msec-known-ends-'));
    try {
      await run(join(dir, 'msec.db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('another connection\'s commit is read at the next look, by stream and by position', withFile(async (file) => {
  const here = SqliteEventStore.open(file, { logger: silent });
  const there = SqliteEventStore.open(file, { logger: silent });
  try {
    await here.append('user-a', 'no_stream', [userCreated('a')]);
    assert.equal((await here.readStream('user-a', 1)).length, 0, 'known: nothing after its own append');
    assert.equal((await here.readAll(1, 10)).length, 0);
    await there.append('user-a', 0, [{ ...userCreated('a'), type: 'PasswordChanged', data: { name: 'a', passwordHash: 'y' } } as NewEvent]);
    await there.append('user-b', 'no_stream', [userCreated('b')]);
    assert.deepEqual((await here.readStream('user-a', 1)).map((e) => e.type), ['PasswordChanged']);
    assert.deepEqual((await here.readAll(1, 10)).map((e) => e.stream), ['user-a', 'user-b']);
    assert.equal((await here.readStream('user-b', 0)).length, 1, 'a stream it had seen empty? it had not: read');
    assert.equal((await here.readStream('user-c', 0)).length, 0);
    await there.append('user-c', 'no_stream', [userCreated('c')]);
    assert.equal((await here.readStream('user-c', 0)).length, 1, 'a stream seen empty, then written elsewhere');
  } finally {
    await here.close();
    await there.close();
  }
}));

test('two store objects on one connection see each other\'s appends', withFile(async (file) => {
  const db = openSqlite(file);
  const one = new SqliteEventStore(db, { logger: silent });
  const two = new SqliteEventStore(db, { logger: silent });
  try {
    assert.equal((await one.readStream('user-a', 0)).length, 0);
    assert.equal((await one.readAll(0, 10)).length, 0);
    await two.append('user-a', 'no_stream', [userCreated('a')]);
    assert.equal((await one.readStream('user-a', 0)).length, 1);
    assert.equal((await one.readAll(0, 10)).length, 1);
  } finally {
    await one.close();
    await two.close();
    db.close();
  }
}));

test('a subscription caught up follows appends of another connection', withFile(async (file) => {
  const here = SqliteEventStore.open(file, { logger: silent, pollIntervalMs: 5 });
  const there = SqliteEventStore.open(file, { logger: silent });
  const seen: string[] = [];
  const subscription = here.subscribeAll(0, (batch) => {
    seen.push(...batch.map((e) => e.stream));
  });
  try {
    await here.append('user-a', 'no_stream', [userCreated('a')]);
    await there.append('user-b', 'no_stream', [userCreated('b')]);
    const deadline = Date.now() + 2000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, ['user-a', 'user-b']);
  } finally {
    await subscription.close();
    await here.close();
    await there.close();
  }
}));
