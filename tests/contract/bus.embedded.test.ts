/**
 * Runs the MessageBus contract against the embedded buses, plus what only they promise:
 * one live consumer per group, and (SQLite) messages from other processes on the same file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MemoryBroker, MemoryMessageBus } from '../../adapters/bus/memory.ts';
import type { ConsumedMessage, MessageBus } from '../../adapters/bus/port.ts';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { busContract, type BusFixture } from './bus.contract.ts';
import { runInOtherProcesses } from './other-process.ts';
import { quickFollow, tempDir, unique, waitUntil } from './support.ts';

async function sqliteFixture(): Promise<BusFixture & { file: string }> {
  const temp = tempDir('msec-bus-');
  const file = join(temp.dir, 'msec.db');
  const opened: MessageBus[] = [];
  const open = () => {
    const bus = SqliteMessageBus.open(file, quickFollow);
    opened.push(bus);
    return bus;
  };
  return {
    file,
    bus: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const b of opened) await b.close();
      temp.remove();
    },
  };
}

async function memoryFixture(): Promise<BusFixture> {
  const broker = new MemoryBroker();
  const opened: MessageBus[] = [];
  const open = () => {
    const bus = new MemoryMessageBus({ ...quickFollow, broker });
    opened.push(bus);
    return bus;
  };
  return {
    bus: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const b of opened) await b.close();
    },
  };
}

busContract('SqliteMessageBus', sqliteFixture);
busContract('MemoryMessageBus', memoryFixture);

for (const [name, makeFixture] of [['SqliteMessageBus', sqliteFixture], ['MemoryMessageBus', memoryFixture]] as const) {
  describe(`${name}: embedded consumer groups`, () => {
    let fixture: BusFixture;
    before(async () => {
      fixture = await makeFixture();
    });
    after(async () => {
      await fixture.cleanup();
    });

    test('a second live consumer of one group is refused until the first is closed', async () => {
      const topic = unique('msec.test.exclusive.');
      const group = unique('g-');
      const first = fixture.bus.subscribe({ topic, group }, () => {});
      assert.throws(() => fixture.bus.subscribe({ topic, group }, () => {}), /already consumes .*close its subscription first/);
      await first.close();
      const second = fixture.bus.subscribe({ topic, group }, () => {});
      await second.close();
    });

    test('a new group without fromBeginning commits its starting point, so a restart skips nothing', async () => {
      const topic = unique('msec.test.start.');
      const group = unique('g-');
      await fixture.bus.publish(topic, [{ key: 'k', value: Buffer.from('before') }]);
      const first = fixture.bus.subscribe({ topic, group }, () => {});
      await first.close();
      await fixture.bus.publish(topic, [{ key: 'k', value: Buffer.from('while down') }]);
      const received: ConsumedMessage[] = [];
      const second = fixture.bus.subscribe({ topic, group }, (batch) => void received.push(...batch));
      await waitUntil('the message published while down arrived', () => received.length >= 1);
      await second.close();
      assert.deepEqual(received.map((m) => Buffer.from(m.value).toString()), ['while down']);
    });
  });
}

describe('SqliteMessageBus: one database file, several processes', () => {
  let fixture: Awaited<ReturnType<typeof sqliteFixture>>;
  before(async () => {
    fixture = await sqliteFixture();
  });
  after(async () => {
    await fixture.cleanup();
  });

  test('messages published by other processes are consumed by polling, each key in order', async () => {
    const topic = unique('msec.test.processes.');
    const received: ConsumedMessage[] = [];
    const subscription = fixture.bus.subscribe({ topic, group: unique('g-'), fromBeginning: true }, (batch) => void received.push(...batch));
    try {
      await runInOtherProcesses([
        { action: 'publishMessages', file: fixture.file, topic, key: 'agent-a', count: 200 },
        { action: 'publishMessages', file: fixture.file, topic, key: 'agent-b', count: 200 },
      ]);
      await waitUntil('all 400 messages arrived', () => received.length >= 400, 10_000);
    } finally {
      await subscription.close();
    }
    assert.deepEqual(received.map((m) => m.offset), Array.from({ length: 400 }, (_, i) => i));
    for (const key of ['agent-a', 'agent-b']) {
      const texts = received.filter((m) => m.key === key).map((m) => Buffer.from(m.value).toString());
      assert.deepEqual(texts, Array.from({ length: 200 }, (_, i) => `${key}:${i}`));
    }
  });
});
