/**
 * Slot arithmetic of a Redis cluster (pure): even shares of the 16 384 slots across sets, and
 * the fewest moves that get from the slots each set holds now to even shares (MSEC's "slots
 * rebalanced with minimal migration, evenly per Set").
 */
import { KV_SLOTS } from './rules.ts';

export interface SlotMove {
  slot: number;
  /** The set that holds it now; null: nobody does (it is assigned, not migrated). */
  from: number | null;
  to: number;
}

/**
 * Each kept set's share: 16384 / n, the remainder going one slot each to the sets that hold
 * most now (so they keep it instead of moving it), ties by set id.
 */
export function evenShares(holding: ReadonlyMap<number, readonly number[]>, keep: readonly number[]): Map<number, number> {
  const n = keep.length;
  if (n === 0) throw new Error('no set to hold the slots');
  const base = Math.floor(KV_SLOTS / n);
  const extra = KV_SLOTS % n;
  const order = [...keep].sort((a, b) => (holding.get(b)?.length ?? 0) - (holding.get(a)?.length ?? 0) || a - b);
  return new Map(order.map((set, i) => [set, base + (i < extra ? 1 : 0)]));
}

/**
 * The fewest slot moves from `holding` (set → its slots; sets not in `keep` give all theirs
 * away) to even shares over `keep`. Only slots above a set's share move, each straight to a
 * set under its share; a set gives away its highest slots so ranges stay whole. Slots nobody
 * holds are handed out first.
 */
export function planSlotMoves(holding: ReadonlyMap<number, readonly number[]>, keep: readonly number[]): SlotMove[] {
  const shares = evenShares(holding, keep);
  const held = new Set<number>();
  const givers: { set: number | null; slots: number[] }[] = [];
  for (const [set, slots] of [...holding].sort((a, b) => a[0] - b[0])) {
    for (const s of slots) held.add(s);
    const excess = slots.length - (shares.get(set) ?? 0);
    if (excess > 0) givers.push({ set, slots: [...slots].sort((a, b) => a - b).slice(slots.length - excess) });
  }
  const orphans: number[] = [];
  for (let s = 0; s < KV_SLOTS; s++) if (!held.has(s)) orphans.push(s);
  if (orphans.length) givers.unshift({ set: null, slots: orphans });

  const takers = [...keep].sort((a, b) => a - b).map((set) => ({ set, need: shares.get(set)! - (holding.get(set)?.length ?? 0) })).filter((t) => t.need > 0);
  const moves: SlotMove[] = [];
  let t = 0;
  for (const g of givers) {
    for (const slot of g.slots) {
      while (t < takers.length && takers[t]!.need === 0) t++;
      if (t === takers.length) throw new Error('slot shares do not add up');
      moves.push({ slot, from: g.set, to: takers[t]!.set });
      takers[t]!.need--;
    }
  }
  return moves;
}

/** Sorted slots as ranges: [0,1,2,7] → [[0,2],[7,7]]. */
export function slotRanges(slots: Iterable<number>): [number, number][] {
  const sorted = [...slots].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/** "0-5460 10923" (Redis's own way of writing ranges). */
export function formatRanges(slots: Iterable<number>): string {
  return slotRanges(slots).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(' ');
}
