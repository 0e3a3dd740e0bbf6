/**
 * The name-service contract (adapters/registry/port.ts): every RouteRegistry + RouteSource
 * pair runs it — the embedded MemoryRegistry, ZooKeeper (registry and watcher), the console's
 * long poll (the console's own route handler serving what a registry holds) and static tables.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Subscription } from '../../adapters/eventstore/port.ts';
import type { RouteRegistry, RouteSource } from '../../adapters/registry/port.ts';
import type { RouteTable } from '../../schemas/route-table.ts';
import { unique, waitUntil } from './support.ts';

export interface RegistryFixture {
  registry: RouteRegistry;
  /** A second writer on the same name service (another control-plane process). */
  otherRegistry(): Promise<RouteRegistry>;
  /** A client-side watcher on the same name service. */
  watcher: RouteSource;
  cleanup(): Promise<void>;
}

/** A table in canonical form (instances by IP numerically, then port). */
export function routeTable(service: string, version: number, hosts = 2, extra: Partial<RouteTable> = {}): RouteTable {
  return {
    service, policy: 'standard', version,
    instances: Array.from({ length: hosts }, (_, i) => ({ ip: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 7963, protocol: 'tcp' as const, weight: 100 })),
    ...extra,
  };
}

/** Records what a watch delivers. */
export function recorder(watcher: RouteSource, service: string): { seen: Array<RouteTable | null>; versions: () => Array<number | null>; sub: Subscription } {
  const seen: Array<RouteTable | null> = [];
  const sub = watcher.watch(service, (table) => seen.push(table));
  return { seen, versions: () => seen.map((t) => t?.version ?? null), sub };
}

