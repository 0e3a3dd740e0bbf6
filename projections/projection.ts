import type { DomainEventType, RecordedEvent } from '../domain/events.ts';

/**
 * A projection folds events into a read model. Pure: no I/O, no clock. Versioned by name so
 * a rebuild (version N+1 from position 0) can run beside version N (blue/green).
 *
 * - `state` projections fold into one JSON-serialisable document (catalog, routing, users);
 *   the runner keeps it in memory and stores it with its checkpoint after every batch.
 *   `apply` must not mutate the state it is given: it returns a new one (sharing untouched parts).
 * - `rows` projections turn each event into rows appended to a view (audit); rows carry the
 *   event id so a redelivered event writes nothing twice. One that needs to know something of
 *   the past to write a row (the audit's prior values) folds a small `context` beside its rows:
 *   `rows` gets the context as it was before the event. The runner keeps it in memory and
 *   stores it under the same key as a snapshot, as it does a state.
 */
export interface StateProjection<S> {
  kind: 'state';
  name: string;
  version: number;
  handles: readonly DomainEventType[];
  initialState(): S;
  apply(state: S, event: RecordedEvent): S;
}

export interface RowProjection<R extends { eventId: string }, C = undefined> {
  kind: 'rows';
  name: string;
  version: number;
  handles: readonly DomainEventType[];
  /** `context`: the projection's context before the event (undefined when it has none). */
  rows(event: RecordedEvent, context: C): R[];
  context?: RowContext<C>;
}

/** A small state folded beside the rows; pure, like a state projection's `apply`. */
export interface RowContext<C> {
  initialState(): C;
  apply(context: C, event: RecordedEvent): C;
}

export type Projection = StateProjection<unknown> | RowProjection<{ eventId: string }, unknown>;

/** A row projection's context as stored: the position it was folded to, beside the context. */
export interface StoredRowContext {
  at: number;
  context: unknown;
}
