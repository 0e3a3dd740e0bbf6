/**
 * One Redis cluster of the KV (stream "kvcluster-<name>"), as specifications: its creation with
 * the layout, one task at a time (expand, shrink, recover, failover, delete), the steps the task
 * runner records, instances taken away, the task's end; and every bad input refused with what
 * to write instead.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kvClusterDecider, parseInstance, parseMemory, type KvCommand, type KvEvent } from '../../../../domain/kv/index.ts';
import { assertRefused, spec, stateAfter } from '../../support/given-when-then.ts';

const kv = spec(kvClusterDecider);
const name = 'cache';
const task = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const mb64 = 64 * 1024 ** 2;

const create = (over: Partial<Extract<KvCommand, { type: 'CreateKvCluster' }>> = {}): KvCommand => ({
  type: 'CreateKvCluster', name, sets: 3, replicas: 1, memoryBytes: mb64, maxmemoryPolicy: 'allkeys-lru', basePort: 7000, nodeTimeoutMs: 5000,
  appendonly: true, hosts, memo: 'sessions', taskId: task(1), atMs: 1000, ...over,
});
const placed = (taskId: string, setId: number, address: string, role: 'master' | 'replica'): KvEvent => {
  const { ip, port } = parseInstance(address);
  return { type: 'KvInstancePlaced', data: { name, taskId, setId, ip, port, role } };
};
const ended = (taskId: string, outcome: 'succeeded' | 'failed' = 'succeeded', error = ''): KvEvent => ({ type: 'KvTaskEnded', data: { name, taskId, outcome, error, atMs: 9000 } });

const created: KvEvent[] = [
  { type: 'KvClusterCreated', data: { name, replicas: 1, memoryBytes: mb64, maxmemoryPolicy: 'allkeys-lru', basePort: 7000, nodeTimeoutMs: 5000, appendonly: true, memo: 'sessions' } },
  { type: 'KvTaskStarted', data: { name, taskId: task(1), kind: 'create', summary: 'create 3 set(s) × 2 instance(s) on 10.0.0.1, 10.0.0.2, 10.0.0.3', setId: 0, instances: [], hosts, atMs: 1000 } },
  placed(task(1), 1, '10.0.0.1:7000', 'master'), placed(task(1), 1, '10.0.0.2:7000', 'replica'),
  placed(task(1), 2, '10.0.0.3:7000', 'master'), placed(task(1), 2, '10.0.0.1:7001', 'replica'),
  placed(task(1), 3, '10.0.0.2:7001', 'master'), placed(task(1), 3, '10.0.0.3:7001', 'replica'),
];
/** A cluster of 3 sets × 2 on 3 hosts, created, nothing under way. */
const ready = [...created, ended(task(1))];
const started = (taskId: string, kind: string, summary: string, more: { setId?: number; instances?: string[]; hosts?: string[] } = {}): KvEvent =>
  ({ type: 'KvTaskStarted', data: { name, taskId, kind, summary, setId: more.setId ?? 0, instances: more.instances ?? [], hosts: more.hosts ?? [], atMs: 2000 } }) as KvEvent;

describe('creating a cluster', () => {
  test('when created, then the settings, the create task and every instance placed with its port', () => {
    kv.given([]).when(create()).then(created);
  });

  test('given the cluster, when created again, then it is refused as a conflict', () => {
    kv.given(ready).when(create({ taskId: task(2) })).thenFails('conflict', /KV cluster cache exists already: msec kv show cache/);
  });

  test('when created with appendonly not exactly true, then it is off', () => {
    const events = kvClusterDecider.decide(create({ appendonly: 'yes' as unknown as boolean }), kvClusterDecider.initialState());
    assert.equal((events[0] as Extract<KvEvent, { type: 'KvClusterCreated' }>).data.appendonly, false);
  });

  test('when created avoiding a host, then nothing is placed on it', () => {
    const events = kvClusterDecider.decide(create({ avoid: ['10.0.0.3'] }), kvClusterDecider.initialState());
    const ips = events.flatMap((e) => (e.type === 'KvInstancePlaced' ? [e.data.ip] : []));
    assert.equal(ips.length, 6);
    assert.ok(!ips.includes('10.0.0.3'));
  });
});

