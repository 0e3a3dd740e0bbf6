import type { Logger } from 'pino';
import type { BatchHandler, Subscription } from '../../adapters/eventstore/port.ts';
import { projectionKey, type ViewStore } from '../../adapters/views/port.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import type { Projection, StoredRowContext } from '../../projections/projection.ts';
import { foldBatch } from './fold-batch.ts';
import { RowWriter } from './row-writer.ts';
import { Serial } from './serial.ts';

export interface LiveProjectionOptions {
  /**
   * State projections: the least time between two stored snapshots. A snapshot is the whole
   * read model as JSON (megabytes for a big catalog), so writing one per batch would make
   * catch-up crawl; readers never wait for it, they read the in-memory state.
   */
  snapshotIntervalMs: number;
  /**
   * A batch without any handled event changes no output; its checkpoint is still stored once
   * the stored one lags this many positions behind, so a restart does not re-read too much.
   */
  persistEvery: number;
  /** Called after the checkpoint moved. */
  onProgress(): void;
}

/**
 * One projection following the event store: its current read model and checkpoint.
 *
 * Restart safety: what is stored is always a consistent pair (output, checkpoint), written in
 * one transaction; a restart resumes from it and folds again what came after (at-least-once:
 * a state is replaced whole, rows are idempotent by event id).
 * - Row projections store rows + checkpoint before the checkpoint moves in memory, since
 *   readers query the rows from the store.
 * - State projections move in memory first (readers use that) and store a snapshot at most
 *   every `snapshotIntervalMs`, and when stopped. A crash loses only in-memory progress,
 *   which the restart folds again from the events.
 * - A row projection's context is a state kept the same way, stored under the projection's
 *   key with the position it was folded to. A restart folds the context again from there; the
 *   rows of events already stored are not written again.
 */
export class LiveProjection {
  readonly key: string;
  private current: { state: unknown; checkpoint: number } = { state: null, checkpoint: 0 };
  private storedCheckpoint = 0;
  /** Row projections: the checkpoint stored with the rows (rows up to it are in the store). */
  private rowsStoredUpTo = 0;
  private unsaved = false;
  private lastSnapshotAt = -Infinity;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private subscription: Subscription | null = null;
  private readonly serial = new Serial();
  /** Row projections with group commit: what is folded and not yet stored (see RowWriter). */
  private writer: RowWriter | null = null;
  /** With a write under way: the checkpoint of the rows stored so far, the one readers see. */
  private storedVisible = 0;
  /** Group commit: the position of the last context snapshot stored. */
  private contextSavedAt = 0;
  /** The last failure (folding a batch or storing output), cleared by the next success. */
  lastError: string | null = null;

  constructor(
    readonly projection: Projection,
    private readonly views: ViewStore,
    private readonly logger: Logger,
    private readonly options: LiveProjectionOptions,
  ) {
    this.key = projectionKey(projection.name, projection.version);
  }

  /**
   * Row projections: store rows behind the feed, several batches per write (RowWriter). Only
   * for a feed that gives back every event after the stored checkpoint when subscribed again;
   * call before the first batch.
   */
  enableGroupCommit(): void {
    if (this.projection.kind !== 'rows' || this.writer) return;
    this.writer = new RowWriter({
      write: (rows, checkpoint) => this.views.appendRows(this.key, rows, checkpoint),
      stored: (upTo, context) => this.rowsStored(upTo, context),
      failed: (err, retryInMs) => this.fail(err, `storing rows after position ${this.checkpoint}; retrying in ${retryInMs} ms, reads stay there`),
    });
  }

  get name(): string {
    return this.projection.name;
  }

  /** The position readers can count on: for rows stored behind the feed, what is stored. */
  get checkpoint(): number {
    return this.writer?.busy ? this.storedVisible : this.current.checkpoint;
  }

  get state(): unknown {
    return this.current.state;
  }

