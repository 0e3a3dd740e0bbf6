/**
 * The append rules every embedded store applies the same way: what a valid batch is, when a
 * batch is a retry of one already stored, and whether the stream is where the writer expects.
 */
import type { NewEvent } from '../../domain/events.ts';
import { WrongExpectedRevision, type AppendResult, type ExpectedRevision } from './port.ts';

/** Where an already stored event sits. */
export interface StoredAt {
  stream: string;
  revision: number;
  position: number;
}

/** Some events of a batch are stored already and some are not: neither a retry nor new work. */
export class EventIdsAlreadyStored extends Error {
  constructor(readonly stream: string, readonly storedIds: string[], detail: string) {
    super(`cannot append to ${stream}: event ids ${storedIds.join(', ')} ${detail}; a retried command must resend exactly the events it sent, and new events need new ids (eventIdFor with a new command id)`);
    this.name = 'EventIdsAlreadyStored';
  }
}

export function assertAppendable(stream: string, events: readonly NewEvent[]): void {
  if (!stream) throw new Error('cannot append to a stream with an empty name: build stream ids with domain/streams.ts');
  const seen = new Set<string>();
  for (const e of events) {
    if (!e.id) throw new Error(`an event of type ${e.type} for ${stream} has no id: give it one with eventIdFor(commandId, index)`);
    if (seen.has(e.id)) throw new Error(`event id ${e.id} appears twice in one append to ${stream}: give each event its own index in eventIdFor`);
    seen.add(e.id);
    if (Number.isNaN(Date.parse(e.occurredAt))) {
      throw new Error(`event ${e.id} (${e.type}) has occurredAt "${e.occurredAt}", which is not an ISO-8601 time: use new Date(ms).toISOString()`);
    }
  }
}

/**
 * The result of the earlier append when every event is stored in `stream` already (a retried
 * command), or null when none is. A partial overlap is refused.
 */
export function earlierResult(stream: string, events: readonly NewEvent[], find: (id: string) => StoredAt | undefined): AppendResult | null {
  const found = events.map((e) => find(e.id));
  const stored = found.filter((s): s is StoredAt => s !== undefined);
  if (stored.length === 0) return null;
  const storedIds = events.filter((_, i) => found[i]).map((e) => e.id);
  const elsewhere = stored.find((s) => s.stream !== stream);
  if (elsewhere) throw new EventIdsAlreadyStored(stream, storedIds, `are already stored, in stream ${elsewhere.stream}`);
  if (stored.length < events.length) throw new EventIdsAlreadyStored(stream, storedIds, 'are already stored while the other events of the batch are new');
  const last = stored[stored.length - 1]!;
  return { nextRevision: last.revision, position: last.position };
}

/** `current` is the stream's last revision, undefined when the stream has no event. */
export function checkExpectedRevision(stream: string, expected: ExpectedRevision, current: number | undefined): void {
  const ok = expected === 'any' || (expected === 'no_stream' ? current === undefined : current === expected);
  if (!ok) throw new WrongExpectedRevision(stream, expected, current ?? 'no_stream');
}