describe('bad input is refused with what to write instead', () => {
  test('cluster names', () => {
    for (const bad of ['Cache', '1cache', '', 'a'.repeat(41), 'ca che', 'cache\n', '../x']) {
      kv.given([]).when(create({ name: bad })).thenFails('invalid', /a KV cluster name is 1 to 40 characters: a lowercase letter/);
    }
    kv.given([]).when(create({ name: 'a'.repeat(40) })).then(kvClusterDecider.decide(create({ name: 'a'.repeat(40) }), kvClusterDecider.initialState()));
  });

  test('counts of sets and replicas, the node timeout', () => {
    kv.given([]).when(create({ sets: 0 })).thenFails('invalid', /--sets must be a whole number from 1 to 64 \(not 0\)/);
    kv.given([]).when(create({ sets: 65 })).thenFails('invalid', /--sets must be a whole number from 1 to 64/);
    kv.given([]).when(create({ sets: 1.5 })).thenFails('invalid', /--sets .*\(not 1\.5\)/);
    kv.given([]).when(create({ replicas: 5 })).thenFails('invalid', /--replicas must be a whole number from 0 to 4/);
    kv.given([]).when(create({ replicas: -1 })).thenFails('invalid', /--replicas/);
    kv.given([]).when(create({ nodeTimeoutMs: 100 })).thenFails('invalid', /the node timeout \(ms\) must be a whole number from 500 to 60000/);
  });

  test('memory sizes', () => {
    assertRefused(() => parseMemory('64xb'), 'invalid', /memory per instance is a size such as 64mb or 1gb \(not "64xb"\)/);
    assertRefused(() => parseMemory('1.5gb'), 'invalid', /a size such as 64mb/);
    assertRefused(() => parseMemory(64), 'invalid', /a size such as 64mb/);
    assertRefused(() => parseMemory('512kb'), 'invalid', /from 1mb to 64gb \(not 524288 bytes\)/);
    assertRefused(() => parseMemory('65gb'), 'invalid', /from 1mb to 64gb/);
    assert.equal(parseMemory('64mb'), mb64);
    assert.equal(parseMemory(' 2 GB '), 2 * 1024 ** 3);
    assert.equal(parseMemory('1048576'), 1024 ** 2);
    kv.given([]).when(create({ memoryBytes: 1024 })).thenFails('invalid', /memory per instance must be from 1mb to 64gb \(not 1024 bytes\)/);
  });

  test('maxmemory policies, a newline in one too', () => {
    kv.given([]).when(create({ maxmemoryPolicy: 'allkeys-lru\nmaxmemory 0' })).thenFails('invalid', /the maxmemory policy must be one of noeviction, allkeys-lru.* \(not "allkeys-lru\\nmaxmemory 0"\)/);
    kv.given([]).when(create({ maxmemoryPolicy: 'lru' })).thenFails('invalid', /the maxmemory policy must be one of/);
  });

  test('hosts: none, twice, not IPv4', () => {
    kv.given([]).when(create({ hosts: [] })).thenFails('invalid', /give the hosts to place instances on: --hosts IP,IP/);
    kv.given([]).when(create({ hosts: ['10.0.0.1', '10.0.0.2', '10.0.0.1'] })).thenFails('invalid', /host 10\.0\.0\.1 is given twice/);
    kv.given([]).when(create({ hosts: ['db1.example'] })).thenFails('invalid', /"db1\.example" is not an IPv4 address/);
    kv.given([]).when(create({ hosts: ['10.0.0.256'] })).thenFails('invalid', /above 255/);
  });

  test('base ports out of range (the cluster bus is port + 10000)', () => {
    kv.given([]).when(create({ basePort: 1023 })).thenFails('invalid', /--port must be a whole number from 1024 to 55436 \(not 1023\)/);
    kv.given([]).when(create({ basePort: 55437 })).thenFails('invalid', /--port must be a whole number from 1024 to 55436/);
  });

  test('task ids and memos', () => {
    kv.given([]).when(create({ taskId: 'task-1' })).thenFails('invalid', /a task id is a UUID/);
    kv.given([]).when(create({ memo: 'x'.repeat(10_000) })).thenFails('invalid', /memo is 10000 characters long/);
  });

  test('instances written IP:PORT', () => {
    assert.deepEqual(parseInstance('127.0.0.2:7000'), { ip: '127.0.0.2', port: 7000 });
    for (const bad of ['127.0.0.2', '127.0.0.2:0', '127.0.0.2:65536', '300.0.0.1:7000', 'host:7000']) {
      assertRefused(() => parseInstance(bad), 'invalid', /an instance is written IP:PORT/);
    }
  });
});

