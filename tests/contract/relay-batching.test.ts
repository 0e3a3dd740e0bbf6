/** The relay cuts its publishes by size as well as by count: a broker refuses a produce request past its limit for ever. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryMessageBus } from '../../adapters/bus/memory.ts';
import type { BusMessage } from '../../adapters/bus/port.ts';
import { MemoryCheckpointStore } from '../../adapters/checkpoints/memory.ts';
import { MemoryEventStore } from '../../adapters/eventstore/memory.ts';
import { maxBatchBytes, OutboxRelay } from '../../apps/relay/outbox-relay.ts';
import { streams } from '../../domain/streams.ts';
import { busKey } from './relay-support.ts';
import { command, waitUntil } from './support.ts';

test('ten 300 KB config versions go out in publishes of at most 512 KB, each event once, in order', async () => {
  const store = new MemoryEventStore();
  const bus = new MemoryMessageBus();
  const publishes: BusMessage[][] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (topic, messages) => {
    publishes.push(messages);
    return publish(topic, messages);
  };
  const text = `[LOG]\nLevel=INFO\n; ${'x'.repeat(300 * 1024)}\n`;
  const events = Array.from({ length: 10 }, (_, i) => ({ type: 'ConfigVersionAdded' as const, data: { service: 'Big.configs', tag: `v${i}`, text, memo: '' } }));
  await store.append(streams.service('Big.configs'), 'any', command(events));
  const checkpoints = new MemoryCheckpointStore();
  const relay = new OutboxRelay({ store, bus, checkpoints, key: busKey, logger: pino({ level: 'silent' }) });
  await relay.start();
  try {
    await waitUntil('all ten relayed', () => relay.status().checkpoint >= 10);
  } finally {
    await relay.stop();
  }
  const sizes = publishes.map((batch) => batch.reduce((n, m) => n + m.value.byteLength, 0));
  assert.ok(publishes.length >= 5, `several publishes (${sizes.join(', ')} bytes)`);
  assert.ok(sizes.every((n, i) => n <= maxBatchBytes || publishes[i]!.length === 1), `each publish under ${maxBatchBytes} bytes, or a single event (${sizes.join(', ')})`);
  const positions = publishes.flat().map((m) => Number(m.headers!.position));
  assert.deepEqual(positions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(publishes.flat().map((m) => Number(m.headers!['prev-position'])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the chain spans the cuts');
});
