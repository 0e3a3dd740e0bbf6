/** zk:// URLs, ACL ids and the MSEC JSON codec: the pure parts of the ZooKeeper adapter. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zookeeper from 'node-zookeeper-client';
import { describeAcls, digestId, nameServiceAcls, sameAcls } from '../../adapters/registry/zk-acl.ts';
import { nameServiceBase, serviceNodePath } from '../../adapters/registry/zk-paths.ts';
import { decodeRouteTable, encodeRouteTable } from '../../schemas/route-table.ts';
import { encodeNode, joinShards, parseNode } from '../../adapters/registry/zk-shards.ts';
import { describeZooKeeperAddress, parseZooKeeperUrl, redactZooKeeperUrl, requireWriterCredential } from '../../adapters/registry/zk-url.ts';
import { isStaleRead } from '../../adapters/registry/zookeeper-watcher.ts';
import { routeTable } from './registry.contract.ts';

describe('zk:// URLs', () => {
  test('hosts, ports (default 2181), chroot and credentials', () => {
    assert.deepEqual(parseZooKeeperUrl('zk://msec:s3cret@h1:2181,h2:2182,h3/prod/', {}), {
      hosts: 'h1:2181,h2:2182,h3:2181', chroot: '/prod', credential: { user: 'msec', password: 's3cret' },
    });
    assert.deepEqual(parseZooKeeperUrl('zk://127.0.0.1:2181', {}), { hosts: '127.0.0.1:2181', chroot: '' });
    assert.deepEqual(parseZooKeeperUrl('zk://[::1]:2181', {}), { hosts: '[::1]:2181', chroot: '' });
  });

  test('a password may hold reserved characters, percent-encoded', () => {
    assert.deepEqual(parseZooKeeperUrl('zk://msec:p%40ss%3Aword@h', {}).credential, { user: 'msec', password: 'p@ss:word' });
  });

  test('MSEC_ZK_AUTH gives the credential when the URL has none; the URL wins', () => {
    assert.deepEqual(parseZooKeeperUrl('zk://h', { MSEC_ZK_AUTH: 'msec:from-env' }).credential, { user: 'msec', password: 'from-env' });
    assert.deepEqual(parseZooKeeperUrl('zk://u:p@h', { MSEC_ZK_AUTH: 'msec:from-env' }).credential, { user: 'u', password: 'p' });
  });

  test('bad URLs are refused with the expected shape, and never echo the password', () => {
    for (const bad of ['http://h:2181', 'zk://', 'zk://h:99999', 'zk://h/a//b', 'zk://u:secret@h:x']) {
      assert.throws(() => parseZooKeeperUrl(bad, {}), (e: Error) => /zk:\/\/|chroot/.test(e.message) && !e.message.includes('secret'), bad);
    }
    assert.throws(() => parseZooKeeperUrl('zk://h', { MSEC_ZK_AUTH: 'nopassword' }), /MSEC_ZK_AUTH must be user:password/);
    assert.throws(() => parseZooKeeperUrl('zk://u:%zz@h', {}), /%-escape/);
  });

  test('logs show the user, never the password', () => {
    assert.equal(redactZooKeeperUrl('zk://msec:s3cret@h1,h2/x'), 'zk://msec:***@h1,h2/x');
    assert.equal(describeZooKeeperAddress(parseZooKeeperUrl('zk://msec:s3cret@h1/x', {})), 'zk://msec:***@h1:2181/x');
  });

  test('paths: chroot + root + /nameservice/First/Second; root "/" is MSEC\'s own layout', () => {
    const address = parseZooKeeperUrl('zk://h/prod', {});
    assert.equal(serviceNodePath(nameServiceBase(address), 'Flight.mod_flight'), '/prod/msec/nameservice/Flight/mod_flight');
    assert.equal(serviceNodePath(nameServiceBase(parseZooKeeperUrl('zk://h', {}), '/'), 'Flight.mod.x'), '/nameservice/Flight/mod.x');
    assert.throws(() => nameServiceBase(address, 'msec'), /absolute/);
  });
});

describe('digest ACLs', () => {
  test('the digest id is ZooKeeper\'s user:base64(sha1(user:password))', () => {
    // The value ZooKeeper's own DigestAuthenticationProvider.generateDigest("super:test") gives.
    assert.equal(digestId({ user: 'super', password: 'test' }), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  test('the control plane\'s nodes are digest ALL + world READ, compared as a set', () => {
    const acls = nameServiceAcls({ user: 'super', password: 'test' });
    assert.equal(describeAcls(acls), 'digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU==cdrwa,world:anyone=r');
    assert.ok(sameAcls(acls, [...acls].reverse()));
    const { ACL: Acl, Id, Permission } = zookeeper;
    assert.ok(!sameAcls(acls, [new Acl(Permission.ALL, new Id('world', 'anyone'))]), 'open');
    assert.ok(!sameAcls(acls, [...acls, new Acl(Permission.WRITE, new Id('digest', 'evil:x'))]), 'an extra writer');
    assert.ok(!sameAcls(acls, nameServiceAcls({ user: 'super', password: 'other' })), 'another password');
  });

  test('a writer without a credential is refused with what to set', () => {
    assert.throws(() => requireWriterCredential(parseZooKeeperUrl('zk://h:2181', {})),
      /^ZooKeeperUrlError: publishing routes to ZooKeeper at zk:\/\/h:2181 needs .*world-writable.*set MSEC_ZK_AUTH=user:password or use zk:\/\/user:password@host:2181$/);
    assert.deepEqual(requireWriterCredential(parseZooKeeperUrl('zk://h', { MSEC_ZK_AUTH: 'msec:pw' })), { user: 'msec', password: 'pw' });
  });
});

describe('what a client takes as newer', () => {
  test('ZooKeeper\'s order (the node\'s mzxid) decides, never the version a table claims', () => {
    const pinned = routeTable('A.b', Number.MAX_SAFE_INTEGER, 1);
    const repaired = routeTable('A.b', 7, 2);
    assert.equal(isStaleRead(undefined, { table: pinned, zxid: 5n }), false, 'nothing held yet');
    assert.equal(isStaleRead(5n, { table: repaired, zxid: 9n }), false, 'a later write with a lower version is taken');
    assert.equal(isStaleRead(9n, { table: pinned, zxid: 5n }), true, 'a server behind the one already read is not');
    assert.equal(isStaleRead(9n, { table: null }), false, 'no node: nothing to compare');
  });
});

describe('MSEC route JSON and shards', () => {
  test('ports are grouped per IP, type and weight; decoding gives the canonical table back', () => {
    const table = {
      ...routeTable('A.b', 3, 0),
      instances: [
        { ip: '10.0.0.10', port: 1, protocol: 'udp' as const, weight: 100 },
        { ip: '10.0.0.9', port: 2, protocol: 'tcp' as const, weight: 100 },
        { ip: '10.0.0.9', port: 1, protocol: 'tcp' as const, weight: 100 },
        { ip: '10.0.0.9', port: 3, protocol: 'tcp' as const, weight: 50 },
      ],
    };
    const json = JSON.parse(encodeRouteTable(table));
    assert.deepEqual(json.IPInfo, [
      { w: 100, t: 'tcp', IP: '10.0.0.9', ports: [1, 2] }, { w: 50, t: 'tcp', IP: '10.0.0.9', ports: [3] }, { w: 100, t: 'udp', IP: '10.0.0.10', ports: [1] },
    ]);
    assert.deepEqual(decodeRouteTable('A.b', JSON.stringify(json)).instances.map((i) => `${i.ip}:${i.port}`), ['10.0.0.9:1', '10.0.0.9:2', '10.0.0.9:3', '10.0.0.10:1']);
  });

  test('a table over the threshold becomes a manifest plus shards that join back, checked', () => {
    const table = routeTable('A.b', 8, 300);
    const encoded = encodeNode(table, 4_000);
    assert.ok(encoded.shards.length >= 3);
    const content = parseNode('A.b', encoded.main);
    assert.equal(content.kind, 'manifest');
    if (content.kind !== 'manifest') return;
    assert.deepEqual(joinShards('A.b', content.manifest, encoded.shards.map((s) => s.data)), table);
    const swapped = encoded.shards.map((s) => s.data).reverse();
    assert.throws(() => joinShards('A.b', content.manifest, swapped), /do not match/);
    assert.equal(encodeNode(table).shards.length, 0);
  });

  test('junk in a node is reported with what to do', () => {
    assert.throws(() => decodeRouteTable('A.b', 'not json'), /republish/);
    assert.throws(() => decodeRouteTable('A.b', '{"Policy":"weird","IPInfo":[]}'), /Policy/);
    assert.throws(() => parseNode('A.b', Buffer.from('{"version":1,"Policy":"odd","sharded":{"count":"x"}}')), /malformed manifest/);
  });

  test('a manifest claiming more than a reader accepts is refused before anything is allocated', () => {
    const manifest = (count: number, bytes: number, version = 1) =>
      Buffer.from(JSON.stringify({ version, Policy: 'standard', sharded: { count, bytes, sha256: 'a'.repeat(64) } }));
    for (const [count, bytes] of [[1e9, 1e9], [2, 2 ** 40], [65, 65 * 1024], [1, 2 * 1024 * 1024], [10, 5]]) {
      assert.throws(() => parseNode('A.b', manifest(count, bytes)), /claims .* a reader accepts at most 64 shards .*republish/, `${count} shards, ${bytes} bytes`);
    }
    assert.throws(() => parseNode('A.b', manifest(2, 1000, 2 ** 53)), /malformed manifest/);
    assert.equal(parseNode('A.b', manifest(64, 16 * 1024 * 1024)).kind, 'manifest');
  });

  test('the writer refuses a table readers would refuse, and a threshold past ZooKeeper\'s node size', () => {
    assert.throws(() => encodeNode(routeTable('A.b', 1, 300), 100), /past what readers accept .*64 shards/);
    assert.throws(() => encodeNode(routeTable('A.b', 1, 3), 2 * 1024 * 1024), /threshold/);
  });
});
