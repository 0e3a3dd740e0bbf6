/** The decoded-event cache of the SQLite store: serves only runs it fully holds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentEvents } from '../../adapters/eventstore/recent-events.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import { registerUpcaster, unregisterUpcasters } from '../../schemas/upcasters.ts';

const at = (position: number) => ({ position }) as RecordedEvent;
const positions = (events: RecordedEvent[]) => events.map((e) => e.position);

test('given positions 1-3 and 6-7 cached, reads stop at the first gap and miss inside it', () => {
  const cache = new RecentEvents();
  cache.add([at(1), at(2), at(3), at(6), at(7)]);
  assert.deepEqual(positions(cache.after(0, 10)), [1, 2, 3]);
  assert.deepEqual(positions(cache.after(3, 10)), [], 'position 4 was written by another process: a miss');
  assert.deepEqual(positions(cache.after(5, 1)), [6]);
});

test('the oldest events leave once the capacity is reached', () => {
  const cache = new RecentEvents(3);
  cache.add([at(1), at(2), at(3), at(4)]);
  assert.deepEqual(positions(cache.after(0, 10)), []);
  assert.deepEqual(positions(cache.after(1, 10)), [2, 3, 4]);
});

test('a newly registered upcaster empties the cache (cached events were upcast without it)', () => {
  const cache = new RecentEvents();
  cache.add([at(1)]);
  registerUpcaster('HostWeightSet', 1, (d) => d);
  try {
    assert.deepEqual(cache.after(0, 10), []);
  } finally {
    unregisterUpcasters('HostWeightSet');
  }
});
