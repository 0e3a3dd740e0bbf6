/**
 * The last few thousand events this process appended or read, already decoded. Every
 * projection follows the global log on its own, so without this each event would be read
 * and decoded once per projection; with it, followers that move in step share one decode.
 * Only committed events are here, and a position not held is a miss that the caller reads
 * from the database, so the cache never changes what a reader sees.
 */
import type { RecordedEvent } from '../../domain/events.ts';
import { upcasterGeneration } from '../../schemas/upcasters.ts';

export class RecentEvents {
  private readonly byPosition = new Map<number, RecordedEvent>();
  /** Events were upcast with the upcasters of this generation; a new upcaster empties the cache. */
  private generation = upcasterGeneration();

  constructor(private readonly capacity = 4096) {}

  add(events: readonly RecordedEvent[]): void {
    this.dropIfUpcastersChanged();
    for (const e of events) this.byPosition.set(e.position, e);
    // Map keeps insertion order: roughly oldest first (a lagging reader may add older ones late,
    // which only makes them leave early: a later miss, never a wrong answer).
    for (const oldest of this.byPosition.keys()) {
      if (this.byPosition.size <= this.capacity) break;
      this.byPosition.delete(oldest);
    }
  }

  /** Events at after+1, after+2, … while they are all cached; empty when after+1 is not. */
  after(position: number, limit: number): RecordedEvent[] {
    this.dropIfUpcastersChanged();
    const out: RecordedEvent[] = [];
    for (let p = position + 1; out.length < limit; p++) {
      const e = this.byPosition.get(p);
      if (!e) break;
      out.push(e);
    }
    return out;
  }

  private dropIfUpcastersChanged(): void {
    if (this.generation === upcasterGeneration()) return;
    this.byPosition.clear();
    this.generation = upcasterGeneration();
  }
}