  /** Reads the stored state and checkpoint (nothing stored: initial state, position 0). */
  async load(): Promise<void> {
    const { projection } = this;
    if (projection.kind === 'state') {
      const stored = await this.views.loadState(this.key);
      this.current = stored ?? { state: projection.initialState(), checkpoint: 0 };
      this.storedCheckpoint = this.current.checkpoint;
      return;
    }
    this.rowsStoredUpTo = (await this.views.checkpoint(this.key)) ?? 0;
    this.storedCheckpoint = this.rowsStoredUpTo;
    if (!projection.context) {
      this.current = { state: null, checkpoint: this.rowsStoredUpTo };
      return;
    }
    // The context resumes from its snapshot (from position 0 without one): the events from
    // there to the rows' checkpoint fold the context only.
    const stored = (await this.views.loadState<StoredRowContext>(this.key))?.state;
    const usable = stored && typeof stored.at === 'number' && stored.at <= this.rowsStoredUpTo;
    this.current = usable ? { state: stored.context, checkpoint: stored.at } : { state: projection.context.initialState(), checkpoint: 0 };
    this.contextSavedAt = this.current.checkpoint;
  }

  follow(events: { subscribeAll(after: number, handler: BatchHandler): Subscription }): void {
    // From what is folded: rows still on their way to the store are not read again.
    const after = this.current.checkpoint;
    this.logger.info({ projection: this.key, checkpoint: after }, `projection ${this.key} follows the event feed after position ${after}`);
    this.subscription = events.subscribeAll(after, (batch) => this.serial.run(() => this.applyBatch(batch)));
  }

  /**
   * Folds a batch of the log, in order with the others (what it already holds is skipped).
   * Rejects when the batch could not be folded or stored: it must be delivered again.
   */
  take(batch: RecordedEvent[]): Promise<void> {
    return this.serial.run(() => this.applyBatch(batch));
  }

  /**
   * Folds a page read after position `after`, between two batches, if this projection has
   * everything up to `after` (false, doing nothing, when it has not: a page before it failed).
   * Rejects when folding or storing fails, as a subscription's batch would.
   */
  offer(page: RecordedEvent[], after: number): Promise<boolean> {
    return this.serial.run(async () => {
      if (this.current.checkpoint < after) return false;
      await this.applyBatch(page);
      return true;
    });
  }

  /** Runs `task` between two batches, every folded row stored (the switch at the end of a replay). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      await this.writer?.drained();
      return task();
    });
  }

  /** Takes over a rebuilt read model, already stored under `key` with this checkpoint. */
  adopt(state: unknown, checkpoint: number): void {
    this.current = { state, checkpoint };
    this.storedCheckpoint = checkpoint;
    this.rowsStoredUpTo = checkpoint;
    this.contextSavedAt = checkpoint;
    this.unsaved = false;
    this.lastError = null;
    this.options.onProgress();
  }

