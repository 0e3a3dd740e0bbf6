import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ViewRow } from '../../../adapters/views/port.ts';
import { RowWriter } from '../../../apps/projector/row-writer.ts';

const row = (position: number): ViewRow => ({ eventId: `e-${position}`, position });

/** A store whose writes wait until the test lets them finish (or not, `immediate`), recording each one. */
function slowStore(immediate = false) {
  const writes: { positions: number[]; checkpoint: number }[] = [];
  let finish: (() => void)[] = [];
  let failNext = 0;
  return {
    writes,
    failNext: (n: number) => (failNext = n),
    finishAll: () => finish.splice(0).forEach((f) => f()),
    write: (rows: readonly ViewRow[], checkpoint: number) => new Promise<void>((resolve, reject) => {
      if (failNext > 0) {
        failNext -= 1;
        reject(new Error('disk full'));
        return;
      }
      const done = () => {
        writes.push({ positions: rows.map((r) => r.position), checkpoint });
        resolve();
      };
      if (immediate) done();
      else finish.push(done);
    }),
    reset: () => (finish = []),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RowWriter: group commit of a row projection', () => {
  it('given a write on its way, when batches come, then the next write carries them all with the last checkpoint', async () => {
    const store = slowStore();
    const stored: number[] = [];
    const writer = new RowWriter({ write: store.write, stored: (upTo) => void stored.push(upTo), failed: () => {} });
    writer.enqueue([row(1)], 1, 'c1');
    await tick();
    writer.enqueue([row(2)], 2, 'c2');
    writer.enqueue([], 3, 'c3');
    writer.enqueue([row(4)], 4, 'c4');
    assert.equal(writer.busy, true);
    store.finishAll();
    await tick();
    store.finishAll();
    await writer.drained();
    assert.deepEqual(store.writes, [{ positions: [1], checkpoint: 1 }, { positions: [2, 4], checkpoint: 4 }]);
    assert.deepEqual(stored, [1, 4]);
    assert.equal(writer.busy, false);
  });

  it('given a failing write, then it is tried again first, with what came meanwhile, and reported', async () => {
    const store = slowStore(true);
    const failures: string[] = [];
    const writer = new RowWriter({
      write: store.write, stored: () => {}, failed: (err) => failures.push((err as Error).message),
      retryDelays: { initialMs: 1, maxMs: 2 },
    });
    store.failNext(2);
    writer.enqueue([row(1)], 1, null);
    await new Promise((resolve) => setTimeout(resolve, 5));
    writer.enqueue([row(2)], 2, null);
    await writer.drained();
    assert.deepEqual(failures, ['disk full', 'disk full']);
    assert.deepEqual(store.writes.flatMap((w) => w.positions), [1, 2]);
    assert.equal(store.writes.at(-1)!.checkpoint, 2);
  });

  it('given more rows queued than allowed, then room() waits until a write takes them', async () => {
    const store = slowStore();
    const writer = new RowWriter({ write: store.write, stored: () => {}, failed: () => {}, maxQueuedRows: 2 });
    writer.enqueue([row(1)], 1, null);
    await tick();
    writer.enqueue([row(2), row(3)], 3, null);
    let roomMade = false;
    const room = writer.room().then(() => (roomMade = true));
    await tick();
    assert.equal(roomMade, false);
    store.finishAll();
    await room;
    assert.equal(roomMade, true);
    store.finishAll();
    await writer.drained();
  });

  it('when stopped while writes fail, then it gives up after one last try (the feed brings the rows back after a restart)', async () => {
    const store = slowStore(true);
    const writer = new RowWriter({ write: store.write, stored: () => {}, failed: () => {}, retryDelays: { initialMs: 1, maxMs: 1 } });
    store.failNext(1000);
    writer.enqueue([row(1)], 1, null);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await writer.stop();
    assert.equal(writer.busy, false);
    assert.deepEqual(store.writes, []);
  });
});
