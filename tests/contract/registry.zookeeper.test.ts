/**
 * The name-service contract on a real ZooKeeper 3.8 (digest ACLs: the control plane never
 * writes without its credential), and what only ZooKeeper shows: the node MSEC's agents read,
 * and who may write it.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { unique } from './support.ts';
import { registryContract, routeTable } from './registry.contract.ts';
import {
  address, Closer, controlPlane, plainClient, PlainClient, quiet, registryOn, skipReason, watcherOn, zkErrorName, zkServer,
} from './registry-zk-fixture.ts';
import { describeAcls, digestId, nameServiceAcls } from '../../adapters/registry/zk-acl.ts';
import { ZooKeeperRegistry } from '../../adapters/registry/zookeeper.ts';
import type { ZooKeeperError } from '../../adapters/registry/zk-errors.ts';
import { ZooKeeperSession } from '../../adapters/registry/zk-session.ts';

if (skipReason) {
  test('ZooKeeper name service', { skip: skipReason }, () => {});
} else {
  after(async () => (await zkServer()).stop());

  registryContract('ZooKeeper, digest ACLs', async () => {
    const closer = new Closer();
    const root = `/${unique('contract-')}`;
    const writer = await address(controlPlane);
    return {
      registry: closer.add(registryOn(writer, { root })),
      otherRegistry: async () => closer.add(registryOn(writer, { root })),
      watcher: closer.add(watcherOn(await address(), { root })),
      cleanup: () => closer.closeAll(),
    };
  });

  describe('ZooKeeper name service as MSEC clients see it', () => {
    test('/msec/nameservice/Flight/mod_flight holds MSEC JSON, readable by a plain client', async () => {
      const closer = new Closer();
      try {
        const registry = closer.add(registryOn(await address(controlPlane)));
        await registry.publish({
          service: 'Flight.mod_flight', policy: 'standard', version: 42,
          instances: [
            { ip: '10.0.0.1', port: 7963, protocol: 'both', weight: 100 },
            { ip: '10.0.0.1', port: 7964, protocol: 'both', weight: 100 },
            { ip: '10.0.0.2', port: 7963, protocol: 'udp', weight: 200 },
          ],
          tuning: { success_ratio_base: 0.98 },
        });
        const plain = closer.add(await plainClient());
        const json = JSON.parse((await plain.getData('/msec/nameservice/Flight/mod_flight')).toString('utf8'));
        assert.deepEqual(json, {
          Policy: 'standard',
          IPInfo: [{ w: 100, t: 'all', IP: '10.0.0.1', ports: [7963, 7964] }, { w: 200, t: 'udp', IP: '10.0.0.2', ports: [7963] }],
          success_ratio_base: 0.98,
          version: 42,
        });
        assert.deepEqual(await plain.getChildren('/msec/nameservice'), ['Flight']);
      } finally {
        await closer.closeAll();
      }
    });

    test('with a credential, nodes are digest(user) ALL + world READ: nobody else can write or delete', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('acl-')}`;
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        await registry.publish(routeTable('Flight.mod_flight', 1));
        const path = `${root}/nameservice/Flight/mod_flight`;
        const owner = closer.add(await plainClient(controlPlane));
        const anonymous = closer.add(await plainClient());
        const aclsOf = async (client: PlainClient, node: string) => (await client.getACL(node)).map((a) => `${a.id.scheme}:${a.id.id}=${a.permission}`).sort();
        for (const node of [root, `${root}/nameservice`, `${root}/nameservice/Flight`, path]) {
          assert.deepEqual(await aclsOf(owner, node), [`digest:${digestId(controlPlane)}=31`, 'world:anyone=1'], node);
          // ZooKeeper 3.8 hides the digest from clients without ADMIN.
          assert.deepEqual(await aclsOf(anonymous, node), ['digest:msec-console:x=31', 'world:anyone=1'], node);
        }
        await assert.rejects(anonymous.setData(path, Buffer.from('{"Policy":"standard","IPInfo":[]}')), (e) => zkErrorName(e) === 'NO_AUTH');
        await assert.rejects(anonymous.remove(path), (e) => zkErrorName(e) === 'NO_AUTH');
        await assert.rejects(anonymous.create(`${root}/nameservice/Flight/intruder`, Buffer.from('{}')), (e) => zkErrorName(e) === 'NO_AUTH');
        const intruder = closer.add(registryOn(await address({ user: 'msec-console', password: 'wrong' }), { root }));
        await assert.rejects(intruder.publish(routeTable('Flight.mod_flight', 9)), /may not change.*MSEC_ZK_AUTH/s);
        await assert.rejects(intruder.remove('Flight.mod_flight'), /NO_AUTH/);
        assert.deepEqual(await intruder.read('Flight.mod_flight'), routeTable('Flight.mod_flight', 1));
      } finally {
        await closer.closeAll();
      }
    });

    test('without a credential the registry refuses to be made, before it connects', async () => {
      const server = await zkServer();
      const sessions = await server.sessions();
      assert.throws(() => registryOn({ hosts: `127.0.0.1:${server.port}`, chroot: '' }), /needs the control plane's digest credential .*MSEC_ZK_AUTH=user:password/);
      assert.throws(() => ZooKeeperRegistry.fromUrl(`zk://${server.connectString}`), /MSEC_ZK_AUTH/);
      assert.equal(await server.sessions(), sessions, 'no session was opened');
    });

    test('compare-and-set at ZooKeeper version 0 is really checked (the client alone would send "any version")', async () => {
      const closer = new Closer();
      try {
        const session = closer.add(new ZooKeeperSession({ address: await address(controlPlane), logger: quiet }));
        const path = `/${unique('cas-')}`;
        await session.create(path, Buffer.from('a'), nameServiceAcls(controlPlane));
        await session.multi([{ op: 'setData', path, data: Buffer.from('b'), version: 0 }]);
        await assert.rejects(session.multi([{ op: 'setData', path, data: Buffer.from('stale'), version: 0 }]), (e: ZooKeeperError) => e.code === 'BAD_VERSION');
        await assert.rejects(session.multi([{ op: 'check', path, version: 0 }, { op: 'remove', path, version: -1 }]), (e: ZooKeeperError) => e.code === 'BAD_VERSION');
        assert.equal((await session.getData(path))?.data.toString(), 'b');
        await session.multi([{ op: 'remove', path, version: 1 }]);
        assert.equal(await session.getData(path), null);
      } finally {
        await closer.closeAll();
      }
    });

    test('a node written by MSEC itself (no version, open ACL) reads as version 0; a publish replaces it and protects it', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('legacy-')}`;
        const plain = closer.add(await plainClient());
        for (const node of [root, `${root}/nameservice`, `${root}/nameservice/Legacy`]) await plain.create(node, Buffer.alloc(0));
        await plain.create(`${root}/nameservice/Legacy/svc`, Buffer.from('{"Policy":"standard","IPInfo":[{"w":100,"t":"tcp","IP":"10.1.1.1","ports":[7963]}]}'));
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        assert.equal((await registry.read('Legacy.svc'))?.version, 0);
        assert.equal(await registry.publish(routeTable('Legacy.svc', 1)), 'written');
        assert.deepEqual(await registry.list(), ['Legacy.svc']);
        // Met for the first time by a publish: the open nodes on its path are protected now.
        for (const node of [root, `${root}/nameservice`, `${root}/nameservice/Legacy`, `${root}/nameservice/Legacy/svc`]) {
          assert.equal(describeAcls(await plain.getACL(node) as never), `digest:msec-console:x=cdrwa,world:anyone=r`, node);
        }
        await assert.rejects(plain.setData(`${root}/nameservice/Legacy/svc`, Buffer.from('{}')), (e) => zkErrorName(e) === 'NO_AUTH');
      } finally {
        await closer.closeAll();
      }
    });
  });
}
