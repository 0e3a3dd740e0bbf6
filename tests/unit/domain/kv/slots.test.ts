/**
 * Slot arithmetic of the KV's Redis clusters, as specifications: even shares of the 16 384 slots
 * over the kept sets, reached with the fewest slot moves, ranges kept whole.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evenShares, formatRanges, KV_SLOTS, planSlotMoves, slotRanges, type SlotMove } from '../../../../domain/kv/index.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** Three sets as a new cluster gets them: 0-5461, 5462-10922, 10923-16383. */
const threeSets = () => new Map([[1, range(0, 5461)], [2, range(5462, 10922)], [3, range(10923, 16383)]]);
const fourSets = () => new Map([[1, range(0, 4095)], [2, range(4096, 8191)], [3, range(8192, 12287)], [4, range(12288, 16383)]]);

/** The holding after the moves, checking each move takes a slot from the set that holds it, once. */
function applyMoves(holding: ReadonlyMap<number, readonly number[]>, moves: readonly SlotMove[]): Map<number, number[]> {
  const owner = new Map<number, number>();
  for (const [set, slots] of holding) for (const s of slots) owner.set(s, set);
  const moved = new Set<number>();
  for (const m of moves) {
    assert.ok(!moved.has(m.slot), `slot ${m.slot} moves twice`);
    moved.add(m.slot);
    assert.equal(owner.get(m.slot) ?? null, m.from, `slot ${m.slot} is moved from set ${m.from} but set ${owner.get(m.slot)} holds it`);
    owner.set(m.slot, m.to);
  }
  const after = new Map<number, number[]>();
  for (const [slot, set] of [...owner].sort((a, b) => a[0] - b[0])) (after.get(set) ?? after.set(set, []).get(set)!).push(slot);
  return after;
}

/** Every slot 0..16383 held by exactly one of `keep`, the shares differing by at most one. */
function assertEven(after: ReadonlyMap<number, readonly number[]>, keep: readonly number[]): void {
  const seen = new Set<number>();
  for (const [set, slots] of after) {
    assert.ok(keep.includes(set) || slots.length === 0, `set ${set} is not kept but holds ${slots.length} slot(s)`);
    for (const s of slots) {
      assert.ok(!seen.has(s), `slot ${s} is held twice`);
      seen.add(s);
    }
  }
  assert.equal(seen.size, KV_SLOTS, 'every slot is held');
  const counts = keep.map((set) => after.get(set)?.length ?? 0);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `shares ${counts.join('/')} differ by more than one`);
}

/** The fewest moves, by brute force over which sets take the odd slots: every slot not where it may stay must move. */
function fewestMoves(holding: ReadonlyMap<number, readonly number[]>, keep: readonly number[]): number {
  const base = Math.floor(KV_SLOTS / keep.length);
  const extra = KV_SLOTS % keep.length;
  let best = Infinity;
  for (let mask = 0; mask < 1 << keep.length; mask++) {
    let bits = 0;
    for (let b = mask; b; b >>= 1) bits += b & 1;
    if (bits !== extra) continue;
    const staying = keep.reduce((sum, set, i) => sum + Math.min(holding.get(set)?.length ?? 0, base + ((mask >> i) & 1)), 0);
    best = Math.min(best, KV_SLOTS - staying);
  }
  return best;
}

describe('even shares', () => {
  test('given 3 sets, then 5462/5461/5461, the odd slot to the lowest set id when none holds any', () => {
    assert.deepEqual([...evenShares(new Map(), [1, 2, 3])], [[1, 5462], [2, 5461], [3, 5461]]);
  });

  test('given uneven holdings, then the odd slots go to the sets holding most (they keep them rather than move them)', () => {
    const shares = evenShares(new Map([[1, range(0, 99)], [2, range(100, 16383)], [3, []]]), [1, 2, 3]);
    assert.equal(shares.get(2), 5462);
    assert.equal(shares.get(1), 5461);
    assert.equal(shares.get(3), 5461);
  });

  test('given no set to keep, then it throws', () => {
    assert.throws(() => evenShares(new Map(), []), /no set to hold the slots/);
  });
});

