/**
 * Where projections keep their output (design.md, Projections): a state document or rows,
 * always written in one transaction with the checkpoint (the global position of the last
 * event folded in), so a crash never leaves output and checkpoint disagreeing.
 *
 * A projection key is `${name}_v${version}`, plus a suffix for a rebuild copy
 * (`catalog_v1_rebuild`); see `projectionKey`.
 */
export interface ViewStore {
  /** The stored state and its checkpoint; null when nothing was ever saved under the key. */
  loadState<S = unknown>(projectionKey: string): Promise<{ state: S; checkpoint: number } | null>;
  /** Replaces the state and the checkpoint together (JSON-serialisable state). */
  saveState(projectionKey: string, state: unknown, checkpoint: number): Promise<void>;
  /**
   * Appends rows and sets the checkpoint, together. Idempotent by event: a row whose event is
   * already stored under the key is skipped (a redelivered event writes nothing). An event has
   * one id and one position, so a store may recognise it by either (SQLite keys rows by position).
   */
  appendRows(projectionKey: string, rows: readonly ViewRow[], checkpoint: number): Promise<void>;
  /** Rows matching `filter`, newest (highest position) first. */
  queryRows(projectionKey: string, filter?: RowFilter): Promise<ViewRow[]>;
  /** Rows with position > `afterPosition`, oldest first, at most `limit`: for digests and copies. */
  scanRows(projectionKey: string, afterPosition: number, limit: number): Promise<ViewRow[]>;
  /** The stored checkpoint; null when nothing was ever saved under the key. */
  checkpoint(projectionKey: string): Promise<number | null>;
  /**
   * Blue/green switch: `target` takes the content and checkpoint of `source` (replacing its
   * own, atomically) and `source` is left empty.
   */
  promote(sourceKey: string, targetKey: string): Promise<void>;
  /** Forgets everything under the key (state, rows, checkpoint). */
  drop(projectionKey: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A row of a row projection. One row per event and projection (the event, by its id or its
 * position, is the row's identity). The optional fields are the ones `RowFilter` filters on; the audit rows carry
 * them all. The whole row, whatever else it holds (an audit row's summary…), is stored as
 * JSON and comes back from the queries as it was given.
 */
export interface ViewRow {
  eventId: string;
  position: number;
  /** ISO-8601 UTC, as the events' occurredAt. */
  time?: string;
  actor?: string;
  stream?: string;
  type?: string;
}

export interface RowFilter {
  stream?: string;
  actor?: string;
  type?: string;
  /** ISO-8601 instant, inclusive: rows at or after it. */
  since?: string;
  /** ISO-8601 instant, exclusive: rows strictly before it. */
  until?: string;
  /** Rows with position < before (paging backwards: pass the last position you received). */
  before?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

export const defaultRowLimit = 100;
export const maxRowLimit = 1000;

export function projectionKey(name: string, version: number, suffix = ''): string {
  return `${name}_v${version}${suffix}`;
}

/**
 * Normalises a filter the same way for every store: instants to the events' ISO format
 * (so "2024-05-01" and "2024-05-01T00:00:00Z" mean the same), limit clamped.
 * Throws RangeError on an instant that does not parse.
 */
export function normalizeRowFilter(filter: RowFilter = {}): RowFilter & { limit: number } {
  const instant = (text: string | undefined, what: string): string | undefined => {
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new RangeError(`${what} "${text}" is not an ISO-8601 date or time, e.g. 2024-05-01T12:00:00Z`);
    return new Date(ms).toISOString();
  };
  const wanted = Number.isFinite(filter.limit) ? Math.floor(filter.limit!) : defaultRowLimit;
  const limit = Math.min(maxRowLimit, Math.max(1, wanted));
  return { ...filter, since: instant(filter.since, 'since'), until: instant(filter.until, 'until'), limit };
}

/** What toISOString gives, for days that exist in every month (29–31 take the parse: Date rolls 02-30 over). */
const canonicalInstant = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** A row's time as a sortable ISO instant ('' when it has none), for the since/until filters. */
export function rowInstant(row: ViewRow): string {
  if (typeof row.time !== 'string') return '';
  // Events' times are already in this form: skip the parse (a replay stores 100 000s of rows).
  if (canonicalInstant.test(row.time)) return row.time;
  const ms = Date.parse(row.time);
  return Number.isNaN(ms) ? row.time : new Date(ms).toISOString();
}
