/**
 * Runs a command against one aggregate: read its stream, fold, decide, append with the
 * expected revision. The command id makes event ids deterministic, so a retried request
 * (same Idempotency-Key) is absorbed by the store's idempotency instead of writing twice.
 */
import type { Decider } from '../../domain/decider.ts';
import type { DomainEvent, NewEvent } from '../../domain/events.ts';
import { eventIdFor } from '../../domain/event-ids.ts';
import { WrongExpectedRevision, type EventStore, type ExpectedRevision } from '../../adapters/eventstore/port.ts';

/** Who asks, why, and under which command id. */
export interface CommandMeta {
  commandId: string;
  actor: string;
  reason: string;
  /** Time of the command (ms); part of the event ids and the events' occurred-at. */
  at: number;
  /** Expected revision from the client's If-Match header, when given. */
  expectedRevision?: number;
}

export interface CommandOutcome {
  stream: string;
  /** Stream revision after the command (-1 when the stream still does not exist). */
  revision: number;
  /** Global position of the last event written, 0 when the command decided nothing. */
  position: number;
  events: DomainEvent[];
}

export async function executeCommand<C, S>(
  store: EventStore,
  stream: string,
  decider: Decider<C, DomainEvent, S>,
  command: C,
  meta: CommandMeta,
  /** Several commands of one request (a workflow step) need distinct event ids. */
  step = 0,
): Promise<CommandOutcome> {
  const past = await store.readStream(stream);
  const current = past.length ? past[past.length - 1]!.revision : -1;
  if (meta.expectedRevision !== undefined && step === 0 && meta.expectedRevision !== current) {
    // Checked here too so the client learns of a stale view even when the command decides nothing.
    throw new WrongExpectedRevision(stream, meta.expectedRevision, current < 0 ? 'no_stream' : current);
  }
  // A retried request (same command id) finds its events already stored: answer as before.
  const already = past.filter((e) => e.correlationId === meta.commandId);
  if (already.length) {
    const last = already[already.length - 1]!;
    return { stream, revision: current, position: last.position, events: already };
  }
  let state = decider.initialState();
  for (const e of past) state = decider.evolve(state, e);
  const decided = decider.decide(command, state);
  if (decided.length === 0) return { stream, revision: current, position: 0, events: [] };
  const occurredAt = new Date(meta.at).toISOString();
  const events: NewEvent[] = decided.map((e, i) => ({
    ...e,
    id: eventIdFor(meta.commandId, step * 1000 + i, meta.at),
    occurredAt,
    actor: meta.actor,
    reason: meta.reason,
    correlationId: meta.commandId,
    causationId: meta.commandId,
  }));
  const expected: ExpectedRevision = current < 0 ? 'no_stream' : current;
  const r = await store.append(stream, expected, events);
  return { stream, revision: r.nextRevision, position: r.position, events: decided };
}

