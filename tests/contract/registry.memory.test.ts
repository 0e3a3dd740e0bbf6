/** Runs the name-service contract against the embedded registry. */
import { MemoryRegistry } from '../../adapters/registry/memory.ts';
import { registryContract } from './registry.contract.ts';

registryContract('MemoryRegistry', async () => {
  const registry = new MemoryRegistry();
  return {
    registry,
    otherRegistry: async () => registry,
    watcher: registry,
    cleanup: () => registry.close(),
  };
});
