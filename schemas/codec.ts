/**
 * Protobuf codec for event envelopes and payloads (schemas/*.proto are the source of truth).
 * Payloads are decoded into the camelCase objects of the domain event types. Older schema
 * versions are lifted to the current one by upcasters on read.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import type { DomainEvent, NewEvent, RecordedEvent } from '../domain/events.ts';
import { upcast, currentSchemaVersion } from './upcasters.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = protobuf.loadSync([`${here}envelope.proto`, `${here}events/services.proto`, `${here}events/users.proto`, `${here}events/access.proto`, `${here}events/agents.proto`, `${here}events/logs.proto`, `${here}events/monitoring.proto`, `${here}events/releases.proto`, `${here}events/kv.proto`]);
const Envelope = root.lookupType('msec.EventEnvelope');

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, defaults: true, bytes: Buffer };

export class UnknownEventType extends Error {
  constructor(type: string) {
    super(`unknown event type "${type}": add its message to schemas/events/*.proto`);
    this.name = 'UnknownEventType';
  }
}

const payloadTypes = new Map<string, protobuf.Type>();

function payloadType(type: string): protobuf.Type {
  let t = payloadTypes.get(type);
  if (t) return t;
  try {
    t = root.lookupType(`msec.events.${type}`);
  } catch {
    throw new UnknownEventType(type);
  }
  payloadTypes.set(type, t);
  return t;
}

/** Whether this build has a payload schema for the event type. */
export function isKnownEventType(type: string): boolean {
  try {
    payloadType(type);
    return true;
  } catch {
    return false;
  }
}

export function encodePayload(type: string, data: object): Uint8Array {
  const t = payloadType(type);
  const problem = t.verify(data);
  if (problem) throw new Error(`payload of ${type} does not match its schema: ${problem}`);
  return t.encode(t.fromObject(data)).finish();
}

export function decodePayload(type: string, bytes: Uint8Array): Record<string, unknown> {
  const t = payloadType(type);
  return t.toObject(t.decode(bytes), toObjectOptions);
}

/** Envelope fields the store assigns when it appends. */
export interface StoredPosition {
  revision: number;
  position: number;
}

export function encodeEnvelope(event: NewEvent, stream: string, at: StoredPosition): Uint8Array {
  return Envelope.encode(
    Envelope.fromObject({
      id: event.id,
      type: event.type,
      stream,
      revision: at.revision,
      position: at.position,
      occurredAtMs: Date.parse(event.occurredAt),
      actor: event.actor,
      reason: event.reason,
      correlationId: event.correlationId,
      causationId: event.causationId,
      schemaVersion: event.schemaVersion ?? currentSchemaVersion(event.type),
      payload: encodePayload(event.type, event.data),
    }),
  ).finish();
}

/** Decodes an envelope and its payload, applying upcasters when the payload is older. */
export function decodeEnvelope(bytes: Uint8Array): RecordedEvent {
  const e = Envelope.toObject(Envelope.decode(bytes), toObjectOptions) as {
    id: string; type: string; stream: string; revision: number; position: number; occurredAtMs: number;
    actor: string; reason: string; correlationId: string; causationId: string; schemaVersion: number; payload: Uint8Array;
  };
  // An event type from a newer build decodes with empty data: readers that do not handle it
  // skip it (projections), the audit lists it, and deciders refuse to fold it.
  const known = isKnownEventType(e.type);
  const raw = known ? decodePayload(e.type, e.payload) : {};
  const { version, data } = known ? upcast(e.type, e.schemaVersion, raw) : { version: e.schemaVersion, data: raw };
  return {
    type: e.type,
    data,
    id: e.id,
    stream: e.stream,
    revision: e.revision,
    position: e.position,
    occurredAt: new Date(e.occurredAtMs).toISOString(),
    actor: e.actor,
    reason: e.reason,
    correlationId: e.correlationId,
    causationId: e.causationId,
    schemaVersion: version,
  } as RecordedEvent<DomainEvent>;
}

/** The loaded protobuf root, for tools that list or validate schemas. */
export const schemaRoot = root;