  /** Stops following and stores the last snapshot of a state projection. */
  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    const written = this.writer?.stop();
    await subscription?.close();
    await written;
    if (this.writer && this.current.checkpoint === this.rowsStoredUpTo) await this.saveContext(this.current.checkpoint, this.current.state);
    this.clearSnapshotTimer();
    await this.serial.run(async () => {
      if (this.unsaved) await this.snapshot().catch(() => undefined); // reported by snapshot()
      this.clearSnapshotTimer();
    });
  }

  private async applyBatch(batch: RecordedEvent[]): Promise<void> {
    // A redelivered batch (at-least-once), or one from before a replay's switch: skip what is in.
    const fresh = batch.filter((event) => event.position > this.current.checkpoint);
    if (fresh.length === 0) return;
    const last = fresh[fresh.length - 1]!.position;
    if (this.writer) return this.queueBatch(fresh, last, this.writer);
    let folded;
    try {
      folded = foldBatch(this.projection, this.current.state, fresh);
      const due = folded.touched || last - this.storedCheckpoint >= this.options.persistEvery;
      if (due && this.projection.kind === 'rows' && last > this.rowsStoredUpTo) {
        const rows = fresh[0]!.position > this.rowsStoredUpTo ? folded.rows : folded.rows.filter((row) => row.position > this.rowsStoredUpTo);
        await this.views.appendRows(this.key, rows, last);
        this.storedCheckpoint = last;
        this.rowsStoredUpTo = last;
      }
      if (due && (this.projection.kind === 'state' || this.projection.context)) this.unsaved = true;
    } catch (err) {
      this.fail(err, `folding or storing events ${fresh[0]!.position}-${last}; the batch will be retried, reads stay at ${this.checkpoint}`);
      throw err; // the subscription retries the same batch after a delay
    }
    this.current = { state: folded.state, checkpoint: last };
    this.lastError = null;
    this.options.onProgress();
    if (this.unsaved) await this.snapshotSoon();
  }

  /** Group commit: folds the batch and queues its rows; readers move once the writer stored them. */
  private async queueBatch(fresh: RecordedEvent[], last: number, writer: RowWriter): Promise<void> {
    let folded;
    try {
      folded = foldBatch(this.projection, this.current.state, fresh);
    } catch (err) {
      this.fail(err, `folding events ${fresh[0]!.position}-${last}; the batch will be retried, reads stay at ${this.checkpoint}`);
      throw err;
    }
    const due = folded.touched || last - this.storedCheckpoint >= this.options.persistEvery;
    if (!writer.busy) this.storedVisible = this.current.checkpoint;
    if (writer.busy || (due && last > this.rowsStoredUpTo)) {
      const rows = fresh[0]!.position > this.rowsStoredUpTo ? folded.rows : folded.rows.filter((row) => row.position > this.rowsStoredUpTo);
      writer.enqueue(rows, last, folded.state);
    }
    this.current = { state: folded.state, checkpoint: last };
    if (!writer.busy) this.options.onProgress();
    await writer.room();
  }

  /** The writer stored rows up to `upTo`: readers move there; the context is snapshotted when due. */
  private async rowsStored(upTo: number, context: unknown): Promise<void> {
    this.rowsStoredUpTo = Math.max(this.rowsStoredUpTo, upTo);
    this.storedCheckpoint = this.rowsStoredUpTo;
    this.storedVisible = upTo;
    this.lastError = null;
    this.options.onProgress();
    // Less often than a state (10×): a context only spares a restart a longer fold, and it can
    // be as large as the catalog (the audit's holds every host).
    if (performance.now() - this.lastSnapshotAt >= 10 * this.options.snapshotIntervalMs) await this.saveContext(upTo, context);
  }

  /** A row projection's context at a position whose rows are all stored. Never throws: a restart folds it from an older one. */
  private async saveContext(at: number, context: unknown): Promise<void> {
    if (this.projection.kind !== 'rows' || !this.projection.context || at <= this.contextSavedAt) return;
    this.lastSnapshotAt = performance.now();
    try {
      await this.views.saveState(this.key, { at, context } satisfies StoredRowContext, at);
      this.contextSavedAt = at;
    } catch (err) {
      this.fail(err, `storing the context at position ${at}; it is stored again later (a restart folds it from an older one)`);
    }
  }

  /** Stores the snapshot now if the last one is old enough, else once it is. */
  private async snapshotSoon(): Promise<void> {
    const wait = this.lastSnapshotAt + this.options.snapshotIntervalMs - performance.now();
    if (wait <= 0) {
      await this.snapshot().catch(() => this.scheduleSnapshot(this.options.snapshotIntervalMs));
    } else {
      this.scheduleSnapshot(wait);
    }
  }

  private scheduleSnapshot(delayMs: number): void {
    if (this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      void this.serial.run(() => (this.unsaved ? this.snapshotSoon() : Promise.resolve()));
    }, Math.max(1, delayMs));
    this.snapshotTimer.unref(); // a pending snapshot must not keep a finished process alive
  }

  private clearSnapshotTimer(): void {
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = null;
  }

  /** Runs inside the serial queue, so state and checkpoint are one consistent pair. */
  private async snapshot(): Promise<void> {
    const { state, checkpoint } = this.current;
    const rows = this.projection.kind === 'rows';
    // A row projection's context still behind its stored rows (folded again after a restart)
    // waits: stored now, it would move the rows' checkpoint back.
    if (rows && checkpoint < this.rowsStoredUpTo) return;
    this.lastSnapshotAt = performance.now();
    try {
      await this.views.saveState(this.key, rows ? ({ at: checkpoint, context: state } satisfies StoredRowContext) : state, checkpoint);
    } catch (err) {
      this.fail(err, `storing the snapshot at position ${checkpoint}; reads are not affected, it will be stored again later`);
      throw err;
    }
    this.storedCheckpoint = checkpoint;
    if (rows) this.rowsStoredUpTo = checkpoint;
    this.unsaved = false;
    this.lastError = null;
  }

  private fail(err: unknown, doing: string): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.logger.error({ err, projection: this.key }, `projection ${this.key} failed ${doing}`);
  }
}
