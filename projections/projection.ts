import type { DomainEventType, RecordedEvent } from '../domain/events.ts';

/**
 * A projection folds events into a read model. Pure: no I/O, no clock. Versioned by name so
 * a rebuild (version N+1 from position 0) can run beside version N (blue/green).
 *
 * - `state` projections fold into one JSON-serialisable document (catalog, routing, users);
 *   the runner keeps it in memory and stores it with its checkpoint after every batch.
 *   `apply` must not mutate the state it is given: it returns a new one (sharing untouched parts).
 * - `rows` projections turn each event into rows appended to a view (audit); rows carry the
 *   event id so a redelivered event writes nothing twice.
 */
export interface StateProjection<S> {
  kind: 'state';
  name: string;
  version: number;
  handles: readonly DomainEventType[];
  initialState(): S;
  apply(state: S, event: RecordedEvent): S;
}

export interface RowProjection<R extends { eventId: string }> {
  kind: 'rows';
  name: string;
  version: number;
  handles: readonly DomainEventType[];
  rows(event: RecordedEvent): R[];
}

export type Projection = StateProjection<unknown> | RowProjection<{ eventId: string }>;
