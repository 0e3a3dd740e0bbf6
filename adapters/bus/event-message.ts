/**
 * The `msec.events` message of a stored event, and the checks a message must pass before the
 * event feed believes it. A message's key is the stream id, its value the protobuf envelope,
 * and its headers carry the event id, type, global position, `prev-position` (the position of
 * the event before it in the store's log) and the relay's `signature` (adapters/signing).
 *
 * Anyone who may produce to the topic can write anything there, so the feed checks, cheapest
 * first: positions readable (`malformed`), the signature (`unsigned`, `wrong-key`,
 * `bad-signature`), then, only for a message it will use, the envelope (`undecodable`) and
 * that the headers and key say what the signed envelope says (`mismatch`).
 */
import type { RecordedEvent } from '../../domain/events.ts';
import { decodeEnvelope, encodeEnvelope } from '../../schemas/codec.ts';
import type { BusKey } from '../signing/bus-key.ts';
import type { BusMessage, ConsumedMessage } from './port.ts';

export const eventHeaders = {
  id: 'event-id',
  type: 'event-type',
  position: 'position',
  prevPosition: 'prev-position',
  signature: 'signature',
} as const;

/** Why a message of the event topic was refused (also the keys of the refusal counts). */
export const refusalReasons = ['malformed', 'unsigned', 'wrong-key', 'bad-signature', 'undecodable', 'mismatch', 'past-head'] as const;
export type RefusalReason = (typeof refusalReasons)[number];

export interface Refused {
  ok: false;
  reason: RefusalReason;
  /** What was wrong, for the log line (no secrets; message text is cut short). */
  detail: string;
}

export interface Signed {
  ok: true;
  position: number;
  prev: number;
}

/** The `msec.events` message of a stored event, signed; `prevPosition` is the position of the event before it in the log. */
export function eventMessage(event: RecordedEvent, prevPosition: number, key: BusKey): BusMessage {
  const value = encodeEnvelope(event, event.stream, { revision: event.revision, position: event.position });
  const prev = String(prevPosition);
  return {
    key: event.stream,
    value,
    headers: {
      [eventHeaders.id]: event.id,
      [eventHeaders.type]: event.type,
      [eventHeaders.position]: String(event.position),
      [eventHeaders.prevPosition]: prev,
      [eventHeaders.signature]: key.sign(prev, value),
    },
  };
}

/** Positions and signature: cheap, done for every message. */
export function checkSigned(m: ConsumedMessage, key: BusKey): Signed | Refused {
  const headers = m.headers ?? {};
  const positionText = headers[eventHeaders.position];
  const prevText = headers[eventHeaders.prevPosition];
  const position = Number(positionText);
  const prev = Number(prevText);
  if (positionText === undefined || prevText === undefined) {
    return refused('malformed', `no "${eventHeaders.position}"/"${eventHeaders.prevPosition}" headers`);
  }
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(prev) || prev < 0 || position <= prev) {
    return refused('malformed', `positions "${cut(positionText)}" after "${cut(prevText)}" are not two integers 0 <= prev < position`);
  }
  const signature = headers[eventHeaders.signature];
  const check = key.check(signature, prevText, m.value);
  switch (check) {
    case 'valid': return { ok: true, position, prev };
    case 'unsigned': return refused(check, 'no signature');
    case 'wrong-key': return refused(check, `signed with key ${cut(signature!.split(':')[1]!)}, this process has key ${key.id}`);
    case 'bad-signature': return refused(check, 'the signature does not match the message');
  }
}

/** The envelope of a signed message, if the headers and the key agree with it. */
export function openSigned(m: ConsumedMessage, signed: Signed): { ok: true; event: RecordedEvent } | Refused {
  let event: RecordedEvent;
  try {
    event = decodeEnvelope(m.value);
  } catch (err) {
    return refused('undecodable', `not an event envelope (${cut((err as Error).message)})`);
  }
  const headers = m.headers ?? {};
  const disagree = [
    event.position !== signed.position && 'position',
    headers[eventHeaders.id] !== event.id && 'event id',
    headers[eventHeaders.type] !== event.type && 'event type',
    m.key !== event.stream && 'key (stream)',
  ].filter(Boolean);
  if (disagree.length > 0) return refused('mismatch', `the ${disagree.join(', ')} of the headers disagree with the signed envelope`);
  return { ok: true, event };
}

function refused(reason: RefusalReason, detail: string): Refused {
  return { ok: false, reason, detail };
}

const cut = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}…` : text);