describe('one task at a time', () => {
  test('given the create task under way, when expanding, then it is refused naming the task', () => {
    kv.given(created).when({ type: 'ExpandKvCluster', name, sets: 1, hosts: [], taskId: task(2), atMs: 2000 })
      .thenFails('conflict', new RegExp(`task ${task(1)} \\(create\\) of KV cluster cache is under way: one task at a time`));
  });

  test('given a task under way, then shrink, recover, failover and delete are refused too', () => {
    for (const command of [
      { type: 'ShrinkKvCluster', name, setId: 1, taskId: task(2), atMs: 2000 },
      { type: 'RecoverKvCluster', name, dead: [{ ip: '10.0.0.1', port: 7000 }], avoid: [], taskId: task(2), atMs: 2000 },
      { type: 'FailoverKvInstance', name, ip: '10.0.0.2', port: 7000, taskId: task(2), atMs: 2000 },
      { type: 'DeleteKvCluster', name, taskId: task(2), atMs: 2000 },
    ] satisfies KvCommand[]) {
      kv.given(created).when(command).thenFails('conflict', /\(create\) of KV cluster cache is under way/);
    }
  });

  test('given no cluster, then every task is refused as not found', () => {
    kv.given([]).when({ type: 'DeleteKvCluster', name, taskId: task(2), atMs: 2000 }).thenFails('not_found', /no KV cluster cache: msec kv list shows the clusters/);
    kv.given([]).when({ type: 'ExpandKvCluster', name, sets: 1, hosts: [], taskId: task(2), atMs: 2000 }).thenFails('not_found', /no KV cluster cache/);
  });
});

describe('expanding and shrinking', () => {
  test('given the cluster, when expanded by a set with a new host, then its master goes to that host', () => {
    kv.given(ready).when({ type: 'ExpandKvCluster', name, sets: 1, hosts: ['10.0.0.4'], taskId: task(2), atMs: 2000 }).then([
      started(task(2), 'expand', 'expand by 1 set(s): set 4', { hosts: ['10.0.0.4'] }),
      placed(task(2), 4, '10.0.0.4:7000', 'master'), placed(task(2), 4, '10.0.0.1:7002', 'replica'),
    ]);
  });

  test('given 3 sets, when expanded past 64 sets, then it is refused', () => {
    kv.given(ready).when({ type: 'ExpandKvCluster', name, sets: 62, hosts: [], taskId: task(2), atMs: 2000 }).thenFails('invalid', /--sets must be a whole number from 1 to 61/);
  });

  test('given 64 sets, when expanded, then it is refused: the most a cluster may have', () => {
    const full = [...kvClusterDecider.decide(create({ sets: 64, replicas: 0 }), kvClusterDecider.initialState()), ended(task(1))];
    kv.given(full).when({ type: 'ExpandKvCluster', name, sets: 1, hosts: [], taskId: task(2), atMs: 2000 }).thenFails('conflict', /has 64 sets, the most a cluster may have/);
  });

  test('given the cluster, when a set is shrunk away, then the task names it', () => {
    kv.given(ready).when({ type: 'ShrinkKvCluster', name, setId: 2, taskId: task(2), atMs: 2000 })
      .then([started(task(2), 'shrink', 'shrink: move the slots of set 2 to the other sets and remove its instances', { setId: 2 })]);
  });

  test('given the cluster, when an unknown set is shrunk, then it is refused with the sets it has', () => {
    kv.given(ready).when({ type: 'ShrinkKvCluster', name, setId: 9, taskId: task(2), atMs: 2000 }).thenFails('not_found', /KV cluster cache has no set 9: its sets are 1, 2, 3/);
  });

  test('given one set left, when it is shrunk, then it is refused: delete the cluster instead', () => {
    const oneSet = kvClusterDecider.decide(create({ sets: 1 }), kvClusterDecider.initialState());
    kv.given([...oneSet, ended(task(1))]).when({ type: 'ShrinkKvCluster', name, setId: 1, taskId: task(2), atMs: 2000 })
      .thenFails('conflict', /set 1 is the last set of cache: delete the cluster instead \(msec kv delete cache\)/);
  });
});

