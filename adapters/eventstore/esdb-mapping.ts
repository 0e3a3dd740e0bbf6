/**
 * How msec events are stored in EventStoreDB, and back. Pure functions, no client calls.
 *
 * An msec event becomes one ESDB event:
 *   id           the event id (UUIDv7) itself; any other id string is hashed to a UUID, so a
 *                retried append sends the same ESDB id and ESDB's dedupe by id still works
 *   type         the event type ("HostAdded")
 *   data         the protobuf payload (application/octet-stream), exactly the bytes the
 *                embedded stores keep in the envelope's `payload` field
 *   metadata     JSON: msecEnvelope (format mark), eventId, occurredAt, actor, reason,
 *                $correlationId, $causationId (ESDB's own names, so its $by_correlation_id
 *                projection works), schemaVersion
 * The stream, revision and position are ESDB's own.
 *
 * Why protobuf data and not JSON: schemas/*.proto is the source of truth, encodePayload
 * refuses a payload that does not match its schema before anything is sent, upcasters take
 * the decoded protobuf object, and reading back goes through the same decoder as the embedded
 * stores, so every adapter returns the very same RecordedEvent (defaults, int64, bytes).
 * The metadata stays JSON so who/why/when remain readable in ESDB's UI.
 */
import { createHash } from 'node:crypto';
import {
  ANY,
  ErrorType,
  NO_STREAM,
  START,
  isCommandError,
  type BinaryEventData,
  type ExpectedRevision as EsdbExpectedRevision,
  type Position,
  type ReadPosition,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import type { DomainEvent, NewEvent, RecordedEvent } from '../../domain/events.ts';
import { decodePayload, encodePayload, isKnownEventType } from '../../schemas/codec.ts';
import { currentSchemaVersion, upcast } from '../../schemas/upcasters.ts';
import { WrongExpectedRevision, type ExpectedRevision } from './port.ts';

/** Marks metadata written by this mapping; bump it when the layout changes. */
export const envelopeFormat = 1;

export type EsdbEventMetadata = {
  msecEnvelope: number;
  eventId: string;
  occurredAt: string;
  actor: string;
  reason: string;
  $correlationId: string;
  $causationId: string;
  schemaVersion: number;
};

export type EsdbEventData = BinaryEventData<{ type: string; data: Uint8Array; metadata: EsdbEventMetadata }>;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** ESDB needs a UUID: ours are UUIDv7 already; other ids get a stable name-based one (v5 layout). */
export function esdbEventId(id: string): string {
  if (uuid.test(id)) return id;
  const h = createHash('sha1').update(`msec-event-id\u0000${id}`).digest();
  h[6] = 0x50 | (h[6]! & 0x0f);
  h[8] = 0x80 | (h[8]! & 0x3f);
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const isoTime = (occurredAt: string) => new Date(Date.parse(occurredAt)).toISOString();

/** Throws (UnknownEventType, schema mismatch) before anything is sent, as the embedded stores do. */
export function toEsdbEvent(event: NewEvent): EsdbEventData {
  const metadata: EsdbEventMetadata = {
    msecEnvelope: envelopeFormat,
    eventId: event.id,
    occurredAt: isoTime(event.occurredAt),
    actor: event.actor,
    reason: event.reason,
    $correlationId: event.correlationId,
    $causationId: event.causationId,
    schemaVersion: event.schemaVersion ?? currentSchemaVersion(event.type),
  };
  return {
    id: esdbEventId(event.id),
    contentType: 'application/octet-stream',
    type: event.type,
    data: encodePayload(event.type, event.data),
    metadata,
  };
}

/** Events ESDB writes for itself ($stats, $scavenges, $metadata, links "$>", …) are no msec events. */
export const isSystemEvent = (e: { type: string; streamId: string }) => e.type.startsWith('$') || e.streamId.startsWith('$');

function msecMetadata(metadata: unknown): EsdbEventMetadata | null {
  if (!metadata || typeof metadata !== 'object' || metadata instanceof Uint8Array) return null;
  const m = metadata as Partial<EsdbEventMetadata>;
  return typeof m.msecEnvelope === 'number' && typeof m.eventId === 'string' ? (m as EsdbEventMetadata) : null;
}

/** Whether msec wrote this event (system events and other applications' events are skipped). */
export const isMsecEvent = (e: EsdbRecordedEvent) => !isSystemEvent(e) && msecMetadata(e.metadata) !== null;

const maxPosition = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The port's global position of an ESDB event: its commit position, the byte offset of its
 * record in the transaction log. Offsets only grow, with gaps, which is all the port promises.
 * Every event appended through gRPC is committed on its own record (commit == prepare); the
 * events of a legacy explicit transaction (TCP client) share one commit position and cannot be
 * told apart by a single number, so they are refused instead of being silently skipped.
 */
export function globalPosition(position: Position | undefined, what: string): number {
  if (!position) {
    throw new Error(`EventStoreDB returned no position for ${what}: msec needs EventStoreDB 22.10 or later (positions on stream reads came with 22.6)`);
  }
  if (position.commit !== position.prepare) {
    throw new Error(`${what} sits at commit ${position.commit} / prepare ${position.prepare}: it was written in an explicit transaction (legacy TCP client), whose events share one commit position; msec's event-store port needs one position per event, so it cannot read such events`);
  }
  if (position.commit <= 0n) throw new Error(`${what} has commit position ${position.commit}; msec positions start at 1`);
  if (position.commit > maxPosition) {
    throw new Error(`${what} has commit position ${position.commit}, past Number.MAX_SAFE_INTEGER (${Number.MAX_SAFE_INTEGER}): the event-store port keeps positions as JavaScript numbers, so this log (over 8 PiB) needs a port with bigint positions`);
  }
  return Number(position.commit);
}

/** Where an $all read or subscription starts so that it yields the events after `after`. */
export function esdbPositionAfter(after: number): ReadPosition {
  if (!Number.isSafeInteger(after) || after < 0) throw new Error(`position ${after} is not a whole number ≥ 0: pass 0 or the position of an event read from this store`);
  if (after === 0) return START;
  const at = BigInt(after);
  // ESDB reads forwards from a position inclusively; callers drop the event at `after` itself.
  return { commit: at, prepare: at };
}

/** Orders two ESDB positions as $all does (by commit, then prepare). */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function revisionNumber(revision: bigint, what: string): number {
  if (revision < 0n || revision > maxPosition) throw new Error(`${what} has revision ${revision}, outside 0..${Number.MAX_SAFE_INTEGER}`);
  return Number(revision);
}

/**
 * The msec RecordedEvent stored in an ESDB event, or null when msec did not write it (system
 * events, other applications sharing the database). Payloads are decoded and upcast exactly as
 * schemas/codec.ts decodeEnvelope does for the embedded stores.
 */
export function fromEsdbEvent(e: EsdbRecordedEvent): RecordedEvent | null {
  if (isSystemEvent(e)) return null;
  const meta = msecMetadata(e.metadata);
  if (!meta) return null;
  const what = `event ${meta.eventId} (${e.type}) of stream ${e.streamId}`;
  if (meta.msecEnvelope > envelopeFormat) {
    throw new Error(`${what} was written by a newer msec (envelope format ${meta.msecEnvelope}, this build reads ${envelopeFormat}): upgrade this process`);
  }
  if (e.isJson || !(e.data instanceof Uint8Array)) throw new Error(`${what} carries JSON data; msec stores protobuf payloads (application/octet-stream)`);
  const known = isKnownEventType(e.type);
  const raw = known ? decodePayload(e.type, e.data) : {};
  const { version, data } = known ? upcast(e.type, meta.schemaVersion, raw) : { version: meta.schemaVersion, data: raw };
  return {
    type: e.type,
    data,
    id: meta.eventId,
    stream: e.streamId,
    revision: revisionNumber(e.revision, what),
    position: globalPosition(e.position, what),
    occurredAt: isoTime(meta.occurredAt),
    actor: meta.actor,
    reason: meta.reason,
    correlationId: meta.$correlationId,
    causationId: meta.$causationId,
    schemaVersion: version,
  } as RecordedEvent<DomainEvent>;
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): EsdbExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new Error(`expected revision ${String(expected)} is none of 'any', 'no_stream' or a stream revision ≥ 0`);
  }
  return BigInt(expected);
}

/** ESDB's WrongExpectedVersionError as the port's WrongExpectedRevision; other errors unchanged. */
export function appendError(err: unknown, stream: string, expected: ExpectedRevision): unknown {
  if (!(err instanceof Error) || !isCommandError(err) || err.type !== ErrorType.WRONG_EXPECTED_VERSION) return err;
  const actual = err.actualVersion;
  return new WrongExpectedRevision(stream, expected, typeof actual === 'bigint' && actual >= 0n ? revisionNumber(actual, `stream ${stream}`) : 'no_stream');
}

/** A read of a stream that does not exist. */
export const isStreamNotFound = (err: unknown) => err instanceof Error && isCommandError(err) && err.type === ErrorType.STREAM_NOT_FOUND;
