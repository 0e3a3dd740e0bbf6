/**
 * An instance's data across starts, on a real redis-server: given a one-node cluster holding a
 * key (AOF on), when it is stopped and started again, then it is the same node with the key;
 * when started fresh, then it is a new node (new id from a new nodes.conf) with nothing in it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import type { KvHost } from '../../../../apps/agent/kv/kv-host.ts';
import type { KvPayload } from '../../../../schemas/agent.ts';
import { agentRoot, bodyFor, freePort, hostIp, kvHost, kvPayload, redis, removeBase, teardown, waitFor } from './fixtures.ts';

afterEach(teardown);
after(removeBase);

async function run(host: KvHost, p: KvPayload): Promise<string> {
  const outcome = await host.run(bodyFor(p), p);
  assert.equal(outcome.exitCode, 0, outcome.error);
  return outcome.output.toString();
}

/** A one-node cluster (every slot on it) holding k = v; its node id. */
async function nodeWithKey() {
  const root = agentRoot();
  const ip = hostIp();
  const port = await freePort(ip);
  const host = kvHost(root, ip);
  await host.start();
  const p = kvPayload({ port, appendonly: true, fresh: true });
  await run(host, p);
  assert.equal(await redis(ip, port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383'), '+OK');
  await waitFor('the cluster ok', async () => /cluster_state:ok/.test((await redis(ip, port, 'CLUSTER', 'INFO')) ?? ''));
  assert.equal(await redis(ip, port, 'SET', 'k', 'v'), '+OK');
  const id = (await redis(ip, port, 'CLUSTER', 'MYID'))!;
  assert.match(id, /^[0-9a-f]{40}$/);
  return { root, ip, port, host, p, id, data: join(root, 'kv', 'c1', String(port), 'data') };
}

describe('data across starts', () => {
  test('given a node with a key and AOF on, when stopped and started again (not fresh), then it is the same node and has the key', async () => {
    const { ip, port, host, p, id } = await nodeWithKey();
    await run(host, { ...p, operation: 'stop' });
    const output = await run(host, { ...p, fresh: false });
    assert.doesNotMatch(output, /wiped/);
    assert.equal(await redis(ip, port, 'CLUSTER', 'MYID'), id);
    assert.equal(await waitFor('the cluster ok', async () => /cluster_state:ok/.test((await redis(ip, port, 'CLUSTER', 'INFO')) ?? '') && 'ok'), 'ok');
    assert.equal(await redis(ip, port, 'GET', 'k'), 'v');
  });

  test('given a node with a key, when started fresh, then the old nodes.conf and AOF are gone: a new node id, no slots, no key', async () => {
    const { ip, port, host, p, id, data } = await nodeWithKey();
    await run(host, { ...p, operation: 'stop' });
    assert.match(readFileSync(join(data, 'nodes.conf'), 'utf8'), new RegExp(id));
    // Something else an old node left behind goes too.
    writeFileSync(join(data, 'dump.rdb'), 'old');
    const output = await run(host, { ...p, fresh: true });
    assert.match(output, /data\/ was wiped first \(fresh\)/);
    const now = (await redis(ip, port, 'CLUSTER', 'MYID'))!;
    assert.match(now, /^[0-9a-f]{40}$/);
    assert.notEqual(now, id);
    assert.doesNotMatch(readFileSync(join(data, 'nodes.conf'), 'utf8'), new RegExp(id));
    assert.equal(existsSync(join(data, 'dump.rdb')), false);
    assert.match((await redis(ip, port, 'CLUSTER', 'INFO'))!, /cluster_slots_assigned:0\r\n/);
    assert.equal(await redis(ip, port, 'DBSIZE'), ':0');
  });

  test('given it runs, when a fresh start of the same config comes again, then it is not wiped: already running, keeps its key', async () => {
    const { ip, port, host, p, id } = await nodeWithKey();
    const output = await run(host, { ...p, fresh: true });
    assert.match(output, /^already running: .*\(data\/ not wiped: fresh applies to a start of a stopped instance only\)\n$/);
    assert.equal(await redis(ip, port, 'CLUSTER', 'MYID'), id);
    assert.equal(await redis(ip, port, 'GET', 'k'), 'v');
  });
});
