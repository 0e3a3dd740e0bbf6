/**
 * The name service under attack, on a real ZooKeeper 3.8, as an attacker would go at it: a tree
 * left world-writable, a route pinned to 6.6.6.6 with the highest version there is, nodes taken
 * over with another digest, a manifest that claims a billion shards, and a control plane started
 * without its credential. Clients (no credential) keep reading throughout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import { encodeRouteTable, type RouteTable } from '../../schemas/route-table.ts';
import { describeAcls, digestId, nameServiceAcls } from '../../adapters/registry/zk-acl.ts';
import { RegistryPublisher } from '../../apps/projector/registry-publisher.ts';
import type { RoutingState } from '../../projections/routing.ts';
import { bin } from '../e2e/support.ts';
import { tempDir, unique, waitUntil } from './support.ts';
import { recorder, routeTable } from './registry.contract.ts';
import {
  address, capturingLogger, Closer, controlPlane, intruder, plainClient, type PlainClient, registryOn, skipReason, superuser, watcherOn, zkErrorName, zkServer,
} from './registry-zk-fixture.ts';

const empty = Buffer.alloc(0);
const pinnedVersion = Number.MAX_SAFE_INTEGER; // 2^53 - 1: the highest version a table can claim
const hijack = (service: string): RouteTable =>
  routeTable(service, pinnedVersion, 1, { instances: [{ ip: '6.6.6.6', port: 7963, protocol: 'tcp', weight: 100 }] });
const json = (table: RouteTable) => Buffer.from(encodeRouteTable(table));
const routing = (tables: RouteTable[]): RoutingState => ({
  services: tables.map((table) => ({ table, standby: [] })),
});
/** How the control plane's nodes look to a client holding its credential. */
const protectedAcl = `digest:${digestId(controlPlane)}=cdrwa,world:anyone=r`;
const aclOf = async (client: PlainClient, path: string) => describeAcls(await client.getACL(path) as never);
const refused = (e: unknown) => zkErrorName(e) === 'NO_AUTH';

