/**
 * Tables over 512 KB on a real ZooKeeper (whose default limit is 1 MiB per node and request):
 * stored as a manifest plus shard children, read back whole, seen by watchers, replaced and
 * removed without leaving shards behind.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { RouteTable } from '../../schemas/route-table.ts';
import { unique, waitUntil } from './support.ts';
import { recorder, routeTable } from './registry.contract.ts';
import { RegistryPublisher } from '../../apps/projector/registry-publisher.ts';
import { address, Closer, controlPlane, plainClient, quiet, registryOn, skipReason, watcherOn, zkServer } from './registry-zk-fixture.ts';

const big = (service: string, version: number, hosts: number): RouteTable =>
  routeTable(service, version, hosts, { instances: routeTable(service, version, hosts).instances.map((h, i) => ({ ...h, port: 7000 + (i % 3) })) });

if (skipReason) {
  test('ZooKeeper sharding', { skip: skipReason }, () => {});
} else {
  after(async () => (await zkServer()).stop());

  describe('ZooKeeper name service: tables over 512 KB', () => {
    test('12 000 instances round-trip sharded, a watcher sees them, and shrinking removes the shards', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('shard-')}`;
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        const watcher = closer.add(watcherOn(await address(), { root }));
        const plain = closer.add(await plainClient());
        const path = `${root}/nameservice/Huge/mod_big`;
        const seen = recorder(watcher, 'Huge.mod_big');
        await waitUntil('the initial null', () => seen.seen.length === 1);

        const v1 = big('Huge.mod_big', 10, 12_000);
        assert.equal(await registry.publish(v1), 'written');
        const manifest = JSON.parse((await plain.getData(path)).toString('utf8'));
        assert.equal(manifest.version, 10);
        assert.equal(manifest.sharded.count, 2);
        assert.ok(manifest.sharded.bytes > 512 * 1024, `${manifest.sharded.bytes} bytes`);
        assert.equal((await plain.getChildren(path)).length, 2);
        assert.deepEqual(await registry.read('Huge.mod_big'), v1);
        await waitUntil('the watcher sees version 10', () => seen.seen.length === 2, 10_000);
        assert.deepEqual(seen.seen[1], v1);

        const v2 = big('Huge.mod_big', 11, 12_001);
        assert.equal(await registry.publish(v2), 'written');
        await waitUntil('the watcher sees version 11', () => seen.seen.length === 3, 10_000);
        assert.deepEqual(seen.seen[2], v2);
        assert.equal((await plain.getChildren(path)).length, 2, 'the shards of version 10 are gone');

        const small = routeTable('Huge.mod_big', 12, 3);
        assert.equal(await registry.publish(small), 'written');
        assert.deepEqual(await plain.getChildren(path), []);
        assert.deepEqual(JSON.parse((await plain.getData(path)).toString('utf8')).IPInfo.length, 3);
        await waitUntil('the watcher sees version 12', () => seen.seen.length === 4);
        assert.deepEqual(seen.versions(), [null, 10, 11, 12]);
      } finally {
        await closer.closeAll();
      }
    });

    test('a 2 MB table (more than one request can carry) is published, read, watched and removed', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('shard2-')}`;
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        const watcher = closer.add(watcherOn(await address(), { root }));
        const plain = closer.add(await plainClient());
        const path = `${root}/nameservice/Huge/mod_bigger`;
        const table = big('Huge.mod_bigger', 3, 40_000);
        assert.equal(await registry.publish(table), 'written');
        const count = JSON.parse((await plain.getData(path)).toString('utf8')).sharded.count;
        assert.ok(count >= 4, `${count} shards`);
        assert.deepEqual(await registry.read('Huge.mod_bigger'), table);
        const seen = recorder(watcher, 'Huge.mod_bigger');
        await waitUntil('the watcher sees it', () => seen.seen.length === 1, 10_000);
        assert.deepEqual(seen.seen[0], table);
        const next = big('Huge.mod_bigger', 4, 40_001);
        assert.equal(await registry.publish(next), 'written');
        await waitUntil('the watcher sees version 4', () => seen.seen.length === 2, 10_000);
        assert.deepEqual(seen.seen[1], next);
        assert.equal((await plain.getChildren(path)).length, count);
        await registry.remove('Huge.mod_bigger');
        await waitUntil('the watcher sees the removal', () => seen.seen.length === 3);
        assert.equal(seen.seen[2], null);
        assert.deepEqual(await plain.getChildren(`${root}/nameservice/Huge`), []);
      } finally {
        await closer.closeAll();
      }
    });

    test('a corrupted shard is never served: the reader fails and the watcher keeps its copy', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('shard3-')}`;
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        const watcher = closer.add(watcherOn(await address(), { root }));
        const plain = closer.add(await plainClient(controlPlane)); // damage done with the credential (a bug, a careless operator)
        const table = big('Huge.mod_bad', 1, 12_000);
        await registry.publish(table);
        const seen = recorder(watcher, 'Huge.mod_bad');
        await waitUntil('the watcher sees it', () => seen.seen.length === 1, 10_000);
        const path = `${root}/nameservice/Huge/mod_bad`;
        const [shard] = await plain.getChildren(path);
        const data = await plain.getData(`${path}/${shard}`);
        data[10] = data[10] === 0x31 ? 0x32 : 0x31;
        await plain.setData(`${path}/${shard}`, data);
        await assert.rejects(registry.read('Huge.mod_bad'), /do not match their manifest/);
        assert.deepEqual(watcher.current('Huge.mod_bad'), table);
        // The publisher's start-up reconciliation repairs it, at the same version.
        const publisher = closer.add(new RegistryPublisher({ registry, logger: quiet }));
        await publisher.sync({ services: [{ table: { service: 'Huge.mod_bad', policy: 'standard', version: 1, instances: table.instances }, standby: [] }] });
        assert.equal(publisher.status().pending, 0);
        assert.deepEqual(await registry.read('Huge.mod_bad'), table);
        // The next state goes through the publisher: it is the one writer, and would restore
        // version 1 over a table written past it.
        const next = big('Huge.mod_bad', 2, 12_002);
        await publisher.sync({ services: [{ table: { service: 'Huge.mod_bad', policy: 'standard', version: 2, instances: next.instances }, standby: [] }] });
        // The repair removes the node before writing it again: watchers may see null in between.
        await waitUntil('the watcher sees the good version 2', () => seen.seen.at(-1)?.version === 2, 10_000);
        assert.equal(seen.seen.at(-1)?.instances.length, 12_002);
        assert.ok(seen.versions().every((v) => v === 1 || v === null || v === 2), seen.versions().join());
      } finally {
        await closer.closeAll();
      }
    });
  });
}
