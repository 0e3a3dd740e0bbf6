/**
 * The name-service contract for fixed tables (staticRoutes, apps/rpc/client/route-sources.ts):
 * what the embedded registry is told to hold is set on the static source as well, so the
 * contract's watches run against the static source.
 */
import { pino } from 'pino';
import { MemoryRegistry } from '../../adapters/registry/memory.ts';
import type { RouteRegistry } from '../../adapters/registry/port.ts';
import { staticRoutes } from '../../apps/rpc/client/route-sources.ts';
import { registryContract } from './registry.contract.ts';

registryContract('static routes', async () => {
  const inner = new MemoryRegistry({ logger: pino({ level: 'silent' }) });
  const watcher = staticRoutes();
  const registry: RouteRegistry = {
    publish: async (table) => {
      const result = await inner.publish(table);
      watcher.set(table);
      return result;
    },
    remove: async (service) => {
      await inner.remove(service);
      watcher.remove(service);
    },
    read: (service) => inner.read(service),
    list: () => inner.list(),
    checkAccess: () => inner.checkAccess(),
    watchStored: (onChange) => inner.watchStored(onChange),
    close: () => inner.close(),
  };
  return {
    registry,
    otherRegistry: async () => registry,
    watcher,
    cleanup: async () => {
      await watcher.close();
      await inner.close();
    },
  };
});