if (skipReason) {
  test('ZooKeeper name-service security', { skip: skipReason }, () => {});
} else {
  after(async () => (await zkServer()).stop());

  describe('ZooKeeper name service: hijacks and their repair', () => {
    test('a world-writable tree gets its ACLs repaired at start-up; someone else\'s leaf is recreated, their subtree reported until a superuser deletes it', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('open-tree-')}`;
        const ns = `${root}/nameservice`;
        // Made before the control plane had a credential: everything open to everyone.
        const anonymous = closer.add(await plainClient());
        for (const node of [root, ns, `${ns}/Open`]) await anonymous.create(node, empty);
        await anonymous.create(`${ns}/Open/svc`, json(routeTable('Open.svc', 1)));
        // Someone else's digest: a service node (a leaf) and a subtree.
        const evil = closer.add(await plainClient(intruder));
        await evil.create(`${ns}/Open/pinned`, json(hijack('Open.pinned')), nameServiceAcls(intruder));
        await evil.create(`${ns}/Open/hidden`, json(hijack('Open.hidden')), [nameServiceAcls(intruder)[0]!]); // unreadable to others
        await evil.create(`${ns}/Evil`, empty, nameServiceAcls(intruder));
        await evil.create(`${ns}/Evil/svc`, json(hijack('Evil.svc')), nameServiceAcls(intruder));

        const { logger, lines } = capturingLogger();
        const registry = closer.add(registryOn(await address(controlPlane), { root, logger }));
        const publisher = closer.add(new RegistryPublisher({ registry, logger, retryDelays: { initialMs: 50, maxMs: 200 } }));
        await publisher.sync(routing([routeTable('Open.svc', 2, 2), routeTable('Open.pinned', 3, 1), routeTable('Open.hidden', 4, 1)]));

        const owner = closer.add(await plainClient(controlPlane));
        for (const node of [root, ns, `${ns}/Open`, `${ns}/Open/svc`, `${ns}/Open/pinned`, `${ns}/Open/hidden`]) assert.equal(await aclOf(owner, node), protectedAcl, node);
        await assert.rejects(anonymous.setData(`${ns}/Open/svc`, json(hijack('Open.svc'))), refused);
        await assert.rejects(anonymous.create(`${ns}/Open/new`, empty), refused);
        await assert.rejects(evil.setData(`${ns}/Open/pinned`, json(hijack('Open.pinned'))), refused);
        assert.deepEqual(await registry.read('Open.svc'), routeTable('Open.svc', 2, 2));
        assert.deepEqual(await registry.read('Open.pinned'), routeTable('Open.pinned', 3, 1));
        assert.deepEqual(await registry.read('Open.hidden'), routeTable('Open.hidden', 4, 1));
        assert.ok(lines.some((l) => l.level === 40 && /deleted, to be written again/.test(l.msg)), 'the recreation is logged');
        assert.ok(lines.some((l) => l.level === 40 && /had another ACL/.test(l.msg) && l.nodes === 4), 'the repair is logged');

        // The subtree msec may neither repair nor delete: loud, with what to do.
        const blocked = publisher.status();
        assert.equal(blocked.reconciled, false);
        assert.equal(blocked.problems?.length, 1);
        assert.match(blocked.problems![0]!, new RegExp(`node ${ns}/Evil has ACL digest:evil:x=cdrwa,world:anyone=r, which msec-console may not change .*superuser must delete it \\(zkCli.sh: deleteall ${ns}/Evil\\)`));
        assert.match(blocked.lastError ?? '', /superuser must delete it/);
        assert.ok(lines.some((l) => l.level === 50 && l.msg === blocked.problems![0]), 'logged as an error');

        const operator = closer.add(await plainClient(superuser));
        await operator.removeAll(`${ns}/Evil`);
        await waitUntil('the publisher converges once the subtree is gone', () => publisher.status().reconciled, 10_000);
        assert.deepEqual(publisher.status(), { published: 3, pending: 0, reconciled: true, failures: 0 });
        assert.deepEqual(await registry.list(), ['Open.hidden', 'Open.pinned', 'Open.svc']);
      } finally {
        await closer.closeAll();
      }
    });

    test('a route hijacked in an open tree (version 2^53 - 1, 6.6.6.6) is overwritten by the next publish and a watching client follows', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('hijack-')}`;
        const path = `${root}/nameservice/Flight/mod_flight`;
        const truth = routeTable('Flight.mod_flight', 7, 2);
        const anonymous = closer.add(await plainClient());
        for (const node of [root, `${root}/nameservice`, `${root}/nameservice/Flight`]) await anonymous.create(node, empty);
        await anonymous.create(path, json(truth));
        const client = closer.add(watcherOn(await address(), { root }));
        const seen = recorder(client, 'Flight.mod_flight');
        await waitUntil('the client routes with the true table', () => seen.seen.length === 1);

        await anonymous.setData(path, json(hijack('Flight.mod_flight')));
        await waitUntil('the hijack reaches the client', () => seen.seen.length === 2);
        assert.equal(client.current('Flight.mod_flight')?.instances[0]?.ip, '6.6.6.6');

        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        const publisher = closer.add(new RegistryPublisher({ registry, logger: capturingLogger().logger }));
        await publisher.sync(routing([truth]));
        assert.deepEqual(publisher.status(), { published: 1, pending: 0, reconciled: true, failures: 0 });
        await waitUntil('the client sees the true table again', () => seen.seen.length === 3);
        assert.deepEqual(seen.versions(), [7, pinnedVersion, 7]);
        assert.deepEqual(client.current('Flight.mod_flight'), truth);
        await assert.rejects(anonymous.setData(path, json(hijack('Flight.mod_flight'))), refused);
      } finally {
        await closer.closeAll();
      }
    });

    test('a table changed behind the publisher\'s back is restored at once, even when its node is given another digest', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('behind-')}`;
        const path = `${root}/nameservice/Flight/mod_flight`;
        const truth = routeTable('Flight.mod_flight', 7, 2);
        const { logger, lines } = capturingLogger();
        const registry = closer.add(registryOn(await address(controlPlane), { root, logger }));
        const publisher = closer.add(new RegistryPublisher({ registry, logger, retryDelays: { initialMs: 50, maxMs: 200 } }));
        await publisher.sync(routing([truth]));
        const client = closer.add(watcherOn(await address(), { root }));
        const seen = recorder(client, 'Flight.mod_flight');
        await waitUntil('the client routes with the true table', () => seen.seen.length === 1);

        // Someone who holds the control plane's credential (a leak, a stray second writer).
        const rogue = closer.add(await plainClient(controlPlane));
        await rogue.setData(path, json(hijack('Flight.mod_flight')));
        await waitUntil('the publisher restores the table, with no new state', async () => (await registry.read('Flight.mod_flight'))?.version === 7, 10_000);
        assert.ok(lines.some((l) => /changed behind the publisher's back/.test(l.msg)));

        // Now the node's ACL too: only the intruder's digest may change it.
        await rogue.setACL(path, nameServiceAcls(intruder));
        await rogue.setData(path, json(hijack('Flight.mod_flight'))).catch(() => {}); // the rogue lost its own rights
        const evil = closer.add(await plainClient(intruder));
        await evil.setData(path, json(hijack('Flight.mod_flight')));
        await waitUntil('the publisher deletes and recreates the node', async () => (await aclOf(rogue, path).catch(() => '')) === protectedAcl, 10_000);
        assert.deepEqual(await registry.read('Flight.mod_flight'), truth);
        await waitUntil('the client ends on the true table', () => sameAs(client.current('Flight.mod_flight'), truth), 10_000);
        assert.equal(publisher.status().failures, 0);
      } finally {
        await closer.closeAll();
      }
    });

    test('a reader refuses a manifest claiming 10^9 shards or 2^40 bytes before allocating or reading anything; clients keep their copy', async () => {
      const closer = new Closer();
      try {
        const root = `/${unique('manifest-')}`;
        const path = `${root}/nameservice/Huge/mod_claim`;
        const truth = routeTable('Huge.mod_claim', 3, 2);
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        await registry.publish(truth);
        const { logger, lines } = capturingLogger();
        const client = closer.add(watcherOn(await address(), { root, logger }));
        const seen = recorder(client, 'Huge.mod_claim');
        await waitUntil('the client has the table', () => seen.seen.length === 1);
        const rogue = closer.add(await plainClient(controlPlane));
        const manifest = (count: number, bytes: number) =>
          Buffer.from(JSON.stringify({ version: 4, Policy: 'standard', sharded: { count, bytes, sha256: 'ab'.repeat(32) } }));

        for (const [count, bytes] of [[1e9, 2 ** 40], [2, 2 ** 40], [1e9, 1e9]]) {
          await rogue.setData(path, manifest(count, bytes));
          const started = performance.now();
          await assert.rejects(registry.read('Huge.mod_claim'), new RegExp(`claims ${bytes} bytes in ${count} shards; a reader accepts at most 64 shards .*refused unread`));
          // A figure, not a limit: the refusal costs one node read.
          console.log(`# manifest of ${count} shards / ${bytes} bytes refused in ${(performance.now() - started).toFixed(1)} ms`);
        }
        await waitUntil('the client reports the node unreadable', () => lines.some((l) => l.level === 50 && /claims .* shards/.test(String(l.err))));
        assert.deepEqual(client.current('Huge.mod_claim'), truth, 'the client keeps routing with its last copy');
      } finally {
        await closer.closeAll();
      }
    });

    test('publishing without a credential is refused at start, with one line saying what to set, before anything is written', async () => {
      const server = await zkServer();
      const home = tempDir('msec-no-credential-');
      const closer = new Closer();
      try {
        const env: Record<string, string> = { ...process.env as Record<string, string>, MSEC_LOG_LEVEL: 'warn', MSEC_HOME: home.dir };
        delete env.MSEC_ZK_AUTH;
        const registry = `zk://${server.connectString}`;
        for (const args of [['projector', '--views', 'http://127.0.0.1:1'], ['up', '--port', '0']]) {
          const run = spawnSync(process.execPath, [bin, ...args, '--registry', registry], { env, encoding: 'utf8', timeout: 60_000 });
          assert.equal(run.status, 1, `msec ${args[0]}: ${run.stderr}`);
          assert.equal(run.stdout, '');
          const role = args[0] === 'projector' ? 'projector' : 'console';
          assert.equal(run.stderr, `msec: cannot start the ${role}: publishing routes to ZooKeeper at zk://${server.connectString} needs the control plane's digest credential ` +
            '(without it every name-service node is world-writable): set MSEC_ZK_AUTH=user:password or use zk://user:password@host:2181\n');
        }
        const plain = closer.add(await plainClient());
        assert.equal(await plain.exists('/msec'), false, 'nothing was created in ZooKeeper');
      } finally {
        await closer.closeAll();
        home.remove();
      }
    });
  });
}

function sameAs(a: RouteTable | null | undefined, b: RouteTable): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
