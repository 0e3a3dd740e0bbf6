import { MemoryViewStore } from '../../adapters/views/memory.ts';
import { viewStoreContract } from './viewstore.contract.ts';

viewStoreContract('memory', { open: async () => new MemoryViewStore() });
