/** Named checkpoints in memory, for tests. Pass the same map to a second store to play a restart. */
import type { CheckpointStore } from '../bus/port.ts';

export class MemoryCheckpointStore implements CheckpointStore {
  constructor(readonly positions: Map<string, number> = new Map()) {}

  async load(name: string): Promise<number | null> {
    return this.positions.get(name) ?? null;
  }

  async save(name: string, position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new Error(`checkpoint ${name} cannot be ${position}: save the position of the last event handled (an integer >= 0)`);
    }
    this.positions.set(name, position);
  }
}
