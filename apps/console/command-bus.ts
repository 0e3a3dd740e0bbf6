/**
 * Runs commands against aggregates: read the stream's new events, fold, decide, append with
 * the expected revision. The command id makes event ids deterministic, so a retried request
 * (same Idempotency-Key) is absorbed by the store's idempotency instead of writing twice.
 *
 * One bus per process and event store (`createCommandBus`): it owns the folded states of the
 * streams it ran commands on, what each command id wrote (idempotency), and one queue per
 * stream, so commands on a stream run one at a time in this process. Other processes' appends
 * are read before deciding; one that lands between the read and the append makes the append
 * fail on its expected revision, and a command sent without If-Match is then decided again on
 * the fresh state.
 */
import { createHash } from 'node:crypto';
import { DomainError, type Decider } from '../../domain/decider.ts';
import type { DomainEvent, NewEvent } from '../../domain/events.ts';
import { eventIdFor } from '../../domain/event-ids.ts';
import { WrongExpectedRevision, type EventStore } from '../../adapters/eventstore/port.ts';
import { KeyedSerial } from '../projector/serial.ts';
import { FoldedStreams, type Folded } from './folded-streams.ts';

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

/** A stream as the next step of a workflow sees it, and what this request wrote to it before. */
export interface StreamSnapshot<S> {
  state: S;
  revision: number;
  position: number;
  /** The events carrying this command id (any earlier attempt with the same key included), oldest first. */
  wrote: readonly { type: string; position: number }[];
}

export interface CommandBusOptions {
  store: EventStore;
  /** Streams whose folded state is kept, per decider (default 5 000). */
  cacheLimit?: number;
  /** Decisions one command makes at most when other processes keep appending first (default 10). */
  maxAttempts?: number;
}

export interface CommandBus {
  readonly store: EventStore;
  /**
   * Decides `command` on the stream's current state and appends what it decided. With
   * `meta.expectedRevision` (If-Match) a stream at another revision is WrongExpectedRevision;
   * without, another process's append in between is absorbed by deciding again.
   * `step` numbers the commands of one request (a workflow), which need distinct event ids.
   */
  execute<C, S>(stream: string, decider: Decider<C, DomainEvent, S>, command: C, meta: CommandMeta, step?: number): Promise<CommandOutcome>;
  /** The current state of an aggregate, as the next command on its stream would see it. */
  state<C, S>(stream: string, decider: Decider<C, DomainEvent, S>): Promise<S>;
  /** Reads a stream's new events (another console's too) and returns its state, for a workflow to plan on. */
  snapshot<C, S>(stream: string, decider: Decider<C, DomainEvent, S>, meta: CommandMeta): Promise<StreamSnapshot<S>>;
  /**
   * Appends one workflow step: the command is decided on the stream's state at `expected`, the
   * revision the step was planned at, and appended only if the stream is still there; otherwise
   * WrongExpectedRevision, and the workflow plans again from a fresh read. `index` makes the
   * step's event ids (the same step planned at the same revision gets the same ids, so a
   * retried request that meets its own earlier append is answered by the store's idempotency).
   */
  appendStep<C, S>(stream: string, decider: Decider<C, DomainEvent, S>, command: C, expected: number, meta: CommandMeta, index: (i: number) => number): Promise<CommandOutcome>;
  /**
   * Runs `work` after all earlier work queued under the same key has finished. Keys: a stream
   * id for single commands; `workflow:<First>` for the service-tree workflows.
   */
  inOrder<T>(key: string, work: () => Promise<T>): Promise<T>;
}

export function createCommandBus(options: CommandBusOptions): CommandBus {
  return new StreamCommandBus(options.store, options.cacheLimit ?? 5000, options.maxAttempts ?? 10);
}

function fingerprint(command: unknown): string {
  return createHash('sha256').update(JSON.stringify(command)).digest('base64url');
}

const reusedKey = (commandId: string) => new DomainError('conflict', `Idempotency-Key ${commandId} was used for a different request: send a new key`);

class StreamCommandBus implements CommandBus {
  private readonly folded: FoldedStreams;
  private readonly queues = new KeyedSerial();

