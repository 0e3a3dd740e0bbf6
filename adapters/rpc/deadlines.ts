/**
 * Deadlines for many short-lived calls with one timer. A Node timer per call costs more
 * than a small call itself (and timers are set and cleared for every request on both
 * sides). Calls with the same timeout expire in the order they started, so each timeout
 * keeps an insertion-ordered set and the one timer is armed for the earliest head. Past
 * `maxBuckets` distinct timeouts, further ones fall back to a timer of their own, which
 * bounds the work of each expiry pass.
 */

export interface Expiring {
  /** Epoch ms. */
  deadline: number;
}

const maxBuckets = 32;

export class DeadlineQueue<T extends Expiring> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly ownTimers = new Map<T, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  constructor(private readonly onExpire: (item: T) => void) {}

  /** Expires `item` at item.deadline; `timeoutMs` groups items that expire in start order. */
  add(item: T, timeoutMs: number): void {
    let bucket = this.buckets.get(timeoutMs);
    if (bucket === undefined) {
      if (this.buckets.size >= maxBuckets) {
        this.ownTimers.set(item, setTimeout(() => {
          this.ownTimers.delete(item);
          this.onExpire(item);
        }, Math.max(0, item.deadline - Date.now())));
        return;
      }
      bucket = new Set();
      this.buckets.set(timeoutMs, bucket);
    }
    bucket.add(item);
    if (item.deadline < this.timerAt) this.arm(item.deadline);
  }

  /** The item finished in time. */
  delete(item: T, timeoutMs: number): void {
    const bucket = this.buckets.get(timeoutMs);
    if (bucket !== undefined && bucket.delete(item)) return;
    const own = this.ownTimers.get(item);
    if (own !== undefined) {
      clearTimeout(own);
      this.ownTimers.delete(item);
    }
  }

  /** Forgets everything without expiring it. */
  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    this.buckets.clear();
    for (const own of this.ownTimers.values()) clearTimeout(own);
    this.ownTimers.clear();
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
  }

  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = Date.now();
    const due: T[] = [];
    let next = Infinity;
    for (const [timeoutMs, bucket] of this.buckets) {
      for (const item of bucket) {
        if (item.deadline > now) {
          if (item.deadline < next) next = item.deadline;
          break;
        }
        bucket.delete(item);
        due.push(item);
      }
      if (bucket.size === 0) this.buckets.delete(timeoutMs);
    }
    if (next !== Infinity) this.arm(next);
    if (due.length > 1) due.sort((a, b) => a.deadline - b.deadline);
    for (const item of due) this.onExpire(item);
  }
}
