/**
 * The name service through ZooKeeper's bad days, on a real server: a client cut off long
 * enough for its session to EXPIRE (through a TCP proxy), a server stopped and restarted, and
 * a client restarted while the server is down. Routes keep being served from the last copy and
 * everything converges once ZooKeeper is back.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { RegistryPublisher } from '../../apps/projector/registry-publisher.ts';
import type { RoutingState } from '../../projections/routing.ts';
import { startTcpProxy } from '../services/tcp-proxy.ts';
import { tempDir, unique, waitUntil } from './support.ts';
import { recorder, routeTable } from './registry.contract.ts';
import { address, capturingLogger, Closer, controlPlane, quiet, registryOn, skipReason, watcherOn, zkServer } from './registry-zk-fixture.ts';

const routing = (services: Array<[string, number, number]>): RoutingState => ({
  services: services.map(([service, version, hosts]) => ({ table: routeTable(service, version, hosts), standby: [] })),
});

if (skipReason) {
  test('ZooKeeper outages', { skip: skipReason }, () => {});
} else {
  after(async () => (await zkServer()).stop());

  describe('ZooKeeper name service through outages', () => {
    test('session expiry: the watcher serves its last copy during the cut, then sees every change and watches again', async () => {
      const closer = new Closer();
      try {
        const server = await zkServer();
        const root = `/${unique('expiry-')}`;
        const proxy = closer.add(await startTcpProxy({ port: server.port }));
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        const { logger, lines } = capturingLogger();
        const watcher = closer.add(watcherOn(await address(undefined, proxy.port), { root, sessionTimeoutMs: 2_000, logger }));
        await registry.publish(routeTable('Flight.mod_flight', 1));
        await registry.publish(routeTable('Flight.mod_gone', 1));
        const flight = recorder(watcher, 'Flight.mod_flight');
        const gone = recorder(watcher, 'Flight.mod_gone');
        await waitUntil('both tables are seen', () => flight.seen.length === 1 && gone.seen.length === 1);
        const sessionsBefore = await server.sessions();

        proxy.cut();
        await registry.publish(routeTable('Flight.mod_flight', 2, 3));
        await registry.remove('Flight.mod_gone');
        await waitUntil('the server expires the cut-off session', async () => (await server.sessions()) < sessionsBefore, 20_000);
        assert.deepEqual(watcher.current('Flight.mod_flight'), routeTable('Flight.mod_flight', 1), 'the stale copy is served');
        assert.deepEqual(watcher.current('Flight.mod_gone'), routeTable('Flight.mod_gone', 1));

        proxy.restore();
        await waitUntil('the changes made during the cut are seen', () => flight.seen.length === 2 && gone.seen.length === 2, 20_000);
        assert.deepEqual(flight.seen[1], routeTable('Flight.mod_flight', 2, 3));
        assert.equal(gone.seen[1], null);
        assert.ok(lines.some((l) => /session expired/.test(l.msg)), 'the watcher went through a session expiry');

        await registry.publish(routeTable('Flight.mod_flight', 3, 1));
        await registry.publish(routeTable('Flight.mod_gone', 4, 1));
        await waitUntil('changes after the expiry are seen: watches were set again', () => flight.seen.length === 3 && gone.seen.length === 3);
        assert.deepEqual(flight.versions(), [1, 2, 3]);
        assert.deepEqual(gone.versions(), [1, null, 4]);
      } finally {
        await closer.closeAll();
      }
    });

    test('a connection that goes silent (no reset) is noticed and replaced: the watcher catches up', async () => {
      const closer = new Closer();
      try {
        const server = await zkServer();
        const root = `/${unique('silent-')}`;
        const proxy = closer.add(await startTcpProxy({ port: server.port }));
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        const watcher = closer.add(watcherOn(await address(undefined, proxy.port), { root, sessionTimeoutMs: 2_000 }));
        await registry.publish(routeTable('Flight.mod_flight', 1));
        const flight = recorder(watcher, 'Flight.mod_flight');
        await waitUntil('version 1 is seen', () => flight.seen.length === 1);
        const connectionsBefore = proxy.connections();
        proxy.stall();
        await registry.publish(routeTable('Flight.mod_flight', 2, 1));
        proxy.restore();
        // The stalled connection stays silent for good: only a new connection brings version 2.
        await waitUntil('version 2 is seen', () => flight.seen.length === 2, 20_000);
        assert.ok(proxy.connections() > connectionsBefore, 'the watcher opened a new connection');
        assert.deepEqual(flight.versions(), [1, 2]);
      } finally {
        await closer.closeAll();
      }
    });

    test('session expiry of the control plane: the registry opens a new session and keeps publishing', async () => {
      const closer = new Closer();
      try {
        const server = await zkServer();
        const root = `/${unique('expiry-writer-')}`;
        const proxy = closer.add(await startTcpProxy({ port: server.port }));
        const registry = closer.add(registryOn(await address(controlPlane, proxy.port), { root, sessionTimeoutMs: 2_000, operationTimeoutMs: 500 }));
        await registry.publish(routeTable('Order.mod_order', 1));
        const sessionsBefore = await server.sessions();
        proxy.cut();
        await assert.rejects(registry.publish(routeTable('Order.mod_order', 2)), (e: Error & { retriable?: boolean }) => e.retriable === true && /reachable/.test(e.message));
        await waitUntil('the server expires the cut-off session', async () => (await server.sessions()) < sessionsBefore, 20_000);
        proxy.restore();
        const reader = closer.add(registryOn(await address(controlPlane), { root }));
        await waitUntil('a publish succeeds again', async () => (await registry.publish(routeTable('Order.mod_order', 2)).catch(() => 'failed')) !== 'failed', 20_000);
        assert.deepEqual(await reader.read('Order.mod_order'), routeTable('Order.mod_order', 2));
      } finally {
        await closer.closeAll();
      }
    });

    test('ZooKeeper stopped and restarted: the publisher keeps the desired state, retries and converges', async () => {
      const closer = new Closer();
      try {
        const server = await zkServer();
        const root = `/${unique('restart-')}`;
        const registry = closer.add(registryOn(await address(controlPlane), { root, operationTimeoutMs: 500 }));
        const publisher = closer.add(new RegistryPublisher({ registry, logger: quiet, retryDelays: { initialMs: 50, maxMs: 400 } }));
        const watcher = closer.add(watcherOn(await address(), { root }));
        await publisher.sync(routing([['Flight.a', 3, 2], ['Flight.b', 4, 1]]));
        assert.deepEqual(publisher.status(), { published: 2, pending: 0, reconciled: true, failures: 0 });
        const a = recorder(watcher, 'Flight.a');
        await waitUntil('the watcher sees Flight.a', () => a.seen.length === 1);

        await server.halt();
        await publisher.sync(routing([['Flight.a', 9, 3], ['Flight.c', 8, 1]]));
        const down = publisher.status();
        assert.equal(down.pending, 3, 'a and c to write, b to remove');
        assert.match(down.lastError ?? '', /ZooKeeper .* (reachable|connected)/);
        assert.deepEqual(watcher.current('Flight.a'), routeTable('Flight.a', 3, 2), 'the watcher serves its last copy');

        await server.restart();
        // Converged: nothing pending and the last pass (verifications after the reconnect included) succeeded.
        await waitUntil('the publisher converges', () => publisher.status().pending === 0 && publisher.status().failures === 0, 30_000);
        assert.deepEqual(publisher.status(), { published: 2, pending: 0, reconciled: true, failures: 0 });
        assert.deepEqual(await registry.list(), ['Flight.a', 'Flight.c']);
        assert.deepEqual(await registry.read('Flight.a'), routeTable('Flight.a', 9, 3));
        await waitUntil('the watcher sees the new table', () => a.seen.length === 2, 20_000);
        assert.deepEqual(a.versions(), [3, 9]);
      } finally {
        await closer.closeAll();
      }
    });

    test('a client restarted while ZooKeeper is down routes with the tables cached on disk', async () => {
      const closer = new Closer();
      const cache = tempDir('msec-route-cache-');
      try {
        const server = await zkServer();
        const root = `/${unique('cache-')}`;
        const registry = closer.add(registryOn(await address(controlPlane), { root }));
        await registry.publish(routeTable('Flight.mod_flight', 5, 2));
        const first = watcherOn(await address(), { root, cacheDir: cache.dir });
        const seen = recorder(first, 'Flight.mod_flight');
        await waitUntil('the first client sees version 5', () => seen.seen.length === 1);
        await first.close();

        await server.halt();
        const second = closer.add(watcherOn(await address(), { root, cacheDir: cache.dir }));
        const again = recorder(second, 'Flight.mod_flight');
        await waitUntil('the restarted client gets the cached table', () => again.seen.length === 1);
        assert.deepEqual(again.seen[0], routeTable('Flight.mod_flight', 5, 2));
        assert.deepEqual(second.current('Flight.mod_flight'), routeTable('Flight.mod_flight', 5, 2));

        await server.restart();
        await registry.publish(routeTable('Flight.mod_flight', 6, 1));
        await waitUntil('the restarted client follows ZooKeeper again', () => again.seen.length === 2, 20_000);
        assert.deepEqual(again.versions(), [5, 6]);
      } finally {
        await closer.closeAll();
        cache.remove();
      }
    });
  });
}