  constructor(readonly store: EventStore, cacheLimit: number, private readonly maxAttempts: number) {
    this.folded = new FoldedStreams(store, cacheLimit);
  }

  inOrder<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.queues.run(key, work);
  }

  state<C, S>(stream: string, decider: Decider<C, DomainEvent, S>): Promise<S> {
    return this.inOrder(stream, async () => (await this.folded.caughtUp(stream, decider)).state);
  }

  execute<C, S>(stream: string, decider: Decider<C, DomainEvent, S>, command: C, meta: CommandMeta, step = 0): Promise<CommandOutcome> {
    return this.inOrder(stream, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.decideAndAppend(stream, decider, command, meta, step);
        } catch (err) {
          // Another process appended first. Without If-Match the caller wants the newest state: decide on it again.
          if (!(err instanceof WrongExpectedRevision) || meta.expectedRevision !== undefined || attempt >= this.maxAttempts) throw err;
        }
      }
    });
  }

  snapshot<C, S>(stream: string, decider: Decider<C, DomainEvent, S>, meta: CommandMeta): Promise<StreamSnapshot<S>> {
    return this.inOrder(stream, async () => {
      const folded = await this.folded.caughtUp(stream, decider);
      const known = folded.commands.get(meta.commandId);
      if (known && known.actor !== meta.actor) throw reusedKey(meta.commandId);
      return { state: folded.state, revision: folded.revision, position: folded.position, wrote: known?.eventTypes.map((type, i) => ({ type, position: known.positions[i]! })) ?? [] };
    });
  }

  appendStep<C, S>(
    stream: string, decider: Decider<C, DomainEvent, S>, command: C, expected: number, meta: CommandMeta, index: (i: number) => number,
  ): Promise<CommandOutcome> {
    return this.inOrder(stream, async () => {
      const folded = await this.folded.caughtUp(stream, decider);
      if (folded.revision !== expected) throw new WrongExpectedRevision(stream, expected < 0 ? 'no_stream' : expected, folded.revision < 0 ? 'no_stream' : folded.revision);
      const decided = decider.decide(command, folded.state);
      if (decided.length === 0) return { stream, revision: expected, position: 0, eventTypes: [] };
      return this.appendDecided(stream, decider, folded, command, decided, meta, index);
    });
  }

  /** One attempt of `execute`. Call inside the stream's queue. */
  private async decideAndAppend<C, S>(stream: string, decider: Decider<C, DomainEvent, S>, command: C, meta: CommandMeta, step: number): Promise<CommandOutcome> {
    const folded = await this.folded.caughtUp(stream, decider);
    const current = folded.revision;
    // A retried request (same command id) finds its events already stored: answer as before.
    const already = folded.commands.get(meta.commandId);
    if (already) {
      if (already.actor !== meta.actor || (already.fingerprint && already.fingerprint !== fingerprint(command))) throw reusedKey(meta.commandId);
      return { stream, revision: current, position: already.position, eventTypes: already.eventTypes };
    }
    if (meta.expectedRevision !== undefined && meta.expectedRevision !== current) {
      // Checked here too so the client learns of a stale view even when the command decides nothing.
      throw new WrongExpectedRevision(stream, meta.expectedRevision, current < 0 ? 'no_stream' : current);
    }
    const decided = decider.decide(command, folded.state);
    if (decided.length === 0) return { stream, revision: current, position: 0, eventTypes: [] };
    return this.appendDecided(stream, decider, folded, command, decided, meta, (i) => step * 1000 + i);
  }

  /**
   * Appends decided events at the folded revision and keeps the cache in step. Call inside the
   * stream's queue. A failed append leaves the folded state as it was (still true at its
   * revision): the next read brings it up to date with whatever the store holds.
   */
  private async appendDecided<C, S>(
    stream: string, decider: Decider<C, DomainEvent, S>, folded: Folded<S>, command: C, decided: DomainEvent[], meta: CommandMeta, index: (i: number) => number,
  ): Promise<CommandOutcome> {
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
    const r = await this.store.append(stream, current < 0 ? 'no_stream' : current, events);
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
      this.folded.forget(stream, decider); // the store answered an earlier append of the same ids: read the stream again next time
    }
    return { stream, revision: r.nextRevision, position: r.position, eventTypes };
  }
}