describe('recovering and failing over', () => {
  test('given every instance answers, when recovering, then it is refused: nothing to recover', () => {
    kv.given(ready).when({ type: 'RecoverKvCluster', name, dead: [], avoid: [], taskId: task(2), atMs: 2000 }).thenFails('conflict', /every instance of cache answers: nothing to recover/);
  });

  test('given a dead instance that is not the cluster\'s, then it is refused', () => {
    kv.given(ready).when({ type: 'RecoverKvCluster', name, dead: [{ ip: '10.0.0.9', port: 7000 }], avoid: [], taskId: task(2), atMs: 2000 })
      .thenFails('not_found', /10\.0\.0\.9:7000 is not an instance of cache/);
  });

  test('given a dead master, when recovering, then a new replica of its set goes to a host neither dead nor holding the set', () => {
    kv.given(ready).when({ type: 'RecoverKvCluster', name, dead: [{ ip: '10.0.0.1', port: 7000 }], avoid: [], taskId: task(2), atMs: 2000 }).then([
      started(task(2), 'recover', 'recover: replace 10.0.0.1:7000 with new replicas', { instances: ['10.0.0.1:7000'] }),
      placed(task(2), 1, '10.0.0.3:7002', 'replica'),
    ]);
  });

  test('given a host down with two instances, when recovering, then each replacement avoids it and its set\'s other host', () => {
    const events = kvClusterDecider.decide(
      { type: 'RecoverKvCluster', name, dead: [{ ip: '10.0.0.1', port: 7000 }, { ip: '10.0.0.1', port: 7001 }], avoid: ['10.0.0.1'], taskId: task(2), atMs: 2000 },
      stateAfter(kvClusterDecider, ready),
    );
    assert.deepEqual(events.slice(1), [placed(task(2), 1, '10.0.0.3:7002', 'replica'), placed(task(2), 2, '10.0.0.2:7002', 'replica')]);
  });

  test('given a single host, when its instance is dead, then the replacement still goes there (no other host)', () => {
    const single = kvClusterDecider.decide(create({ sets: 1, replicas: 0, hosts: ['10.0.0.1'] }), kvClusterDecider.initialState());
    kv.given([...single, ended(task(1))]).when({ type: 'RecoverKvCluster', name, dead: [{ ip: '10.0.0.1', port: 7000 }], avoid: [], taskId: task(2), atMs: 2000 }).then([
      started(task(2), 'recover', 'recover: replace 10.0.0.1:7000 with new replicas', { instances: ['10.0.0.1:7000'] }),
      placed(task(2), 1, '10.0.0.1:7001', 'replica'),
    ]);
  });

  test('given the cluster, when failing over to a replica, then the task names it; an unknown instance is refused', () => {
    kv.given(ready).when({ type: 'FailoverKvInstance', name, ip: '10.0.0.2', port: 7000, taskId: task(2), atMs: 2000 })
      .then([started(task(2), 'failover', 'fail over to the replica 10.0.0.2:7000', { instances: ['10.0.0.2:7000'] })]);
    kv.given(ready).when({ type: 'FailoverKvInstance', name, ip: '10.0.0.2', port: 7999, taskId: task(2), atMs: 2000 })
      .thenFails('not_found', /10\.0\.0\.2:7999 is not an instance of cache: msec kv show cache lists them/);
  });
});

