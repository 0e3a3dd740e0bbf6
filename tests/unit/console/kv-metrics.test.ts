/**
 * What the console reports of each KV instance (apps/console/kv/metrics-sampler.ts): gauges
 * under RESERVED.kv named kv.<cluster>.<port>.<what>, the instance's host as the ip, and only
 * `up = 0` for an instance that does not answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instanceMetrics } from '../../../apps/console/kv/metrics-sampler.ts';
import type { LiveInstance } from '../../../apps/console/kv/live.ts';

const base: LiveInstance = {
  setId: 1, ip: '10.0.0.2', port: 7001, placedRole: 'replica', role: 'replica', nodeId: 'n', master: '10.0.0.1:7000', slots: 0, ranges: '', keys: 120,
  memoryBytes: 3 * 2 ** 20, maxmemoryBytes: 64 * 2 ** 20, opsPerSec: 42, hitRatio: 0.875, lagBytes: 16, linkUp: true, clusterState: 'ok', knownLive: 6, error: '',
};

test('given a replica that answers, when sampled, then its gauges are reported under RESERVED.kv with its host as the ip', () => {
  const m = instanceMetrics('cache', base, 1_700_000_040, 1_700_000_040_500);
  assert.deepEqual(m.map((x) => [x.attr, x.value]), [
    ['kv.cache.7001.up', 1], ['kv.cache.7001.ops_per_sec', 42], ['kv.cache.7001.used_memory_mb', 3], ['kv.cache.7001.keys', 120],
    ['kv.cache.7001.hit_ratio_percent', 87.5], ['kv.cache.7001.repl_lag_bytes', 16],
  ]);
  assert.ok(m.every((x) => x.service === 'RESERVED.kv' && x.ip === '10.0.0.2' && x.kind === 'set' && x.minute === 1_700_000_040 && x.method === '' && x.side === ''));
});

test('given a master before any read, when sampled, then no hit ratio and no lag are reported (nothing to say yet)', () => {
  const m = instanceMetrics('cache', { ...base, role: 'master', lagBytes: -1, hitRatio: -1 }, 60, 60_000);
  assert.deepEqual(m.map((x) => x.attr), ['kv.cache.7001.up', 'kv.cache.7001.ops_per_sec', 'kv.cache.7001.used_memory_mb', 'kv.cache.7001.keys']);
});

test('given an instance that does not answer, when sampled, then only up = 0 is reported (an alarm "min 1" on it fires)', () => {
  assert.deepEqual(instanceMetrics('cache', { ...base, role: 'down' }, 60, 60_000).map((x) => [x.attr, x.value]), [['kv.cache.7001.up', 0]]);
});
