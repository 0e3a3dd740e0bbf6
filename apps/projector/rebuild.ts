import type { EventStore } from '../../adapters/eventstore/port.ts';
import type { ViewStore } from '../../adapters/views/port.ts';
import type { Projection, StoredRowContext } from '../../projections/projection.ts';
import { RowsDigest, stateDigest } from './digest.ts';
import { foldBatch } from './fold-batch.ts';

/**
 * A fresh copy of a projection built from position 0 under its own key (blue/green), beside
 * the live one that keeps serving. Reads the event store page by page, not through a
 * subscription, so it stops exactly where it is told.
 */
export class RebuildCopy {
  private state: unknown;
  private position = 0;
  /** Events read so far (all types, handled or not). */
  eventsRead = 0;

  constructor(
    private readonly projection: Projection,
    private readonly views: ViewStore,
    readonly key: string,
    private readonly pageSize: number,
  ) {
    this.state = projection.kind === 'state' ? projection.initialState() : projection.context?.initialState() ?? null;
  }

  get builtState(): unknown {
    return this.state;
  }

  /** Forgets whatever an interrupted earlier rebuild left under the key. */
  async reset(): Promise<void> {
    await this.views.drop(this.key);
  }

  /** Folds every event after the copy's position up to and including `target`. */
  async readUpTo(events: EventStore, target: number): Promise<void> {
    while (this.position < target) {
      const page = await events.readAll(this.position, Math.min(this.pageSize, target - this.position));
      if (page.length === 0) throw new Error(`the event store ended at position ${this.position}, before ${target}: was it replaced while replaying?`);
      const last = page[page.length - 1]!.position;
      const folded = foldBatch(this.projection, this.state, page);
      if (this.projection.kind === 'rows' && folded.rows.length > 0) await this.views.appendRows(this.key, folded.rows, last);
      this.state = folded.state;
      this.position = last;
      this.eventsRead += page.length;
    }
  }

  /** Stores the copy's output (and a row projection's context) with its checkpoint, ready to be promoted. */
  async store(checkpoint: number): Promise<void> {
    if (this.projection.kind === 'state') return this.views.saveState(this.key, this.state, checkpoint);
    await this.views.appendRows(this.key, [], checkpoint);
    if (this.projection.context) await this.views.saveState(this.key, { at: checkpoint, context: this.state } satisfies StoredRowContext, checkpoint);
  }

  digest(): Promise<string> {
    return digestOf(this.projection, this.views, this.key, this.state, this.pageSize);
  }
}

/** The digest of a read model: its state, or its rows in position order. */
export async function digestOf(projection: Projection, views: ViewStore, key: string, state: unknown, pageSize: number): Promise<string> {
  if (projection.kind === 'state') return stateDigest(state);
  const digest = new RowsDigest();
  for (let after = 0; ;) {
    const page = await views.scanRows(key, after, pageSize);
    if (page.length === 0) return digest.digest();
    digest.add(page);
    after = page[page.length - 1]!.position;
  }
}