export function registryContract(name: string, makeFixture: () => Promise<RegistryFixture>, options: { watchTimeoutMs?: number } = {}): void {
  const within = options.watchTimeoutMs ?? 5_000;

  describe(`RouteRegistry + RouteSource contract: ${name}`, () => {
    let fixture: RegistryFixture;
    let registry: RouteRegistry;
    let watcher: RouteSource;
    beforeEach(async () => {
      fixture = await makeFixture();
      ({ registry, watcher } = fixture);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    test('a published table reads back; list is sorted; remove deletes it and is quiet when absent', async () => {
      const [a, b] = [unique('Zeta.svc_'), unique('Alpha.svc_')];
      assert.equal(await registry.read(a), null);
      assert.equal(await registry.publish(routeTable(a, 5)), 'written');
      assert.equal(await registry.publish(routeTable(b, 7, 1)), 'written');
      assert.deepEqual(await registry.read(a), routeTable(a, 5));
      assert.deepEqual(await registry.read(b), routeTable(b, 7, 1));
      assert.deepEqual(await registry.list(), [b, a]);
      await registry.remove(a);
      assert.equal(await registry.read(a), null);
      assert.deepEqual(await registry.list(), [b]);
      await registry.remove(a);
      await registry.remove(unique('Never.published_'));
    });

    test('MSEC details survive: several ports per IP, udp/tcp/both, weights, odd policy, tuning keys', async () => {
      const service = unique('Flight.mod_');
      const table: RouteTable = {
        service, policy: 'odd', version: 12,
        instances: [
          { ip: '10.0.0.2', port: 7963, protocol: 'both', weight: 100 },
          { ip: '10.0.0.2', port: 7964, protocol: 'both', weight: 100 },
          { ip: '10.0.0.2', port: 8000, protocol: 'udp', weight: 300 },
          { ip: '10.0.0.10', port: 7963, protocol: 'tcp', weight: 50 },
        ],
        tuning: { dead_retry_ratio: 0.02, shaping_request_min: 10 },
      };
      await registry.publish(table);
      assert.deepEqual(await registry.read(service), table);
      const empty = routeTable(unique('Flight.empty_'), 1, 0);
      await registry.publish(empty);
      assert.deepEqual(await registry.read(empty.service), empty);
    });

    test('the projection is the truth: a publish replaces the stored table whatever version it claims; the same table is "unchanged"', async () => {
      const service = unique('Order.mod_');
      assert.equal(await registry.publish(routeTable(service, 5, 2)), 'written');
      assert.equal(await registry.publish(routeTable(service, 5, 2)), 'unchanged');
      assert.equal(await registry.publish(routeTable(service, 3, 1)), 'written');
      assert.deepEqual(await registry.read(service), routeTable(service, 3, 1));
      assert.equal(await registry.publish(routeTable(service, 3, 3)), 'written', 'same version, other content');
      assert.deepEqual(await registry.read(service), routeTable(service, 3, 3));
      const pinned = routeTable(service, Number.MAX_SAFE_INTEGER, 1, { instances: [{ ip: '6.6.6.6', port: 7963, protocol: 'tcp', weight: 100 }] });
      assert.equal(await registry.publish(pinned), 'written');
      assert.equal(await registry.publish(routeTable(service, 4, 2)), 'written', 'the highest version there is pins nothing');
      assert.deepEqual(await registry.read(service), routeTable(service, 4, 2));
    });

    test('a table at version 0 can still be replaced by version 1', async () => {
      const service = unique('Zero.mod_');
      assert.equal(await registry.publish(routeTable(service, 0, 1)), 'written');
      assert.equal(await registry.publish(routeTable(service, 1, 2)), 'written');
      assert.deepEqual(await registry.read(service), routeTable(service, 1, 2));
    });

    test('bad input is refused with what is wrong', async () => {
      await assert.rejects(registry.publish(routeTable('nodot', 1)), /First\.Second/);
      await assert.rejects(registry.publish(routeTable('A/b.c', 1)), /First\.Second/);
      await assert.rejects(registry.publish(routeTable(unique('A.b'), -1)), /version/);
      await assert.rejects(registry.publish({ ...routeTable(unique('A.b'), 1), instances: [{ ip: '10.0.0.1', port: 70_000, protocol: 'tcp', weight: 1 }] }), /port/);
      await assert.rejects(registry.publish(routeTable(unique('A.b'), 1, 1, { tuning: { version: 3 } })), /reserved/);
    });

    test('a watch gets the current table (null when none), then every change, then null on removal', async () => {
      const service = unique('Watch.mod_');
      const r = recorder(watcher, service);
      await waitUntil('the initial null', () => r.seen.length === 1, within);
      assert.equal(r.seen[0], null);
      for (const version of [1, 2, 3]) {
        await registry.publish(routeTable(service, version, version));
        await waitUntil(`version ${version} is seen`, () => r.seen.length === version + 1, within);
      }
      assert.deepEqual(r.seen[3], routeTable(service, 3, 3));
      assert.deepEqual(watcher.current(service), routeTable(service, 3, 3));
      assert.equal(await registry.publish(routeTable(service, 3, 3)), 'unchanged'); // nothing to see
      await registry.remove(service);
      await waitUntil('the removal is seen', () => r.seen.length === 5, within);
      assert.deepEqual(r.versions(), [null, 1, 2, 3, null]);
      assert.equal(watcher.current(service), null);
      await r.sub.close();
    });

    test('a watch on an existing table starts with it; two watches both follow; a closed one stops', async () => {
      const service = unique('Watch.two_');
      await registry.publish(routeTable(service, 4));
      const first = recorder(watcher, service);
      const second = recorder(watcher, service);
      await waitUntil('both see version 4', () => first.seen.length === 1 && second.seen.length === 1, within);
      assert.deepEqual(first.seen[0], routeTable(service, 4));
      await second.sub.close();
      await registry.publish(routeTable(service, 6, 1));
      await waitUntil('the open watch sees version 6', () => first.seen.length === 2, within);
      // A third watch after the change proves the closed one had its chance to be called.
      const third = recorder(watcher, service);
      await waitUntil('a new watch sees version 6', () => third.seen.length === 1, within);
      assert.deepEqual(second.versions(), [4]);
      assert.deepEqual(first.versions(), [4, 6]);
      await Promise.all([first.sub.close(), third.sub.close()]);
    });

    test('the local copy is shared and frozen: a caller cannot change what others route with', async () => {
      const service = unique('Frozen.mod_');
      await registry.publish(routeTable(service, 2));
      const r = recorder(watcher, service);
      await waitUntil('the table is seen', () => r.seen.length === 1, within);
      const local = watcher.current(service)!;
      assert.throws(() => {
        local.instances[0]!.weight = 1;
      }, TypeError);
      assert.throws(() => local.instances.push(local.instances[0]!), TypeError);
      assert.deepEqual(watcher.current(service), routeTable(service, 2));
      await r.sub.close();
    });

    test('a watch follows the stored table down in version: a repair after a hijack is seen', async () => {
      const service = unique('Watch.down_');
      const hijacked = routeTable(service, Number.MAX_SAFE_INTEGER, 1, { instances: [{ ip: '6.6.6.6', port: 7963, protocol: 'tcp', weight: 100 }] });
      await registry.publish(hijacked);
      const r = recorder(watcher, service);
      await waitUntil('the hijacked table is seen', () => r.seen.length === 1, within);
      await registry.publish(routeTable(service, 7, 2));
      await waitUntil('the repaired table is seen', () => r.seen.length === 2, within);
      assert.deepEqual(r.seen[1], routeTable(service, 7, 2));
      assert.deepEqual(watcher.current(service), routeTable(service, 7, 2));
      await r.sub.close();
    });

    test('concurrent publishers: the registry ends holding one of the tables, whole, the same for every reader', async () => {
      const service = unique('Race.mod_');
      const other = await fixture.otherRegistry();
      const tables = Array.from({ length: 20 }, (_, i) => routeTable(service, i + 1, (i % 4) + 1));
      const results = await Promise.all(tables.flatMap((t, i) => [registry.publish(t), other.publish(tables[19 - i]!)]));
      assert.ok(results.includes('written'));
      const stored = await registry.read(service);
      assert.ok(tables.some((t) => JSON.stringify(t) === JSON.stringify(stored)), JSON.stringify(stored));
      assert.deepEqual(await other.read(service), stored);
    });

    test('watchStored reports a change of a stored table, whoever made it, until closed', async () => {
      const service = unique('Stored.mod_');
      const other = await fixture.otherRegistry();
      const changed: Array<string | null> = [];
      const sub = registry.watchStored((s) => changed.push(s));
      await registry.publish(routeTable(service, 1, 1));
      await other.publish(routeTable(service, 1, 3));
      await waitUntil('the other writer\'s change is reported', () => changed.includes(service), within);
      await sub.close();
      changed.length = 0;
      await registry.publish(routeTable(service, 2, 2));
      await other.publish(routeTable(service, 3, 2));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(changed, []);
    });

    test('checkAccess: the nodes this registry made need no repair', async () => {
      await registry.publish(routeTable(unique('Access.mod_'), 1, 1));
      const report = await registry.checkAccess();
      assert.ok(report.checked >= 1);
      assert.deepEqual({ ...report, checked: 0 }, { checked: 0, repaired: [], recreated: [], problems: [] });
    });
  });
}
