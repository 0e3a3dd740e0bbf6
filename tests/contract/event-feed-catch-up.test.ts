/**
 * The bus event feed catches up from the event store: a state projection stores its snapshot
 * now and then, so after a crash its checkpoint can lie below what its consumer group already
 * committed on msec.events; the bus will not give those events again, the store does.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { busEventFeed } from '../../adapters/bus/event-feed.ts';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite.ts';
import { OutboxRelay } from '../../apps/relay/outbox-relay.ts';
import { appendHosts, busKey, LogCounter } from './relay-support.ts';
import { quickFollow, tempDir, waitUntil } from './support.ts';

const silent = pino({ level: 'silent' });

async function setUp() {
  const temp = tempDir('msec-feed-catch-up-');
  const file = join(temp.dir, 'msec.db');
  const store = SqliteEventStore.open(file, quickFollow);
  const bus = SqliteMessageBus.open(file, quickFollow);
  const checkpoints = SqliteCheckpointStore.open(file);
  const relay = new OutboxRelay({ store, bus, checkpoints, key: busKey, logger: silent, retryDelays: { initialMs: 10, maxMs: 100 } });
  await relay.start();
  return {
    store, bus,
    async close() {
      await relay.stop();
      await bus.close();
      await store.close();
      checkpoints.close();
      temp.remove();
    },
  };
}

test('a group that committed past the stored checkpoint: the missing events come from the store, then the bus', async () => {
  const env = await setUp();
  try {
    await appendHosts(env.store, 10);
    const first = new LogCounter();
    const s1 = busEventFeed(env.bus, { group: 'g', key: busKey, logger: silent, catchUpFrom: env.store }).subscribeAll(0, first.handler);
    await waitUntil('the first 10 events', () => first.unique >= 10);
    await s1.close();

    // Restarted with the checkpoint of an older snapshot (5): 6..10 are only in the store now.
    const second = new LogCounter();
    const s2 = busEventFeed(env.bus, { group: 'g', key: busKey, logger: silent, catchUpFrom: env.store, gapFillAfterMs: 50 }).subscribeAll(5, second.handler);
    await waitUntil('6..10 caught up from the store', () => second.unique >= 5);
    await appendHosts(env.store, 5, { first: 10 });
    await waitUntil('11..15 from the bus', () => second.unique >= 10);
    await s2.close();
    assert.equal(second.unique, 10, 'events 6..15, each once');
    assert.equal(second.duplicates, 0);
    assert.equal(second.outOfOrder, 0);
  } finally {
    await env.close();
  }
});

test('without the store the same restart waits for ever (why catchUpFrom is wired in the projector)', async () => {
  const env = await setUp();
  try {
    await appendHosts(env.store, 10);
    const first = new LogCounter();
    const s1 = busEventFeed(env.bus, { group: 'g', key: busKey, logger: silent }).subscribeAll(0, first.handler);
    await waitUntil('the first 10 events', () => first.unique >= 10);
    await s1.close();
    const second = new LogCounter();
    const s2 = busEventFeed(env.bus, { group: 'g', key: busKey, logger: silent }).subscribeAll(5, second.handler);
    await appendHosts(env.store, 5, { first: 10 });
    await new Promise((r) => setTimeout(r, 1000));
    await s2.close();
    assert.equal(second.unique, 0, 'nothing after 5 can be delivered from the bus alone');
  } finally {
    await env.close();
  }
});
