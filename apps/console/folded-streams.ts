/**
 * The command bus's cache: the folded state of each (decider, stream) it ran commands on, and
 * what each command id wrote there, so a command reads only the events appended since the
 * last one instead of the whole stream, and a retried request is answered as the first time.
 * Least recently used streams leave first once a decider holds `limit` of them.
 */
import type { Decider } from '../../domain/decider.ts';
import type { DomainEvent, RecordedEvent } from '../../domain/events.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { isKnownEventType } from '../../schemas/codec.ts';

export interface Folded<S> {
  revision: number;
  /** Global position of the stream's last event (0 before any). */
  position: number;
  state: S;
  /** Every command id seen on this stream and what it wrote, so any retry answers the same. */
  commands: Map<string, RememberedCommand>;
}

export interface RememberedCommand {
  position: number;
  actor: string;
  eventTypes: string[];
  /** Global position of each of `eventTypes` (for events this process appended: the batch's last). */
  positions: number[];
  /** Hash of the command, known for commands decided by this process: a reused key with another request is refused. */
  fingerprint?: string;
}

export class FoldedStreams {
  private readonly byDecider = new Map<unknown, Map<string, Folded<unknown>>>();

  constructor(private readonly store: EventStore, private readonly limit: number) {}

  /**
   * Brings the folded state of a stream up to date with the store (another process's appends
   * included). The caller runs it in the stream's queue, so nothing of this process moves the
   * stream meanwhile.
   */
  async caughtUp<C, S>(stream: string, decider: Decider<C, DomainEvent, S>): Promise<Folded<S>> {
    const cache = this.cacheOf<S>(decider);
    let folded = cache.get(stream);
    const fresh = await this.store.readStream(stream, folded ? folded.revision + 1 : 0);
    const unknown = fresh.find((e) => !isKnownEventType(e.type));
    if (unknown) {
      throw new Error(`stream ${stream} holds a ${unknown.type} event (position ${unknown.position}) that this msec build does not know: run a newer msec`);
    }
    if (!folded) folded = { revision: -1, position: 0, state: decider.initialState(), commands: new Map() };
    for (const e of fresh) foldStored(folded, decider, e);
    cache.delete(stream); // re-inserted last: the Map's order is least recently used first
    cache.set(stream, folded);
    for (const oldest of cache.keys()) {
      if (cache.size <= this.limit) break;
      cache.delete(oldest);
    }
    return folded;
  }

  /** Drops a stream's entry: the next command reads it whole. */
  forget(stream: string, decider: unknown): void {
    this.byDecider.get(decider)?.delete(stream);
  }

  /** How many streams of a decider are held (for tests of the limit). */
  size(decider: unknown): number {
    return this.byDecider.get(decider)?.size ?? 0;
  }

  private cacheOf<S>(decider: unknown): Map<string, Folded<S>> {
    let byStream = this.byDecider.get(decider);
    if (!byStream) this.byDecider.set(decider, (byStream = new Map()));
    return byStream as Map<string, Folded<S>>;
  }
}

function foldStored<C, S>(folded: Folded<S>, decider: Decider<C, DomainEvent, S>, e: RecordedEvent): void {
  folded.state = decider.evolve(folded.state, e);
  folded.revision = e.revision;
  folded.position = e.position;
  const known = folded.commands.get(e.correlationId);
  folded.commands.set(e.correlationId, {
    position: e.position, actor: e.actor, eventTypes: [...(known?.eventTypes ?? []), e.type], positions: [...(known?.positions ?? []), e.position],
  });
}
