/**
 * User metrics of one process, buffered per minute until the next flush (MSEC's monitor agent
 * bucketed by (service, attribute, minute) the same way): an Add sums into its minute, a Set
 * keeps the first value of its minute. Bounded: a point for a series beyond `maxSeries` is
 * dropped and counted, so a handler that makes up names cannot grow the process without end.
 */
import type { Metric } from '../../../schemas/reports.ts';
import type { MetricPoint } from '../contracts.ts';

interface Slot {
  service: string;
  name: string;
  ip: string;
  kind: 'add' | 'set';
  minute: number;
  value: number;
  atMs: number;
}

export class MetricBuffer {
  private slots = new Map<string, Slot>();
  private droppedSinceTake = 0;

  constructor(private readonly maxSeries = 10_000) {}

  get size(): number {
    return this.slots.size;
  }

  /** Adds a point; false when it was dropped (too many series). */
  put(p: MetricPoint): boolean {
    const minute = Math.floor(p.at / 60_000) * 60;
    const key = `${p.kind}\u0000${p.service}\u0000${p.ip}\u0000${p.name}\u0000${minute}`;
    const slot = this.slots.get(key);
    if (slot) {
      if (p.kind === 'add') slot.value += p.value;
      else if (p.at < slot.atMs) {
        slot.value = p.value;
        slot.atMs = p.at;
      }
      return true;
    }
    if (this.slots.size >= this.maxSeries) {
      this.droppedSinceTake++;
      return false;
    }
    this.slots.set(key, { service: p.service, name: p.name, ip: p.ip, kind: p.kind, minute, value: p.value, atMs: p.kind === 'set' ? p.at : 0 });
    return true;
  }

  /** Everything buffered as report metrics, and how many points were dropped; the buffer is empty after. */
  take(): { metrics: Metric[]; dropped: number } {
    const metrics: Metric[] = [];
    for (const s of this.slots.values()) {
      metrics.push({ service: s.service, method: '', side: '', attr: s.name, minute: s.minute, value: s.value, kind: s.kind, ip: s.ip, atMs: s.atMs });
    }
    const dropped = this.droppedSinceTake;
    this.slots = new Map();
    this.droppedSinceTake = 0;
    return { metrics, dropped };
  }
}
