/**
 * What a kv command may ask for (apps/agent/kv/kv-payload.ts), written as an attacker would:
 * names that climb out of the root or break a line of redis.conf, ports and sizes out of range,
 * a policy that smuggles a directive in, paths the signature does not bind. Given each, when the
 * agent's KvHost runs it (the payload having gone through its protobuf bytes), then it is
 * refused with a message saying why, and nothing is written under the agent's root.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { kvCommandProblem, kvPathOf } from '../../../../apps/agent/kv/kv-payload.ts';
import { configArgument, redisConfig } from '../../../../apps/agent/kv/redis-config.ts';
import { decodePayload, encodePayload, type KvPayload } from '../../../../schemas/agent.ts';
import { agentRoot, bodyFor, kvHost, kvPayload, listing, removeBase, teardown } from './fixtures.ts';

afterEach(teardown);
after(removeBase);

const good = kvPayload({ port: 7001 });
/** As the agent gets it: through the signed bytes. */
const wire = (p: KvPayload): KvPayload => decodePayload('kv', encodePayload('kv', p));

const hostile: Array<[string, Partial<KvPayload>, RegExp]> = [
  ['a cluster name climbing out with ../', { cluster: '../../etc' }, /cluster name "\.\.\/\.\.\/etc" is not one/],
  ['a cluster name with a slash', { cluster: 'c1/../../x' }, /cluster name .* is not one/],
  ['a cluster name with a newline', { cluster: 'c1\nport 6379' }, /cluster name "c1\\nport 6379" is not one/],
  ['a cluster name of 41 characters', { cluster: `c${'x'.repeat(40)}` }, /cluster name .* is not one/],
  ['an empty cluster name', { cluster: '' }, /cluster name "" is not one/],
  ['a cluster name in capitals', { cluster: 'C1' }, /cluster name "C1" is not one/],
  ['a cluster name starting with -', { cluster: '-c1' }, /cluster name "-c1" is not one/],
  ['port 80', { port: 80 }, /the port 80 is not one .*1024 to 55535/],
  ['port 0', { port: 0 }, /the port 0 is not one/],
  ['port 65535', { port: 65535 }, /the port 65535 is not one/],
  ['port 55536 (its bus would be past 65535)', { port: 55536 }, /the port 55536 is not one .*cluster bus is port \+ 10000/],
  ['maxmemory 0 (no limit)', { maxmemoryBytes: 0 }, /maxmemory 0 bytes is not one \(1 MiB to 64 GiB\)/],
  ['maxmemory of a byte under 1 MiB', { maxmemoryBytes: 1024 * 1024 - 1 }, /maxmemory 1048575 bytes is not one/],
  ['maxmemory past 64 GiB', { maxmemoryBytes: 64 * 1024 ** 3 + 1 }, /maxmemory 68719476737 bytes is not one/],
  ['maxmemory of 2^53', { maxmemoryBytes: 2 ** 53 }, /maxmemory \d+ bytes is not one/],
  ['a policy smuggling a directive in', { maxmemoryPolicy: 'noeviction\nslaveof 1.2.3.4 6379' as KvPayload['maxmemoryPolicy'] }, /maxmemory policy "noeviction\\nslaveof 1\.2\.3\.4 6379" is not one of noeviction, allkeys-lru/],
  ['a policy with a trailing space', { maxmemoryPolicy: 'noeviction ' as KvPayload['maxmemoryPolicy'] }, /maxmemory policy "noeviction " is not one of/],
  ['no policy', { maxmemoryPolicy: '' }, /maxmemory policy "" is not one of/],
  ['a node timeout of 0', { nodeTimeoutMs: 0 }, /cluster node timeout 0 ms is not one \(500 to 60000 ms\)/],
  ['a node timeout of 61 s', { nodeTimeoutMs: 61_000 }, /cluster node timeout 61000 ms is not one/],
  ['a health time limit of 0', { healthTimeoutMs: 0 }, /health time limit 0 ms is not one/],
  ['a stop time limit of 2^32-1 ms', { stopTimeoutMs: 2 ** 32 - 1 }, /stop time limit 4294967295 ms is not one/],
  ['an unknown operation', { operation: 'flushall' as KvPayload['operation'] }, /unknown kv operation "flushall": start, stop, remove/],
  ['no operation', { operation: '' as KvPayload['operation'] }, /unknown kv operation "": start, stop, remove/],
];

