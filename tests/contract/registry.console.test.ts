/**
 * The name-service contract for the console's long poll (apps/rpc/client/console-routes.ts):
 * a real console (the test harness: its auth, its route handler, its long poll) whose routing
 * reads are what an embedded registry holds, and whose long polls wake on that registry's
 * changes, so the contract can publish any table (a real console's tables come from events,
 * with positions as versions, and wake its long polls through the routing projection).
 */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { MemoryRegistry } from '../../adapters/registry/memory.ts';
import { consoleRoutes } from '../../apps/rpc/client/console-routes.ts';
import { consoleHarness } from '../unit/console/harness.ts';
import { registryContract } from './registry.contract.ts';

const silent = pino({ level: 'silent' });

registryContract('console long poll over the console\'s route API', async () => {
  const registry = new MemoryRegistry({ logger: silent });
  const harness = await consoleHarness({
    extend: (ctx) => {
      ctx.reads.route = (service) => registry.current(service) ?? undefined;
      // The console's long polls wake on a change of the routing read model: here that is the registry.
      const onChange = ctx.projections.onChange.bind(ctx.projections);
      ctx.projections.onChange = (projection, listener) => {
        if (projection !== 'routing') return onChange(projection, listener);
        const sub = registry.watchStored(() => listener());
        return () => void sub.close();
      };
    },
  });
  await harness.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(harness.app.server.address() as AddressInfo).port}`;
  const issued = await harness.call({ method: 'POST', url: '/api/tokens', payload: { label: 'contract' } });
  const { token } = issued.json() as { token: string };
  const watcher = consoleRoutes({ url, token, logger: silent, missingRetryMs: 50, backoff: { initialMs: 20, maxMs: 200 } });
  return {
    registry,
    otherRegistry: async () => registry,
    watcher,
    cleanup: async () => {
      await watcher.close();
      await harness.close();
      await registry.close();
    },
  };
});
