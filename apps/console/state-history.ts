/**
 * Time travel: the catalog and routing read models as they were at a position of the log, or
 * at a time (the last event at or before it), folded from the log with the same pure
 * projections the console serves today. Folds start from the nearest snapshot at or before the
 * position (SnapshotLadder: one every few thousand events, bounded in number), built on the way
 * by earlier questions, so an answer reads at most one spacing of the log once the ladder is
 * built. One fold runs at a time.
 */
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { foldBatch } from '../projector/fold-batch.ts';
import { catalogProjection, type CatalogState } from '../../projections/catalog.ts';
import type { Projection } from '../../projections/projection.ts';
import { routingProjection, type RoutingState } from '../../projections/routing.ts';
import { Serial } from '../projector/serial.ts';
import { SnapshotLadder } from './snapshot-ladder.ts';

/** What `?at=` names: a position of the log, or an instant (epoch milliseconds). */
export type AtQuery = { position: number } | { timeMs: number };

/** Integers from here up are epoch milliseconds (1973-03-03), below it positions. */
export const epochMsFrom = 100_000_000_000;

/** Refuses what cannot name a point of the log, saying what would; `status` is the HTTP answer. */
export class TimeTravelRefused extends Error {
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
    this.name = 'TimeTravelRefused';
  }
}

const atHelp = 'give a position of the log (e.g. 1200), an ISO-8601 time (e.g. 2024-05-01T10:00:00Z) or epoch milliseconds';

/** Reads `?at=`: a whole number below `epochMsFrom` is a position, a larger one epoch ms, anything else an ISO-8601 time. */
export function parseAt(text: string): AtQuery {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (!Number.isSafeInteger(n)) throw new TimeTravelRefused(`at=${trimmed.slice(0, 40)} is too large: ${atHelp}`);
    return n < epochMsFrom ? { position: n } : { timeMs: n };
  }
  // Date.parse takes much more than ISO-8601 ("May 1", "1"): only a date, with an optional time and zone, is accepted.
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed);
  const ms = iso ? Date.parse(trimmed.replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) throw new TimeTravelRefused(`at=${JSON.stringify(trimmed.slice(0, 40))} is neither a position nor a time: ${atHelp}`);
  return { timeMs: ms };
}

export interface PastState {
  /** The position the state is at, and the time of its event (absent at position 0). */
  at: { position: number; time?: string };
  catalog: CatalogState;
  routing: RoutingState;
}

interface Folded {
  catalog: CatalogState;
  routing: RoutingState;
}

export interface StateHistoryOptions {
  store: Pick<EventStore, 'readAll' | 'headPosition'>;
  /** Positions between two snapshots at first (default 5 000). */
  snapshotEvery?: number;
  /** Most snapshots kept (default 24). */
  maxSnapshots?: number;
  /** Events read per page while folding (default 1 000). */
  pageSize?: number;
  /** The clock, for times in the future. */
  now?: () => number;
}

export class StateHistory {
  private readonly ladder: SnapshotLadder<Folded>;
  private readonly serial = new Serial();
  private readonly pageSize: number;
  private readonly now: () => number;

  constructor(private readonly options: StateHistoryOptions) {
    this.ladder = new SnapshotLadder<Folded>(
      { catalog: catalogProjection.initialState(), routing: routingProjection.initialState() },
      options.snapshotEvery ?? 5_000, options.maxSnapshots ?? 24);
    this.pageSize = options.pageSize ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** The read models as of `?at=` (see parseAt); refuses a point after the head or in the future. */
  async at(text: string): Promise<PastState> {
    const query = parseAt(text);
    const head = await this.options.store.headPosition();
    let position: number;
    if ('position' in query) {
      if (query.position > head) throw new TimeTravelRefused(`position ${query.position} is after the end of the log (position ${head}): nothing has happened there yet`);
      position = query.position;
    } else {
      if (query.timeMs > this.now()) throw new TimeTravelRefused(`${new Date(query.timeMs).toISOString()} is in the future: the log ends at position ${head}`);
      position = await this.lastPositionAtOrBefore(query.timeMs, head);
    }
    const folded = await this.serial.run(() => this.fold(position));
    const [event] = position > 0 ? await this.options.store.readAll(position - 1, 1) : [];
    const time = event?.position === position ? event.occurredAt : undefined;
    return { at: { position, ...(time ? { time } : {}) }, ...folded };
  }

  /** Folds from the nearest snapshot to `position`, keeping the snapshots it passes. */
  private async fold(position: number): Promise<Folded> {
    const start = this.ladder.nearest(position);
    let { catalog, routing } = start.state;
    for (let after = start.position; after < position;) {
      // Pages end on the ladder's rungs, so the states there can be kept.
      const nextRung = (Math.floor(after / this.ladder.every) + 1) * this.ladder.every;
      // A store whose positions have gaps (EventStoreDB) may answer past the limit's position.
      const page = (await this.options.store.readAll(after, Math.min(this.pageSize, position - after, nextRung - after))).filter((e) => e.position <= position);
      if (page.length === 0) break;
      catalog = foldBatch(catalogProjection as Projection, catalog, page).state as CatalogState;
      routing = foldBatch(routingProjection as Projection, routing, page).state as RoutingState;
      after = page[page.length - 1]!.position;
      this.ladder.add(after, { catalog, routing });
    }
    return { catalog, routing };
  }

  /** Binary search of the log for the last event at or before `ms` (0 when the log starts after it). */
  private async lastPositionAtOrBefore(ms: number, head: number): Promise<number> {
    let low = 0; // at or before ms
    let high = head; // candidates
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const [event] = await this.options.store.readAll(mid - 1, 1);
      if (event && Date.parse(event.occurredAt) <= ms) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}
