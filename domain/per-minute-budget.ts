/**
 * How refusals are recorded without a flood recording a flood (the console's refused requests,
 * an agent's refused commands, the projector's refusal events): per key, the first `perMinute`
 * of a minute (from the first of the window) go through one by one, the rest are held and
 * counted, and the count goes with the next one through, or comes out with `due` once the
 * minute is over. Nothing is lost: a count is only ever moved. Pure (the time is given).
 */
interface Window {
  at: number;
  passed: number;
  held: number;
}

export class PerMinuteBudget {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly perMinute: number, private readonly maxKeys = 10_000) {}

  /** undefined: held (counted for later); else how many were held back before this one. */
  take(key: string, now: number): number | undefined {
    let w = this.windows.get(key);
    if (!w || now - w.at >= 60_000) {
      w = { at: now, passed: 0, held: w?.held ?? 0 };
      this.windows.set(key, w);
      if (this.windows.size > this.maxKeys) this.prune(now);
    }
    if (w.passed >= this.perMinute) {
      w.held++;
      return undefined;
    }
    w.passed++;
    const held = w.held;
    w.held = 0;
    return held;
  }

  /** Counts that could not be recorded after all (a failed write): held again. */
  hold(key: string, count: number, now: number): void {
    const w = this.windows.get(key) ?? { at: now, passed: 0, held: 0 };
    w.held += count;
    this.windows.set(key, w);
  }

  /** The held counts whose minute is over, taken out (one summary each); their window starts again now with that one. */
  due(now: number): { key: string; held: number }[] {
    const out: { key: string; held: number }[] = [];
    for (const [key, w] of this.windows) {
      if (w.held > 0 && now - w.at >= 60_000) {
        out.push({ key, held: w.held });
        this.windows.set(key, { at: now, passed: 1, held: 0 });
      }
    }
    return out;
  }

  /** Windows that are over and hold nothing carry no state worth keeping. */
  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.at >= 60_000 && w.held === 0) this.windows.delete(key);
  }
}
