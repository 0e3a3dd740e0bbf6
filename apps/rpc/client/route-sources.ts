/**
 * Where a client's routing tables come from: every one is a RouteSource (the registry's one
 * reader port, adapters/registry/port.ts): a ZooKeeper watch (ZooKeeperRouteWatcher), the
 * embedded registry (MemoryRegistry), the console's long-poll API (consoleRoutes), or fixed
 * tables (staticRoutes). Every source keeps serving the last table it had while its origin is
 * unreachable.
 */
import type { Subscription } from '../../../adapters/eventstore/port.ts';
import type { RouteListener, RouteSource } from '../../../adapters/registry/port.ts';
import { firstTable, routeListener, routeTableOf } from '../../../adapters/registry/route-source.ts';
import { canonicalRouteTable, frozenRouteTable, type RouteTable } from '../../../schemas/route-table.ts';
import { consoleRoutes, type ConsoleRoutesOptions } from './console-routes.ts';
import { rpcLogger } from './logger.ts';

export { consoleRoutes, firstTable, routeTableOf, type ConsoleRoutesOptions, type RouteListener, type RouteSource };

export interface StaticRouteSource extends RouteSource {
  /** Replaces (or adds) a table and tells its watchers: for tests and tools. */
  set(table: RouteTable): void;
  remove(service: string): void;
}

/** Fixed tables; set()/remove() change them. Watchers are told asynchronously, like a real watch. */
export function staticRoutes(tables: readonly RouteTable[] = []): StaticRouteSource {
  const fixed = (table: RouteTable) => frozenRouteTable(canonicalRouteTable(table));
  const current = new Map(tables.map((t) => [t.service, fixed(t)]));
  const listeners = new Map<string, Set<RouteListener>>();
  const logger = rpcLogger();
  const tell = (service: string) => {
    const set = listeners.get(service);
    if (set) queueMicrotask(() => set.forEach((l) => l(current.get(service) ?? null)));
  };
  return {
    current: (service) => current.get(service) ?? null,
    watch(service, onChange) {
      const set = listeners.get(service) ?? new Set();
      listeners.set(service, set);
      const listener = routeListener(service, onChange, logger);
      set.add(listener);
      queueMicrotask(() => set.has(listener) && listener(current.get(service) ?? null));
      return { close: async () => void set.delete(listener) };
    },
    set(table) {
      current.set(table.service, fixed(table));
      tell(table.service);
    },
    remove(service) {
      current.delete(service);
      tell(service);
    },
    close: async () => listeners.clear(),
  };
}

/** A source made on first use (so a client that only calls addresses never connects anywhere). */
export function deferredRoutes(make: () => Promise<RouteSource>): RouteSource {
  let made: Promise<RouteSource> | undefined;
  const source = () => (made ??= make().then((s) => (opened = s)));
  let opened: RouteSource | undefined;
  return {
    current: (service) => opened?.current(service),
    watch(service, onChange) {
      let inner: Subscription | undefined;
      let closed = false;
      const ready = source().then((s) => {
        if (!closed) inner = s.watch(service, onChange);
      });
      return {
        close: async () => {
          closed = true;
          await ready.catch(() => undefined);
          await inner?.close();
        },
      };
    },
    close: async () => {
      if (made) await (await made.catch(() => undefined))?.close();
    },
  };
}

export class NoRouteSource extends Error {
  constructor() {
    super('no route source: set MSEC_REGISTRY=zk://host:2181 (ZooKeeper) or MSEC_CONSOLE_URL and MSEC_TOKEN (console API), or pass `routes` to createClient');
    this.name = 'NoRouteSource';
  }
}

/**
 * The route source the environment names: MSEC_REGISTRY=zk://… → the ZooKeeper watcher
 * (MSEC_ROUTE_CACHE_DIR keeps the last tables on disk); else MSEC_CONSOLE_URL + MSEC_TOKEN →
 * the console's long poll; else null.
 */
export function routesFromEnvironment(env: Record<string, string | undefined> = process.env): RouteSource | null {
  const registry = env.MSEC_REGISTRY;
  if (registry && /^zk:\/\//i.test(registry)) {
    return deferredRoutes(async () => {
      const { ZooKeeperRouteWatcher } = await import('../../../adapters/registry/zookeeper-watcher.ts');
      const cacheDir = env.MSEC_ROUTE_CACHE_DIR;
      return ZooKeeperRouteWatcher.fromUrl(registry, cacheDir ? { cacheDir } : {});
    });
  }
  const url = env.MSEC_CONSOLE_URL;
  const token = env.MSEC_TOKEN;
  if (url && token) return consoleRoutes({ url, token });
  return null;
}
