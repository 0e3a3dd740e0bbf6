/** The CheckpointStore contract: every adapter of CheckpointStore (adapters/bus/port.ts) runs it. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { CheckpointStore } from '../../adapters/bus/port.ts';
import { unique } from './support.ts';

export interface CheckpointFixture {
  checkpoints: CheckpointStore;
  /** Another store on the same data, as after a restart. */
  reopen(): Promise<CheckpointStore>;
  cleanup(): Promise<void>;
}

export function checkpointStoreContract(name: string, makeCheckpoints: () => Promise<CheckpointFixture>): void {
  describe(`CheckpointStore contract: ${name}`, () => {
    let fixture: CheckpointFixture;
    let checkpoints: CheckpointStore;
    beforeEach(async () => {
      fixture = await makeCheckpoints();
      checkpoints = fixture.checkpoints;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    test('a checkpoint never saved loads as null', async () => {
      assert.equal(await checkpoints.load(unique('routing.v1.')), null);
    });

    test('a saved checkpoint loads back, including position 0', async () => {
      const [a, b] = [unique('routing.v1.'), unique('relay.')];
      await checkpoints.save(a, 42);
      await checkpoints.save(b, 0);
      assert.equal(await checkpoints.load(a), 42);
      assert.equal(await checkpoints.load(b), 0);
    });

    test('saving again overwrites, and names do not affect each other', async () => {
      const [v1, v2] = [unique('catalog.v1.'), unique('catalog.v2.')];
      await checkpoints.save(v1, 10);
      await checkpoints.save(v2, 3);
      await checkpoints.save(v1, 25);
      assert.equal(await checkpoints.load(v1), 25);
      assert.equal(await checkpoints.load(v2), 3);
    });

    test('checkpoints survive a restart', async () => {
      const name = unique('audit.v1.');
      await checkpoints.save(name, 1_000_000_007);
      const reopened = await fixture.reopen();
      assert.equal(await reopened.load(name), 1_000_000_007);
    });
  });
}