describe('planning slot moves', () => {
  test('given 3 sets and no slots, then each gets a contiguous range assigned (from nobody)', () => {
    const moves = planSlotMoves(new Map(), [1, 2, 3]);
    assert.equal(moves.length, KV_SLOTS);
    assert.ok(moves.every((m) => m.from === null));
    const after = applyMoves(new Map(), moves);
    assert.equal(formatRanges(after.get(1)!), '0-5461');
    assert.equal(formatRanges(after.get(2)!), '5462-10922');
    assert.equal(formatRanges(after.get(3)!), '10923-16383');
  });

  test('given 3 sets, when a 4th is added, then exactly 4096 slots move, each from an over-share set to the new one', () => {
    const holding = threeSets();
    const moves = planSlotMoves(holding, [1, 2, 3, 4]);
    assert.equal(moves.length, 4096);
    assert.ok(moves.every((m) => m.to === 4), 'every slot goes to the new set');
    assert.deepEqual([1, 2, 3].map((set) => moves.filter((m) => m.from === set).length), [1366, 1365, 1365]);
    const after = applyMoves(holding, moves);
    assertEven(after, [1, 2, 3, 4]);
    assert.deepEqual([1, 2, 3, 4].map((set) => after.get(set)!.length), [4096, 4096, 4096, 4096]);
  });

  test('given 3 sets, when a 4th is added, then each old set gives away its highest slots, so its range stays whole', () => {
    const after = applyMoves(threeSets(), planSlotMoves(threeSets(), [1, 2, 3, 4]));
    assert.equal(formatRanges(after.get(1)!), '0-4095');
    assert.equal(formatRanges(after.get(2)!), '5462-9557');
    assert.equal(formatRanges(after.get(3)!), '10923-15018');
    assert.equal(formatRanges(after.get(4)!), '4096-5461 9558-10922 15019-16383');
  });

  test('given 4 sets, when set 2 is removed, then only its slots move, to the sets under their new share', () => {
    const holding = fourSets();
    const moves = planSlotMoves(holding, [1, 3, 4]);
    assert.equal(moves.length, 4096);
    assert.ok(moves.every((m) => m.from === 2));
    assert.deepEqual([1, 3, 4].map((set) => moves.filter((m) => m.to === set).length), [1366, 1365, 1365]);
    const after = applyMoves(holding, moves);
    assertEven(after, [1, 3, 4]);
    assert.equal(after.get(2), undefined);
  });

  test('given balanced sets, then nothing moves', () => {
    assert.deepEqual(planSlotMoves(threeSets(), [1, 2, 3]), []);
    assert.deepEqual(planSlotMoves(fourSets(), [4, 3, 2, 1]), []);
  });

  test('given uneven holdings, then only the excess moves, the highest slots of the set above its share', () => {
    const holding = new Map([[1, range(0, 9999)], [2, range(10000, 16383)]]);
    const moves = planSlotMoves(holding, [1, 2]);
    assert.equal(moves.length, 10000 - 8192);
    assert.deepEqual(moves[0], { slot: 8192, from: 1, to: 2 });
    assert.deepEqual(moves.at(-1), { slot: 9999, from: 1, to: 2 });
    assertEven(applyMoves(holding, moves), [1, 2]);
  });

  test('given slots nobody holds, then they are handed out first, and only what is still missing moves', () => {
    const holding = new Map([[1, range(0, 99)]]);
    const moves = planSlotMoves(holding, [1, 2]);
    assert.equal(moves.length, KV_SLOTS - 100);
    assert.ok(moves.every((m) => m.from === null));
    const after = applyMoves(holding, moves);
    assertEven(after, [1, 2]);
    assert.equal(formatRanges(after.get(1)!), '0-8191');
    assert.equal(formatRanges(after.get(2)!), '8192-16383');
  });

  test('given random holdings (seeded), then the moves reach even shares over the kept sets with the fewest slots moved', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = seededRandom(seed);
      const setCount = 1 + Math.floor(random() * 6);
      const holding = new Map<number, number[]>();
      // Runs of slots of random length, each to a random set or to nobody.
      for (let slot = 0; slot < KV_SLOTS;) {
        const run = 1 + Math.floor(random() * 3000);
        const set = Math.floor(random() * (setCount + 1));
        for (let s = slot; s < Math.min(KV_SLOTS, slot + run); s++) if (set > 0) (holding.get(set) ?? holding.set(set, []).get(set)!).push(s);
        slot += run;
      }
      const keep = range(1, setCount + 2).filter(() => random() < 0.7);
      if (keep.length === 0) keep.push(1);
      const moves = planSlotMoves(holding, keep);
      assertEven(applyMoves(holding, moves), keep);
      assert.equal(moves.length, fewestMoves(holding, keep), `seed ${seed}: ${moves.length} moves is not the fewest`);
    }
  });
});

describe('slot ranges', () => {
  test('given slots in any order, then runs of consecutive slots become ranges', () => {
    assert.deepEqual(slotRanges([7, 0, 2, 1]), [[0, 2], [7, 7]]);
    assert.equal(formatRanges([7, 0, 2, 1, 9, 10]), '0-2 7 9-10');
    assert.equal(formatRanges(range(0, 16383)), '0-16383');
  });

  test('given no slot, then no range', () => {
    assert.deepEqual(slotRanges([]), []);
    assert.equal(formatRanges(new Set<number>()), '');
  });
});
