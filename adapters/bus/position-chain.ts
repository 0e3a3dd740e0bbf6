/**
 * Events of the global log waiting for their turn: the event feed (event-feed.ts) puts the
 * store's order back together from partitions that each keep only their streams in order.
 * An event is handed over once the event before it (its `prev` position) was.
 */
import type { RecordedEvent } from '../../domain/events.ts';

/** Events waiting for their turn, and the position of the last one handed over. */
export class PositionChain {
  private readonly byPosition = new Map<number, { event: RecordedEvent; prev: number }>();
  private readonly byPrev = new Map<number, number>();

  constructor(public delivered: number) {}

  get size(): number {
    return this.byPosition.size;
  }

  has(position: number): boolean {
    return this.byPosition.has(position);
  }

  /** The lowest position held (Infinity when none). */
  lowestHeld(): number {
    let lowest = Infinity;
    for (const p of this.byPosition.keys()) lowest = Math.min(lowest, p);
    return lowest;
  }

  offer(event: RecordedEvent, prev: number): void {
    if (event.position <= this.delivered || this.byPosition.has(event.position)) return;
    this.byPosition.set(event.position, { event, prev });
    this.byPrev.set(prev, event.position);
  }

  /** The run of events that follows `delivered`, in log order; they stay held until advance(). */
  takeDeliverable(): RecordedEvent[] {
    const run: RecordedEvent[] = [];
    let cursor = this.delivered;
    for (;;) {
      const next = this.byPrev.get(cursor) ?? this.firstAcross(cursor);
      if (next === undefined) return run;
      run.push(this.byPosition.get(next)!.event);
      cursor = next;
    }
  }

  /** Marks everything up to `position` handed over. */
  advance(position: number): void {
    for (const [p, held] of this.byPosition) {
      if (p > position) continue;
      this.byPosition.delete(p);
      if (this.byPrev.get(held.prev) === p) this.byPrev.delete(held.prev);
    }
    this.delivered = Math.max(this.delivered, position);
  }

  /** The event whose predecessor lies at or below `cursor` though not exactly at it (`after` fell in a gap of positions). */
  private firstAcross(cursor: number): number | undefined {
    let best: number | undefined;
    for (const [p, held] of this.byPosition) {
      if (p > cursor && held.prev <= cursor && (best === undefined || p < best)) best = p;
    }
    return best;
  }
}
