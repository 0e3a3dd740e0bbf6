import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../../../domain/decider.ts';
import { kvClusterDecider, type KvEvent } from '../../../domain/kv/index.ts';
import { streams } from '../../../domain/streams.ts';
import { busyKvClusters, findKvCluster, keptKvTasks, kvProjection, liveKvClusters, nextKvBasePort, type KvState } from '../../../projections/kv.ts';
import { foldState, recorded } from './events.ts';

const task = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const createdEvent = (name: string, basePort = 7000): KvEvent => ({
  type: 'KvClusterCreated', data: { name, replicas: 1, memoryBytes: 64 * 1024 ** 2, maxmemoryPolicy: 'allkeys-lru', basePort, nodeTimeoutMs: 5000, appendonly: true, memo: '' },
});
const started = (name: string, taskId: string, kind: 'create' | 'delete' | 'failover' = 'create'): KvEvent =>
  ({ type: 'KvTaskStarted', data: { name, taskId, kind, summary: kind, setId: 0, instances: [], hosts: kind === 'create' ? ['10.0.0.1', '10.0.0.2'] : [], atMs: 1000 } });
const placed = (name: string, taskId: string, setId: number, ip: string, port: number, role: 'master' | 'replica'): KvEvent =>
  ({ type: 'KvInstancePlaced', data: { name, taskId, setId, ip, port, role } });
const stepped = (name: string, taskId: string, step: string): KvEvent => ({ type: 'KvTaskStepped', data: { name, taskId, step, ok: true, detail: '', atMs: 2000 } });
const ended = (name: string, taskId: string): KvEvent => ({ type: 'KvTaskEnded', data: { name, taskId, outcome: 'succeeded', error: '', atMs: 3000 } });
const deleted = (name: string, taskId: string): KvEvent => ({ type: 'KvClusterDeleted', data: { name, taskId } });

/** A cluster created (one set: master on .1, replica on .2) and its create task ended. */
const createdCluster = (name: string, basePort = 7000, n = 1): KvEvent[] => [
  createdEvent(name, basePort), started(name, task(n)), placed(name, task(n), 1, '10.0.0.1', basePort, 'master'), placed(name, task(n), 1, '10.0.0.2', basePort, 'replica'),
  stepped(name, task(n), 'start instances'), ended(name, task(n)),
];
const deletedCluster = (name: string, n: number): KvEvent[] => [started(name, task(n), 'delete'), ended(name, task(n)), deleted(name, task(n))];

const given = (...events: KvEvent[]): KvState =>
  foldState(kvProjection, recorded(events).map((e) => ({ ...e, stream: streams.kvCluster((e.data as { name: string }).name) })));

describe('kv projection', () => {
  it('shows a cluster with its settings, layout, hosts and tasks, as its decider folds them', () => {
    const events = createdCluster('cache');
    const view = findKvCluster(given(...events), 'cache')!;
    assert.equal(view.name, 'cache');
    assert.equal(view.createdAt, '2024-05-01T08:01:00.000Z');
    assert.equal(view.createdBy, 'admin');
    assert.equal(view.revision, events.length - 1);
    assert.equal(view.cluster.settings!.basePort, 7000);
    assert.deepEqual(view.cluster.hosts, ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(view.cluster.instances.map((i) => `${i.setId} ${i.ip}:${i.port} ${i.role}`), ['1 10.0.0.1:7000 master', '1 10.0.0.2:7000 replica']);
    assert.deepEqual(view.cluster.tasks.map((t) => [t.kind, t.outcome, t.steps.map((s) => s.step)]), [['create', 'succeeded', ['start instances']]]);
    assert.deepEqual(view.cluster, fold(kvClusterDecider, events));
  });

  it('lists clusters by name and knows which have a task under way', () => {
    const state = given(...createdCluster('web', 7100, 2), ...createdCluster('cache'), started('cache', task(3), 'failover'));
    assert.deepEqual(state.clusters.map((c) => c.name), ['cache', 'web']);
    assert.deepEqual(busyKvClusters(state).map((c) => c.name), ['cache']);
    assert.equal(findKvCluster(state, 'cache')!.cluster.running, task(3));
  });

  it('keeps a deleted cluster with its task history, out of the live clusters', () => {
    const state = given(...createdCluster('cache'), ...createdCluster('web', 7100, 2), ...deletedCluster('cache', 3));
    const view = findKvCluster(state, 'cache')!;
    assert.equal(view.cluster.settings, undefined);
    assert.deepEqual(view.cluster.instances, []);
    assert.deepEqual(view.cluster.tasks.map((t) => `${t.kind} ${t.outcome}`), ['create succeeded', 'delete succeeded']);
    assert.deepEqual(liveKvClusters(state).map((c) => c.name), ['web']);
    assert.deepEqual(busyKvClusters(state), []);
  });

  it('keeps the history of a cluster created again after its deletion, as its decider does, with the new creation time', () => {
    const events = [...createdCluster('cache'), ...deletedCluster('cache', 2), createdEvent('cache'), started('cache', task(3))];
    const view = findKvCluster(given(...events), 'cache')!;
    assert.deepEqual(view.cluster.tasks.map((t) => t.kind), ['create', 'delete', 'create']);
    assert.deepEqual(view.cluster, fold(kvClusterDecider, events));
    assert.equal(view.createdAt, '2024-05-01T08:10:00.000Z');
  });

  it(`keeps the last ${keptKvTasks} tasks of a cluster`, () => {
    const tasks = Array.from({ length: keptKvTasks + 5 }, (_, i) => [started('cache', task(10 + i), 'failover'), ended('cache', task(10 + i))]).flat();
    const view = findKvCluster(given(...createdCluster('cache'), ...tasks), 'cache')!;
    assert.equal(view.cluster.tasks.length, keptKvTasks);
    assert.equal(view.cluster.tasks.at(-1)!.taskId, task(10 + keptKvTasks + 4));
  });

  it('ignores events of a cluster it never saw created', () => {
    assert.deepEqual(given(started('ghost', task(1)), ended('ghost', task(1))).clusters, []);
  });

  it('gives a new cluster the next base port not taken by a live cluster, in blocks of 100', () => {
    assert.equal(nextKvBasePort(given()), 7000);
    assert.equal(nextKvBasePort(given(...createdCluster('a', 7000, 1), ...createdCluster('b', 7100, 2))), 7200);
    assert.equal(nextKvBasePort(given(...createdCluster('a', 7000, 1), ...createdCluster('b', 7200, 2))), 7100);
    assert.equal(nextKvBasePort(given(...createdCluster('a', 7000, 1), ...deletedCluster('a', 2))), 7000, 'a deleted cluster frees its block');
    assert.equal(nextKvBasePort(given(...createdCluster('a', 8000, 1)), 8000), 8100);
  });

  it('skips a block overlapping a cluster whose base port is off the grid of 100', () => {
    assert.equal(nextKvBasePort(given(...createdCluster('a', 7050, 1))), 7200);
    assert.equal(nextKvBasePort(given(...createdCluster('a', 6950, 1))), 7100);
  });
});
