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
 * process (`inOrder`); another process's appends are read before deciding (every command and
 * every workflow step reads the stream's tail first), and a conflict at append drops the entry.
 */
interface Folded<S> {
  revision: number;
  /** Global position of the stream's last event (0 before any). */
  position: number;
  state: S;
  /** Every command id seen on this stream and what it wrote, so any retry answers the same. */
  commands: Map<string, RememberedCommand>;
}

interface RememberedCommand {
  position: number;
  actor: string;
  eventTypes: string[];
  /** Global position of each of `eventTypes` (for events this process appended: the batch's last). */
  positions: number[];
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
  if (!folded) folded = { revision: -1, position: 0, state: decider.initialState(), commands: new Map() };
  for (const e of fresh) {
    folded.state = decider.evolve(folded.state, e);
    folded.revision = e.revision;
    folded.position = e.position;
    const known = folded.commands.get(e.correlationId);
    folded.commands.set(e.correlationId, {
      position: e.position, actor: e.actor, eventTypes: [...(known?.eventTypes ?? []), e.type], positions: [...(known?.positions ?? []), e.position],
    });
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
    return appendDecided(store, stream, decider, folded, command, decided, meta, (i) => step * 1000 + i);
  });
}

/** A stream as the next step of a workflow sees it, and what this request wrote to it before. */
export interface StreamSnapshot<S> {
  state: S;
  revision: number;
  position: number;
  /** The events carrying this command id (any earlier attempt with the same key included), oldest first. */
  wrote: readonly { type: string; position: number }[];
}

/** Reads a stream's new events (another console's too) and returns its state, for a workflow to plan on. */
export function streamSnapshot<C, S>(store: EventStore, stream: string, decider: Decider<C, DomainEvent, S>, meta: CommandMeta): Promise<StreamSnapshot<S>> {
  return inOrder(store, stream, async () => {
    const folded = await caughtUp(store, stream, decider);
    const known = folded.commands.get(meta.commandId);
    if (known && known.actor !== meta.actor) {
      throw new DomainError('conflict', `Idempotency-Key ${meta.commandId} was used for a different request: send a new key`);
    }
    return { state: folded.state, revision: folded.revision, position: folded.position, wrote: known?.eventTypes.map((type, i) => ({ type, position: known.positions[i]! })) ?? [] };
  });
}

/**
 * Appends one workflow step: the command is decided on the stream's state at `expected`, the
 * revision the step was planned at, and appended only if the stream is still there; otherwise
 * WrongExpectedRevision, and the workflow plans again from a fresh read. `index` makes the
 * step's event ids (the same step planned at the same revision gets the same ids, so a
 * retried request that meets its own earlier append is answered by the store's idempotency).
 */
export async function appendStep<C, S>(
  store: EventStore, stream: string, decider: Decider<C, DomainEvent, S>, command: C, expected: number, meta: CommandMeta,
  index: (i: number) => number,
): Promise<CommandOutcome> {
  return inOrder(store, stream, async () => {
    const folded = await caughtUp(store, stream, decider);
    if (folded.revision !== expected) throw new WrongExpectedRevision(stream, expected < 0 ? 'no_stream' : expected, folded.revision < 0 ? 'no_stream' : folded.revision);
    const decided = decider.decide(command, folded.state);
    if (decided.length === 0) return { stream, revision: expected, position: 0, eventTypes: [] };
    return appendDecided(store, stream, decider, folded, command, decided, meta, index);
  });
}

/** Appends decided events at the folded revision and keeps the cache in step. Call inside `inOrder(store, stream, …)`. */
async function appendDecided<C, S>(
  store: EventStore, stream: string, decider: Decider<C, DomainEvent, S>, folded: Folded<S>, command: C, decided: DomainEvent[],
  meta: CommandMeta, index: (i: number) => number,
): Promise<CommandOutcome> {
  const cache = foldedFor<S>(store, decider);
  const current = folded.revision;
  const occurredAt = new Date(meta.at).toISOString();
  const events: NewEvent[] = decided.map((e, i) => ({
    ...e,
    id: eventIdFor(meta.commandId, index(i)),
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
    folded.position = r.position;
    const known = folded.commands.get(meta.commandId);
    folded.commands.set(meta.commandId, {
      position: r.position, actor: meta.actor, eventTypes: [...(known?.eventTypes ?? []), ...eventTypes],
      positions: [...(known?.positions ?? []), ...eventTypes.map(() => r.position)], fingerprint: known ? undefined : fingerprint(command),
    });
  } else {
    cache.delete(stream); // the store answered an earlier append of the same ids: re-read next time
  }
  return { stream, revision: r.nextRevision, position: r.position, eventTypes };
}