describe('steps, instance removal and the end of a task', () => {
  const step = (taskId: string, over: Partial<Extract<KvCommand, { type: 'RecordKvStep' }>> = {}): KvCommand =>
    ({ type: 'RecordKvStep', name, taskId, step: 'start instances', ok: true, detail: '6 started', atMs: 3000, ...over });

  test('given a task under way, when a step is recorded, then it is; a long detail is cut', () => {
    kv.given(created).when(step(task(1))).then([{ type: 'KvTaskStepped', data: { name, taskId: task(1), step: 'start instances', ok: true, detail: '6 started', atMs: 3000 } }]);
    const [long] = kvClusterDecider.decide(step(task(1), { detail: 'x'.repeat(5000) }), stateAfter(kvClusterDecider, created));
    assert.equal((long as Extract<KvEvent, { type: 'KvTaskStepped' }>).data.detail.length, 4000);
    kv.given(created).when(step(task(1), { step: '' })).thenFails('invalid', /a step is named in 1 to 200 characters/);
  });

  test('given no task under way, or another one, then steps and ends are refused', () => {
    kv.given(ready).when(step(task(1))).thenFails('conflict', new RegExp(`task ${task(1)} of KV cluster cache is not under way`));
    kv.given(created).when(step(task(2))).thenFails('conflict', /is not under way/);
    kv.given(ready).when({ type: 'EndKvTask', name, taskId: task(1), outcome: 'succeeded', error: '', atMs: 9000 }).thenFails('conflict', /is not under way/);
    kv.given(ready).when({ type: 'RemoveKvInstance', name, taskId: task(1), ip: '10.0.0.1', port: 7000, why: 'x' }).thenFails('conflict', /is not under way/);
  });

  test('given a task under way, when an instance is removed, then it leaves the layout; an unknown one changes nothing', () => {
    const shrinking = [...ready, started(task(2), 'shrink', 'shrink', { setId: 3 })];
    const removed: KvEvent = { type: 'KvInstanceRemoved', data: { name, taskId: task(2), ip: '10.0.0.2', port: 7001, why: 'set 3 removed' } };
    kv.given(shrinking).when({ type: 'RemoveKvInstance', name, taskId: task(2), ip: '10.0.0.2', port: 7001, why: 'set 3 removed' }).then([removed]);
    kv.given([...shrinking, removed]).when({ type: 'RemoveKvInstance', name, taskId: task(2), ip: '10.0.0.2', port: 7001, why: 'again' }).thenNothing();
    assert.equal(stateAfter(kvClusterDecider, [...shrinking, removed]).instances.length, 5);
  });

  test('given the create task, when it ends, then nothing is under way and its outcome is kept', () => {
    kv.given(created).when({ type: 'EndKvTask', name, taskId: task(1), outcome: 'failed', error: 'redis-server did not start', atMs: 9000 })
      .then([ended(task(1), 'failed', 'redis-server did not start')]);
    const state = stateAfter(kvClusterDecider, [...created, ended(task(1), 'failed', 'redis-server did not start')]);
    assert.equal(state.running, '');
    assert.deepEqual([state.tasks[0]!.outcome, state.tasks[0]!.error, state.tasks[0]!.endedAtMs], ['failed', 'redis-server did not start', 9000]);
  });
});

describe('deleting a cluster', () => {
  const deleting = [...ready, started(task(2), 'delete', 'delete the cluster: stop and remove its 6 instance(s)')];
  const deleted: KvEvent = { type: 'KvClusterDeleted', data: { name, taskId: task(2) } };

  test('given the cluster, when deleted, then a delete task starts', () => {
    kv.given(ready).when({ type: 'DeleteKvCluster', name, taskId: task(2), atMs: 2000 }).then([deleting.at(-1)!]);
  });

  test('given the delete task, when it succeeds, then the cluster is deleted, its task history kept, and it may be created again', () => {
    kv.given(deleting).when({ type: 'EndKvTask', name, taskId: task(2), outcome: 'succeeded', error: '', atMs: 9000 }).then([ended(task(2)), deleted]);
    const state = stateAfter(kvClusterDecider, [...deleting, ended(task(2)), deleted]);
    assert.equal(state.settings, undefined);
    assert.deepEqual(state.instances, []);
    assert.deepEqual(state.tasks.map((t) => `${t.kind} ${t.outcome}`), ['create succeeded', 'delete succeeded']);
    const again = kvClusterDecider.decide(create({ sets: 1, replicas: 0, taskId: task(3) }), state);
    assert.deepEqual(again.map((e) => e.type), ['KvClusterCreated', 'KvTaskStarted', 'KvInstancePlaced']);
    assert.deepEqual(again[2], placed(task(3), 4, '10.0.0.1:7000', 'master'), 'set ids are never reused');
    kv.given([...deleting, ended(task(2)), deleted]).when({ type: 'ShrinkKvCluster', name, setId: 1, taskId: task(3), atMs: 2000 }).thenFails('not_found', /no KV cluster cache/);
  });

  test('given the delete task, when it fails, then the cluster stays', () => {
    kv.given(deleting).when({ type: 'EndKvTask', name, taskId: task(2), outcome: 'failed', error: 'host down', atMs: 9000 }).then([ended(task(2), 'failed', 'host down')]);
    kv.given([...deleting, ended(task(2), 'failed', 'host down')]).when(create({ taskId: task(3) })).thenFails('conflict', /exists already/);
  });
});
