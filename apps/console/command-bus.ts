/**
 * Runs a command against one aggregate: read its stream, fold, decide, append with the
 * expected revision. The command id makes event ids deterministic, so a retried request
 * (same Idempotency-Key) is absorbed by the store's idempotency instead of writing twice.
 */
import type { Decider } from '../../domain/decider.ts';
import type { DomainEvent, NewEvent } from '../../domain/events.ts';
import { eventIdFor } from '../../domain/event-ids.ts';
import { WrongExpectedRevision, type EventStore } from '../../adapters/eventstore/port.ts';

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

/**
 * Folded state per (decider, stream), so a command reads only the events appended since the
 * last one instead of the whole stream. Commands on one stream run one at a time in this
 * process (a per-stream queue); another process's appends are read before deciding, and a
 * conflict at append drops the entry.
 */
interface Folded<S> {
  revision: number;
  state: S;
  /** Recent command ids of this stream and what they wrote, for idempotent retries. */
  commands: Map<string, { position: number; events: DomainEvent[] }>;
}

const cacheLimit = 5000;
const commandsRemembered = 200;
const caches = new WeakMap<EventStore, Map<unknown, Map<string, Folded<unknown>>>>();
const queues = new WeakMap<EventStore, Map<string, Promise<unknown>>>();

function foldedFor<S>(store: EventStore, decider: unknown): Map<string, Folded<S>> {
  let byDecider = caches.get(store);
  if (!byDecider) caches.set(store, (byDecider = new Map()));
  let byStream = byDecider.get(decider);
  if (!byStream) byDecider.set(decider, (byStream = new Map()));
  return byStream as Map<string, Folded<S>>;
}

/** Runs `work` after every earlier command on the same stream (of this store) has finished. */
function serialised<T>(store: EventStore, stream: string, work: () => Promise<T>): Promise<T> {
  let byStream = queues.get(store);
  if (!byStream) queues.set(store, (byStream = new Map()));
  const before = byStream.get(stream) ?? Promise.resolve();
  const run = before.then(work, work);
  const tail = run.catch(() => undefined);
  byStream.set(stream, tail);
  void tail.then(() => {
    if (byStream.get(stream) === tail) byStream.delete(stream);
  });
  return run;
}

function remember<S>(folded: Folded<S>, commandId: string, outcome: { position: number; events: DomainEvent[] }): void {
  folded.commands.set(commandId, outcome);
  for (const oldest of folded.commands.keys()) {
    if (folded.commands.size <= commandsRemembered) break;
    folded.commands.delete(oldest);
  }
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
  return serialised(store, stream, async () => {
    const cache = foldedFor<S>(store, decider);
    let folded = cache.get(stream);
    const fresh = await store.readStream(stream, folded ? folded.revision + 1 : 0);
    if (!folded) folded = { revision: -1, state: decider.initialState(), commands: new Map() };
    for (const e of fresh) {
      folded.state = decider.evolve(folded.state, e);
      folded.revision = e.revision;
      const known = folded.commands.get(e.correlationId);
      remember(folded, e.correlationId, { position: e.position, events: [...(known?.events ?? []), e] });
    }
    cache.delete(stream); // re-inserted last: the Map's order is least recently used first
    cache.set(stream, folded);
    for (const oldest of cache.keys()) {
      if (cache.size <= cacheLimit) break;
      cache.delete(oldest);
    }
    const current = folded.revision;
    if (meta.expectedRevision !== undefined && step === 0 && meta.expectedRevision !== current) {
      // Checked here too so the client learns of a stale view even when the command decides nothing.
      throw new WrongExpectedRevision(stream, meta.expectedRevision, current < 0 ? 'no_stream' : current);
    }
    // A retried request (same command id) finds its events already stored: answer as before.
    const already = folded.commands.get(meta.commandId);
    if (already) return { stream, revision: current, position: already.position, events: already.events };

    const decided = decider.decide(command, folded.state);
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
    let r;
    try {
      r = await store.append(stream, current < 0 ? 'no_stream' : current, events);
    } catch (e) {
      cache.delete(stream); // another process wrote: start from the store next time
      throw e;
    }
    // Fold our own events so the next command needs no read; idempotent retries by id
    // (r.nextRevision unchanged) simply leave the state as it was read.
    if (r.nextRevision === current + events.length) {
      for (const e of decided) folded.state = decider.evolve(folded.state, e);
      folded.revision = r.nextRevision;
      remember(folded, meta.commandId, { position: r.position, events: decided });
    } else {
      cache.delete(stream);
    }
    return { stream, revision: r.nextRevision, position: r.position, events: decided };
  });
}
