import type { ViewRow } from '../../adapters/views/port.ts';

export interface RowWriterOptions {
  /** Stores rows with their checkpoint (the view store's appendRows). */
  write(rows: readonly ViewRow[], checkpoint: number): Promise<void>;
  /** After each stored write, before the next one: `context` is the projection's context at `upTo`. */
  stored(upTo: number, context: unknown): Promise<void> | void;
  /** A write failed; it is tried again after `retryInMs`. */
  failed(err: unknown, retryInMs: number): void;
  /** Rows queued beyond which `room()` waits (default 20 000). */
  maxQueuedRows?: number;
  retryDelays?: { initialMs: number; maxMs: number };
}

/**
 * Group commit for a row projection whose feed gives back everything after the stored
 * checkpoint when subscribed again (the event store; the bus feed that catches up from the
 * store): its batches are folded and queued at once, and one write at a time stores everything
 * queued, rows and checkpoint together. While a write is on its way (ClickHouse takes 20–30 ms
 * per INSERT whatever its size), the next batches gather, so writes grow with the load instead
 * of one per batch.
 *
 * Nothing is acknowledged that a crash could lose for good: the checkpoint readers see moves
 * only when a write is stored, and after a crash the feed brings back every event after the
 * stored checkpoint. A failing write is tried again, alone, with backoff, while batches keep
 * queueing up to `maxQueuedRows`; then `room()` holds the feed back.
 */
export class RowWriter {
  private rows: ViewRow[] = [];
  private upTo = 0;
  private context: unknown = null;
  private queued = false;
  private running: Promise<void> | null = null;
  private stopping = false;
  /** Cuts a retry's pause short (stop() is not kept waiting for it). */
  private wake: (() => void) | null = null;
  private readonly waiting: (() => void)[] = [];
  private readonly maxQueuedRows: number;
  private readonly delays: { initialMs: number; maxMs: number };

  constructor(private readonly options: RowWriterOptions) {
    this.maxQueuedRows = options.maxQueuedRows ?? 20_000;
    this.delays = options.retryDelays ?? { initialMs: 100, maxMs: 5_000 };
  }

  /** Whether rows or a checkpoint are waiting to be stored or on their way. */
  get busy(): boolean {
    return this.queued || this.running !== null;
  }

  /** Queues rows (possibly none) to be stored with `checkpoint`, the context there beside them. */
  enqueue(rows: readonly ViewRow[], checkpoint: number, context: unknown): void {
    for (const row of rows) this.rows.push(row);
    this.upTo = checkpoint;
    this.context = context;
    this.queued = true;
    this.running ??= this.run();
  }

  /** Resolves once fewer than `maxQueuedRows` rows wait (at once when they do). */
  room(): Promise<void> {
    if (this.rows.length < this.maxQueuedRows) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Resolves once everything queued is stored. */
  async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  /** One last try for what is queued; what still fails is dropped (the feed brings it back after a restart). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.release(); // a feed held back by room() goes on, so its subscription can close
    this.wake?.();
    await this.drained();
    this.stopping = false;
  }

  private async run(): Promise<void> {
    let delay = this.delays.initialMs;
    while (this.queued) {
      const rows = this.rows;
      const upTo = this.upTo;
      const context = this.context;
      this.rows = [];
      this.queued = false;
      this.release();
      try {
        await this.options.write(rows, upTo);
        await this.options.stored(upTo, context);
        delay = this.delays.initialMs;
      } catch (err) {
        if (this.stopping) {
          this.rows = [];
          this.queued = false;
          break;
        }
        this.options.failed(err, delay);
        this.rows = rows.concat(this.rows); // tried again first, with what came meanwhile
        this.queued = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
        delay = Math.min(delay * 2, this.delays.maxMs);
      }
    }
    this.running = null;
    this.release();
  }

  private release(): void {
    if (this.rows.length >= this.maxQueuedRows && !this.stopping) return;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}
