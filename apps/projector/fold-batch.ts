import type { ViewRow } from '../../adapters/views/port.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import type { Projection } from '../../projections/projection.ts';

export interface FoldedBatch {
  /** The new state (state projections), or context (row projections; null without one). */
  state: unknown;
  /** Rows to append (row projections). */
  rows: ViewRow[];
  /** Whether any event of the batch was one the projection handles. */
  touched: boolean;
}

/**
 * Feeds a batch to a projection, the same way live and during a rebuild: events of types it
 * does not handle are skipped (the caller still moves the checkpoint over them). Rows get the
 * event's position when the projection did not set one, since the store orders and pages by it.
 * A row projection's context is given to `rows` as it was before each event, then moved on.
 */
export function foldBatch(projection: Projection, state: unknown, events: readonly RecordedEvent[]): FoldedBatch {
  const handles = handledTypes(projection);
  const handled = events.filter((event) => handles.has(event.type));
  if (projection.kind === 'state') {
    let next = state;
    for (const event of handled) next = projection.apply(next, event);
    return { state: next, rows: [], touched: handled.length > 0 };
  }
  const { context } = projection;
  let before = context ? state : undefined;
  const rows: ViewRow[] = [];
  for (const event of handled) {
    for (const row of projection.rows(event, before)) {
      const position = (row as { position?: unknown }).position;
      rows.push(typeof position === 'number' ? (row as ViewRow) : { ...row, position: event.position });
    }
    if (context) before = context.apply(before, event);
  }
  return { state: context ? before : null, rows, touched: handled.length > 0 };
}

/** `handles` as a Set, made once per projection: every event of a replay is looked up in it. */
const handledSets = new WeakMap<Projection, ReadonlySet<string>>();

function handledTypes(projection: Projection): ReadonlySet<string> {
  let set = handledSets.get(projection);
  if (!set) handledSets.set(projection, (set = new Set<string>(projection.handles)));
  return set;
}