describe('a kv command binds what it touches', () => {
  test('given a start in range, and the paths bound are exactly its folder, then it is taken', () => {
    assert.equal(kvCommandProblem({ paths: ['kv/c1/7001'] }, wire(good)), undefined);
    assert.equal(kvPathOf(good), 'kv/c1/7001');
    for (const policy of ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl'] as const) {
      assert.equal(kvCommandProblem(bodyFor(good), wire({ ...good, maxmemoryPolicy: policy })), undefined, policy);
    }
    const edges = { cluster: `c${'x'.repeat(39)}`, port: 55_535, maxmemoryBytes: 64 * 1024 ** 3, nodeTimeoutMs: 60_000 };
    assert.equal(kvCommandProblem(bodyFor({ ...good, ...edges }), wire({ ...good, ...edges })), undefined);
    const low = { ...good, port: 1024, maxmemoryBytes: 1024 * 1024, nodeTimeoutMs: 500 };
    assert.equal(kvCommandProblem(bodyFor(low), wire(low)), undefined);
  });

  test('given a stop or remove, then the start-only fields do not matter', () => {
    for (const operation of ['stop', 'remove'] as const) {
      assert.equal(kvCommandProblem(bodyFor(good), wire({ ...good, operation, maxmemoryBytes: 0, maxmemoryPolicy: '', nodeTimeoutMs: 0, healthTimeoutMs: 0 })), undefined);
    }
  });

  for (const [what, change, message] of hostile) {
    test(`given ${what}, then it is refused, and nothing is written under the root`, async () => {
      const p = wire({ ...good, ...change });
      const problem = kvCommandProblem(bodyFor(p), p);
      assert.match(problem ?? 'taken', message);
      assert.match(problem!, /: nothing was touched$/);
      const root = agentRoot();
      const host = kvHost(root, '127.0.0.2');
      await host.start();
      for (const operation of 'operation' in change ? [p.operation] : (['start', 'stop', 'remove'] as const)) {
        const outcome = await host.run(bodyFor(p), { ...p, operation });
        // Start-only fields are not looked at by stop and remove (nothing of them is written).
        if (operation !== 'start' && !/cluster name|port|stop time|operation/.test(what)) {
          assert.equal(outcome.exitCode, 0, outcome.error);
          continue;
        }
        assert.equal(outcome.exitCode, -1, `${operation} was taken`);
        assert.match(outcome.error, message);
      }
      assert.deepEqual(listing(root), ['agent/'], 'nothing was written');
      assert.throws(() => redisConfig('127.0.0.2', '/srv/data', p), message);
    });
  }

  test('given paths that are not exactly the instance\'s folder, then it is refused, and nothing is written', async () => {
    const root = agentRoot();
    const host = kvHost(root, '127.0.0.2');
    for (const paths of [[], ['kv/c1/7002'], ['kv/c2/7001'], ['kv/c1/7001', 'agent'], ['kv/c1'], ['kv/c1/7001/'], ['./kv/c1/7001'], ['kv/c1/7001/../../../agent'], ['agent/kv.json']]) {
      for (const operation of ['start', 'stop', 'remove'] as const) {
        const outcome = await host.run({ paths }, { ...good, operation });
        assert.equal(outcome.exitCode, -1, JSON.stringify(paths));
        assert.match(outcome.error, /^the signature binds the paths .*, not \["kv\/c1\/7001"\]: nothing was touched$/);
      }
    }
    assert.deepEqual(listing(root), ['agent/']);
  });

  test('given a removal of a cluster name that would climb out, then the folder it names is left alone', async () => {
    const root = agentRoot();
    const host = kvHost(root, '127.0.0.2');
    const p = { ...good, operation: 'remove' as const, cluster: '..' };
    const outcome = await host.run({ paths: ['kv/../7001'] }, p);
    assert.equal(outcome.exitCode, -1);
    assert.match(outcome.error, /cluster name "\.\." is not one/);
    assert.deepEqual(listing(root), ['agent/']);
  });
});

describe('redis.conf takes only what the agent checked', () => {
  test('given paths with spaces or quotes, then they are quoted as redis reads them; control characters are refused', () => {
    assert.equal(configArgument('/srv/msec/kv/c1/7001/data'), '/srv/msec/kv/c1/7001/data');
    assert.equal(configArgument('/srv/my root/data'), '"/srv/my root/data"');
    assert.equal(configArgument('/srv/a"b\\c'), '"/srv/a\\"b\\\\c"');
    assert.throws(() => configArgument('/srv/a\nslaveof 1.2.3.4 6379'), /control characters/);
  });

  test('given an agent address that is not an IPv4 address, then no config is made', () => {
    assert.throws(() => redisConfig('127.0.0.2\nslaveof 1.2.3.4 6379', '/srv/data', good), /is not an IPv4 address/);
    assert.throws(() => redisConfig('0.0.0.0 ::', '/srv/data', good), /is not an IPv4 address/);
  });

  test('given a stop payload, then it has no config', () => {
    assert.throws(() => redisConfig('127.0.0.2', '/srv/data', { ...good, operation: 'stop' }), /a stop has no redis\.conf/);
  });
});
