/**
 * Warnings caused by what peers send are logged at most once per interval: a client that
 * opens a thousand bad connections must not also write a thousand log lines. Counts what
 * was left out, so the next line can say so.
 */
export class LogThrottle {
  private last = -Infinity;
  private skipped = 0;

  constructor(private readonly intervalMs = 10_000) {}

  /** Whether to log now; `skipped` is how many were left out since the last one. */
  take(): { log: boolean; skipped: number } {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.skipped++;
      return { log: false, skipped: 0 };
    }
    this.last = now;
    const skipped = this.skipped;
    this.skipped = 0;
    return { log: true, skipped };
  }
}
