/**
 * Runs a command against one aggregate: read its stream, fold, decide, append with the
 * expected revision. The command id makes event ids deterministic, so a retried request
 * (same Idempotency-Key) is absorbed by the store's idempotency instead of writing twice.
 */
import { createHash } from 'node:crypto';
import { DomainError, type Decider } from '../../domain/decider.ts';
import type { DomainEvent, NewEvent } from '../../domain/events.ts';
import { eventIdFor } from '../../domain/event-ids.ts';
import { WrongExpectedRevision, type EventStore } from '../../adapters/eventstore/port.ts';
import { isKnownEventType } from '../../schemas/codec.ts';
import { KeyedSerial } from '../projector/serial.ts';

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
  /** Types of the events the command wrote (on a retry: the ones the first attempt wrote). */
  eventTypes: string[];
}

/**
 * Folded state per (decider, stream), so a command reads only the events appended since the
 * last one instead of the whole stream. Commands on one stream run one at a time in this
 * process (`inOrder`); another process's appends are read before deciding, and a conflict at
 * append drops the entry.
 */
interface Folded<S> {
  revision: number;
  state: S;
  /** Every command id seen on this stream and what it wrote, so any retry answers the same. */
  commands: Map<string, RememberedCommand>;
}

interface RememberedCommand {
  position: number;
  actor: string;
  eventTypes: string[];
  /** Hash of the command, known for commands decided by this process: a reused key with another request is refused. */
  fingerprint?: string;
}

function fingerprint(command: unknown): string {
  return createHash('sha256').update(JSON.stringify(command)).digest('base64url');
}

const cacheLimit = 5000;
const caches = new WeakMap<EventStore, Map<unknown, Map<string, Folded<unknown>>>>();
const queues = new WeakMap<EventStore, KeyedSerial>();

function foldedFor<S>(store: EventStore, decider: unknown): Map<string, Folded<S>> {
  let byDecider = caches.get(store);
  if (!byDecider) caches.set(store, (byDecider = new Map()));
  let byStream = byDecider.get(decider);
  if (!byStream) byDecider.set(decider, (byStream = new Map()));
  return byStream as Map<string, Folded<S>>;
}

/**
 * Runs `work` after all earlier work queued under the same key (for this store) has finished.
 * Keys: a stream id for single commands; `workflow:<First>` for the service-tree workflows.
 */
export function inOrder<T>(store: EventStore, key: string, work: () => Promise<T>): Promise<T> {
  let byKey = queues.get(store);
  if (!byKey) queues.set(store, (byKey = new KeyedSerial()));
  return byKey.run(key, work);
}

/** Brings the folded state of a stream up to date with the store. Call inside `inOrder(store, stream, …)`. */
async function caughtUp<C, S>(store: EventStore, stream: string, decider: Decider<C, DomainEvent, S>): Promise<Folded<S>> {
  const cache = foldedFor<S>(store, decider);
  let folded = cache.get(stream);
  const fresh = await store.readStream(stream, folded ? folded.revision + 1 : 0);
  const unknown = fresh.find((e) => !isKnownEventType(e.type));
  if (unknown) {
    throw new Error(`stream ${stream} holds a ${unknown.type} event (position ${unknown.position}) that this msec build does not know: run a newer msec`);
  }
  if (!folded) folded = { revision: -1, state: decider.initialState(), commands: new Map() };
  for (const e of fresh) {
    folded.state = decider.evolve(folded.state, e);
    folded.revision = e.revision;
    const known = folded.commands.get(e.correlationId);
    folded.commands.set(e.correlationId, { position: e.position, actor: e.actor, eventTypes: [...(known?.eventTypes ?? []), e.type] });
  }
  cache.delete(stream); // re-inserted last: the Map's order is least recently used first
  cache.set(stream, folded);
  for (const oldest of cache.keys()) {
    if (cache.size <= cacheLimit) break;
    cache.delete(oldest);
  }
  return folded;
}

/** The current state of an aggregate, as the next command on its stream would see it. */
export function currentState<C, S>(store: EventStore, stream: string, decider: Decider<C, DomainEvent, S>): Promise<S> {
  return inOrder(store, stream, async () => (await caughtUp(store, stream, decider)).state);
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
  return inOrder(store, stream, async () => {
    const cache = foldedFor<S>(store, decider);
    const folded = await caughtUp(store, stream, decider);
    const current = folded.revision;
    // A retried request (same command id) finds its events already stored: answer as before.
    const already = folded.commands.get(meta.commandId);
    if (already) {
      if (already.actor !== meta.actor || (already.fingerprint && already.fingerprint !== fingerprint(command))) {
        throw new DomainError('conflict', `Idempotency-Key ${meta.commandId} was used for a different request: send a new key`);
      }
      return { stream, revision: current, position: already.position, eventTypes: already.eventTypes };
    }
    if (meta.expectedRevision !== undefined && meta.expectedRevision !== current) {
      // Checked here too so the client learns of a stale view even when the command decides nothing.
      throw new WrongExpectedRevision(stream, meta.expectedRevision, current < 0 ? 'no_stream' : current);
    }

    const decided = decider.decide(command, folded.state);
    if (decided.length === 0) return { stream, revision: current, position: 0, eventTypes: [] };
    const occurredAt = new Date(meta.at).toISOString();
    const events: NewEvent[] = decided.map((e, i) => ({
      ...e,
      id: eventIdFor(meta.commandId, step * 1000 + i),
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
    const eventTypes = decided.map((e) => e.type);
    if (r.nextRevision === current + events.length) {
      // Fold our own events so the next command needs no read.
      for (const e of decided) folded.state = decider.evolve(folded.state, e);
      folded.revision = r.nextRevision;
      folded.commands.set(meta.commandId, { position: r.position, actor: meta.actor, eventTypes, fingerprint: fingerprint(command) });
    } else {
      cache.delete(stream); // the store answered an earlier append of the same ids: re-read next time
    }
    return { stream, revision: r.nextRevision, position: r.position, eventTypes };
  });
}
