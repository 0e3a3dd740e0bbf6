/**
 * What the console's runners (release plans, KV tasks) share: every `pollMs` they look for the
 * keys with work to do (a plan under way, a cluster with a task) and drive each, one drive per
 * key at a time; a drive that throws is logged and tried again at the next poll; `stop()` waits
 * for the drives under way.
 */
export interface KeyedDriverOptions {
  /** The keys with work to do now. */
  keys: () => Iterable<string>;
  drive: (key: string) => Promise<void>;
  /** A drive threw: it is tried again at the next poll. */
  failed: (key: string, err: Error) => void;
  pollMs: number;
}

export class KeyedDriver {
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: KeyedDriverOptions) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      for (const key of this.o.keys()) this.nudge(key);
      this.timer = setTimeout(tick, this.o.pollMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  /** Drives `key` now (a no-op while it is being driven, or once stopped). */
  nudge(key: string): void {
    if (this.stopped || this.busy.has(key)) return;
    this.busy.add(key);
    const work = this.o.drive(key)
      .catch((err) => this.o.failed(key, err as Error))
      .finally(() => {
        this.busy.delete(key);
        this.running.delete(work);
      });
    this.running.add(work);
  }
}
