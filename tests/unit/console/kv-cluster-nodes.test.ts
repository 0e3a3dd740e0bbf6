/**
 * Redis's own answers, read: CLUSTER NODES of real redis-server processes (a cluster of three
 * masters and a replica, one slot being migrated), a fixed text with every oddity, INFO; and the
 * risk flags an operator is shown.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isFailing, isMaster, keysOf, nodeAddress, parseClusterNodes, parseInfo, type ClusterNode } from '../../../apps/console/kv/cluster-nodes.ts';
import { riskFlags, type LiveInstance } from '../../../apps/console/kv/live.ts';
import { fold } from '../../../domain/decider.ts';
import { KV_SLOTS, kvClusterDecider, type KvClusterState } from '../../../domain/kv/index.ts';

const run = promisify(execFile);
const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (+ 10000) is free too, not one handed out before. */
const handedOut = new Set<number>();
async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (!handedOut.has(port) && (await canListen(port)) && (await canListen(port + 10_000))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port pair');
}

describe('CLUSTER NODES of real redis-servers', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'msec-kv-nodes-'));
  const servers = new Map<number, ChildProcess>();
  let ports: number[] = [];
  const ids = new Map<number, string>();
  let migratingText = '';
  let importingText = '';

  async function start(port: number): Promise<void> {
    const folder = join(dir, String(port));
    await run('mkdir', ['-p', folder]);
    const server = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '500',
      '--dir', folder, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
    ], { stdio: 'ignore' });
    servers.set(port, server);
    await until(`redis-server on ${port}`, async () => ((await cli(port, 'ping')).trim() === 'PONG' ? true : undefined));
  }

  const myself = (text: string) => parseClusterNodes(text).find((n) => n.flags.includes('myself'))!;

  before(async () => {
    ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    await Promise.all(ports.map(start));
    for (const port of ports) ids.set(port, myself(await cli(port, 'cluster', 'nodes')).id);
    const [a, b, c, d] = ports as [number, number, number, number];
    for (const other of [b, c, d]) await cli(a, 'cluster', 'meet', '127.0.0.1', String(other));
    await cli(a, 'cluster', 'addslotsrange', '0', '5460');
    await cli(b, 'cluster', 'addslotsrange', '5461', '10922');
    await cli(c, 'cluster', 'addslotsrange', '10923', '16383');
    await until('the replica to know its master', async () => (parseClusterNodes(await cli(d, 'cluster', 'nodes')).some((n) => n.id === ids.get(a)) ? true : undefined));
    await cli(d, 'cluster', 'replicate', ids.get(a)!);
    await until('every node to agree the cluster is ok', async () => {
      for (const port of ports) if (!(await cli(port, 'cluster', 'info')).includes('cluster_state:ok')) return undefined;
      for (const port of ports) {
        const nodes = parseClusterNodes(await cli(port, 'cluster', 'nodes'));
        if (nodes.length !== 4 || nodes.find((n) => n.id === ids.get(d))?.masterId !== ids.get(a)) return undefined;
      }
      return true;
    });
    await cli(b, 'cluster', 'setslot', '100', 'importing', ids.get(a)!);
    await cli(a, 'cluster', 'setslot', '100', 'migrating', ids.get(b)!);
    migratingText = await cli(a, 'cluster', 'nodes');
    importingText = await cli(b, 'cluster', 'nodes');
  });

  after(async () => {
    for (const server of servers.values()) server.kill('SIGKILL');
    await Promise.all([...servers.values()].map((s) => (s.exitCode === null && s.signalCode === null ? new Promise((resolve) => s.once('exit', resolve)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  test('given 3 masters and a replica, then every node with its address, role, master and slots', () => {
    const [a, b, c, d] = ports as [number, number, number, number];
    const nodes = parseClusterNodes(migratingText);
    assert.equal(nodes.length, 4);
    const byPort = new Map(nodes.map((n) => [n.port, n]));
    for (const port of ports) {
      assert.equal(byPort.get(port)!.id, ids.get(port));
      assert.equal(byPort.get(port)!.ip, '127.0.0.1');
      assert.equal(nodeAddress(byPort.get(port)!), `127.0.0.1:${port}`);
      assert.equal(byPort.get(port)!.linkState, 'connected');
      assert.ok(!isFailing(byPort.get(port)!));
    }
    assert.deepEqual(byPort.get(a)!.flags, ['myself', 'master']);
    assert.deepEqual([a, b, c, d].map((p) => isMaster(byPort.get(p)!)), [true, true, true, false]);
    assert.deepEqual(byPort.get(d)!.flags, ['slave']);
    assert.equal(byPort.get(d)!.masterId, ids.get(a));
    assert.equal(byPort.get(a)!.masterId, '');
    assert.deepEqual([a, b, c, d].map((p) => byPort.get(p)!.slots.length), [5461, 5462, 5461, 0]);
    assert.deepEqual([byPort.get(a)!.slots[0], byPort.get(a)!.slots.at(-1), byPort.get(c)!.slots[0], byPort.get(c)!.slots.at(-1)], [0, 5460, 10923, 16383]);
    assert.equal(nodes.reduce((sum, n) => sum + n.slots.length, 0), KV_SLOTS);
  });

  test('given a slot migrating, then the source\'s own line has it migrating to the target and the target\'s own line importing from the source', () => {
    const [a, b] = ports as [number, number];
    assert.match(migratingText, /\[100->-[0-9a-f]+\]/);
    assert.match(importingText, /\[100-<-[0-9a-f]+\]/);
    const source = myself(migratingText);
    assert.equal(source.port, a);
    assert.deepEqual([...source.migrating], [[100, ids.get(b)]]);
    assert.deepEqual([...source.importing], []);
    assert.ok(source.slots.includes(100), 'a migrating slot is still the source\'s');
    assert.equal(source.slots.length, 5461);
    const target = myself(importingText);
    assert.equal(target.port, b);
    assert.deepEqual([...target.importing], [[100, ids.get(a)]]);
    assert.ok(!target.slots.includes(100));
    assert.deepEqual(parseClusterNodes(importingText).filter((n) => n.id !== target.id).map((n) => n.migrating.size + n.importing.size), [0, 0, 0]);
  });

  test('given keys written through the cluster, then INFO\'s keyspace counts them on their masters', async () => {
    const [a, b, c] = ports as [number, number, number];
    for (let i = 0; i < 30; i++) await run('redis-cli', ['-c', '-p', String(a), 'set', `key:${i}`, String(i)]);
    const infos = await Promise.all([a, b, c].map(async (p) => parseInfo(await cli(p, 'info'))));
    assert.equal(infos.reduce((sum, info) => sum + keysOf(info), 0), 30);
    assert.equal(infos[0]!.get('cluster_enabled'), '1');
    assert.equal(infos[0]!.get('role'), 'master');
    assert.equal(infos[0]!.get('tcp_port'), String(a));
  });

  test('given the replica killed, then the others soon mark it failing', async () => {
    const [a, , , d] = ports as [number, number, number, number];
    servers.get(d)!.kill('SIGKILL');
    const seen = await until('the replica marked failing', async () => {
      const replica = parseClusterNodes(await cli(a, 'cluster', 'nodes')).find((n) => n.port === d)!;
      return isFailing(replica) ? replica : undefined;
    });
    assert.ok(seen.flags.includes('fail') || seen.flags.includes('fail?'), seen.flags.join(','));
  });
});

describe('CLUSTER NODES, a fixed text', () => {
  const id = (c: string) => c.repeat(40);
  const text = [
    `${id('a')} 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 5465 [93-<-${id('c')}] [77->-${id('b')}]`,
    `${id('b')} 10.0.0.2:7000@17000,host-2 master - 0 1426238316232 2 connected 5461-5464 5466-10922`,
    `${id('c')} 10.0.0.3:7000@17000,,shard-id=${id('9')} master,fail - 1426238316000 1426238316232 3 disconnected 10923-16383\r`,
    `${id('d')} 10.0.0.1:7001@17001 slave ${id('b')} 0 1426238317239 4 connected`,
    `${id('e')} :0@0 master,noaddr - 1426238316000 1426238316000 0 disconnected`,
    `${id('f')} 10.0.0.4:7000@17000 handshake - 0 0 0 connected`,
    '',
    'not a node line',
  ].join('\n');

  test('given every kind of line, then nodes with their flags, masters, slots and open migrations', () => {
    const nodes = parseClusterNodes(text);
    assert.deepEqual(nodes.map((n) => `${n.id[0]} ${nodeAddress(n)} ${n.flags.join(',')} ${n.linkState} ${n.slots.length}`), [
      'a 10.0.0.1:7000 myself,master connected 5462',
      'b 10.0.0.2:7000 master connected 5461',
      'c 10.0.0.3:7000 master,fail disconnected 5461',
      'd 10.0.0.1:7001 slave connected 0',
      'e :0 master,noaddr disconnected 0',
      'f 10.0.0.4:7000 handshake connected 0',
    ]);
    const [a, , c, d, e] = nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode, ClusterNode];
    assert.ok(a.slots.includes(5465) && !a.slots.includes(5461));
    assert.deepEqual([...a.importing], [[93, id('c')]]);
    assert.deepEqual([...a.migrating], [[77, id('b')]]);
    assert.equal(d.masterId, id('b'));
    assert.deepEqual(nodes.map(isFailing), [false, false, true, false, true, false]);
    assert.ok(isMaster(c) && !isMaster(d));
    assert.equal(e.port, 0);
  });

  test('given no text, then no node', () => {
    assert.deepEqual(parseClusterNodes(''), []);
  });
});

describe('INFO', () => {
  test('given sections, then every key:value, headers and blank lines skipped, values with colons whole', () => {
    const info = parseInfo('# Server\r\nredis_version:7.0.15\r\nexecutable:/usr/bin/redis-server\r\n\r\n# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=0\r\nmaster_host:10.0.0.1\r\nweird:a:b\r\n');
    assert.equal(info.get('redis_version'), '7.0.15');
    assert.equal(info.get('weird'), 'a:b');
    assert.equal(keysOf(info), 12);
    assert.equal(info.has('# Server'), false);
  });

  test('given no keyspace line, then no keys', () => {
    assert.equal(keysOf(parseInfo('# Keyspace\r\n')), 0);
    assert.equal(keysOf(parseInfo('db1:keys=5,expires=0,avg_ttl=0')), 0);
  });
});

describe('risk flags', () => {
  const task = '00000000-0000-4000-8000-000000000001';
  // 3 sets × (master + 1 replica) on 3 hosts, as the decider places them.
  const cluster: KvClusterState = fold(kvClusterDecider, kvClusterDecider.decide({
    type: 'CreateKvCluster', name: 'cache', sets: 3, replicas: 1, memoryBytes: 64 * 1024 ** 2, maxmemoryPolicy: 'allkeys-lru', basePort: 7000, nodeTimeoutMs: 5000,
    appendonly: true, hosts: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], memo: '', taskId: task, atMs: 0,
  }, kvClusterDecider.initialState()));
  const slotsOf = [0, 5462, 5461, 5461];
  /** Every instance as Redis reports it when all is well: roles as placed, replicas in sync. */
  const healthy = (): LiveInstance[] => cluster.instances.map((i) => ({
    setId: i.setId, ip: i.ip, port: i.port, placedRole: i.role, role: i.role, nodeId: `${i.ip}:${i.port}`, master: '', slots: i.role === 'master' ? slotsOf[i.setId]! : 0,
    ranges: '', keys: 0, memoryBytes: 0, maxmemoryBytes: 0, opsPerSec: 0, hitRatio: -1, lagBytes: i.role === 'master' ? -1 : 0, linkUp: true, clusterState: 'ok', knownLive: 6, error: '',
  }));
  const find = (instances: LiveInstance[], address: string) => instances.find((i) => `${i.ip}:${i.port}` === address)!;
  const flags = (instances: LiveInstance[], o: { slotsCovered?: number; strangers?: string[] } = {}) =>
    riskFlags(cluster, { instances, slotsCovered: o.slotsCovered ?? KV_SLOTS, strangers: o.strangers ?? [] });

  test('given the layout (masters on 10.0.0.1, .3, .2)', () => {
    assert.deepEqual(cluster.instances.filter((i) => i.role === 'master').map((i) => `${i.setId} ${i.ip}:${i.port}`), ['1 10.0.0.1:7000', '2 10.0.0.3:7000', '3 10.0.0.2:7001']);
  });

  test('given all is well, then no risk', () => {
    assert.deepEqual(flags(healthy()), []);
  });

  test('given a replica out of sync, then its set is short of replicas', () => {
    const live = healthy();
    find(live, '10.0.0.2:7000').linkUp = false;
    assert.deepEqual(flags(live), ['set 1 has 0 of 1 replica(s) in sync: one more loss may lose its data (msec kv recover)']);
  });

  test('given more than half of the masters on one host, then it is flagged with the way out', () => {
    const live = healthy();
    // Set 2 failed over to its replica on 10.0.0.1, where set 1's master is.
    Object.assign(find(live, '10.0.0.3:7000'), { role: 'replica', slots: 0 });
    Object.assign(find(live, '10.0.0.1:7001'), { role: 'master', slots: 5461 });
    assert.deepEqual(flags(live), ['2 of 3 masters are on 10.0.0.1: more than half (fail one over: msec kv failover)']);
  });

  test('given slots no live master holds, then it says how many', () => {
    assert.deepEqual(flags(healthy(), { slotsCovered: KV_SLOTS - 100 }), ['100 slot(s) uncovered: keys in them cannot be read or written']);
  });

  test('given a master down, its replica not promoted yet, then the uncovered slots, the short set and the instance down', () => {
    const live = healthy();
    Object.assign(find(live, '10.0.0.3:7000'), { role: 'down', slots: 0, linkUp: false, error: 'connect ECONNREFUSED' });
    find(live, '10.0.0.1:7001').linkUp = false;
    assert.deepEqual(flags(live, { slotsCovered: KV_SLOTS - 5461 }), [
      '5461 slot(s) uncovered: keys in them cannot be read or written',
      'set 2 has 0 of 1 replica(s) in sync: one more loss may lose its data (msec kv recover)',
      '10.0.0.3:7000 (set 2) does not answer (msec kv recover)',
    ]);
  });

  test('given a node msec did not place, then it is named', () => {
    assert.deepEqual(flags(healthy(), { strangers: ['10.0.0.9:7000'] }), ['10.0.0.9:7000 is in the cluster but not in msec\'s layout']);
  });

  test('given two instances of a set on one host, then losing the host loses the set', () => {
    const live = healthy();
    find(live, '10.0.0.2:7000').ip = '10.0.0.1';
    assert.deepEqual(flags(live), ['set 1 has two instances on 10.0.0.1: losing that host loses the set']);
  });

  test('given a cluster with no instance (deleted), then no risk', () => {
    assert.deepEqual(riskFlags({ ...cluster, instances: [] }, { instances: [], slotsCovered: 0, strangers: [] }), []);
  });
});
