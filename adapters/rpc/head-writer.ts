/**
 * Writes an RpcHead (head-fields.ts) straight into a frame buffer: measure it first
 * (prepareHead), then write it where the frame needs it (writeHead). Default values are
 * left out, as protobuf does.
 */
import { S, T, varint32Size, type FrameHeadInit } from './head-fields.ts';

const two32 = 4294967296;
const decimal = /^[0-9]{1,20}$/;

function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo);
  let size = 5;
  for (let rest = hi >>> 3; rest !== 0; rest >>>= 7) size++;
  return size;
}

function writeVarint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  while (hi !== 0) {
    buf[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    buf[pos++] = (lo & 127) | 128;
    lo >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/** UTF-8 length; ASCII strings (the usual names and ids) cost one pass and no native call. */
function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

function writeString(buf: Buffer, pos: number, s: string, length: number): number {
  if (length === s.length) {
    for (let i = 0; i < length; i++) buf[pos + i] = s.charCodeAt(i);
  } else {
    buf.write(s, pos, length, 'utf8');
  }
  return pos + length;
}

/** A head measured for writing: 64-bit values split into 32-bit halves, string lengths known. */
export class PreparedHead {
  size = 0;
  init: FrameHeadInit = { sequence: 0 };
  seqLo = 0;
  seqHi = 0;
  colorLo = 0;
  colorHi = 0;
  flowLo = 0;
  flowHi = 0;
  errMsgLength = 0;
  callerLength = 0;
  methodLength = 0;
  stackLengths: number[] = [];
}

/** Splits a uint64 (decimal string or safe integer) into `into[lo]`, `into[hi]`. */
function splitUint64(value: number | string | undefined, field: string, into: PreparedHead, lo: 'seqLo' | 'colorLo' | 'flowLo', hi: 'seqHi' | 'colorHi' | 'flowHi'): void {
  let n: number;
  if (value === undefined || value === '') {
    n = 0;
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${field} ${value} is not an unsigned integer; pass larger ids as decimal strings`);
    n = value;
  } else {
    if (!decimal.test(value)) throw new TypeError(`${field} "${value}" is not an unsigned 64-bit decimal number`);
    if (value.length >= 16) {
      const big = BigInt(value);
      if (big > 0xffffffffffffffffn) throw new TypeError(`${field} "${value}" does not fit in 64 bits`);
      into[lo] = Number(big & 0xffffffffn);
      into[hi] = Number(big >> 32n);
      return;
    }
    n = Number(value);
  }
  into[lo] = n >>> 0;
  into[hi] = Math.floor(n / two32);
}

const stringSize = (tagSize: number, length: number) => tagSize + varint32Size(length) + length;

/**
 * Measures a head; default values are left out, as protobuf does. Pass `into` to reuse one
 * PreparedHead when the head is written right away (the frame writers do).
 */
export function prepareHead(init: FrameHeadInit, into = new PreparedHead()): PreparedHead {
  into.init = init;
  splitUint64(init.sequence, 'sequence', into, 'seqLo', 'seqHi');
  splitUint64(init.colorId, 'colorId', into, 'colorLo', 'colorHi');
  splitUint64(init.flowId, 'flowId', into, 'flowLo', 'flowHi');
  let size = 0;
  if (into.seqLo !== 0 || into.seqHi !== 0) size += S.sequence + varint64Size(into.seqLo, into.seqHi);
  if (init.coloring) size += S.coloring + varint32Size(init.coloring >>> 0);
  if (into.colorLo !== 0 || into.colorHi !== 0) size += S.colorId + varint64Size(into.colorLo, into.colorHi);
  if (into.flowLo !== 0 || into.flowHi !== 0) size += S.flowId + varint64Size(into.flowLo, into.flowHi);
  if (init.err) size += S.err + (init.err < 0 ? 10 : varint32Size(init.err));
  if (init.result) size += S.result + (init.result < 0 ? 10 : varint32Size(init.result));
  into.errMsgLength = init.errMsg ? utf8Length(init.errMsg) : 0;
  into.callerLength = init.caller ? utf8Length(init.caller) : 0;
  into.methodLength = init.methodName ? utf8Length(init.methodName) : 0;
  if (into.errMsgLength) size += stringSize(S.errMsg, into.errMsgLength);
  if (into.callerLength) size += stringSize(S.caller, into.callerLength);
  if (into.methodLength) size += stringSize(S.methodName, into.methodLength);
  into.stackLengths.length = 0;
  if (init.callerStack) {
    for (const entry of init.callerStack) {
      const length = utf8Length(entry);
      into.stackLengths.push(length);
      size += stringSize(S.callerStack, length);
    }
  }
  if (init.deadlineMs) size += S.deadlineMs + varint32Size(init.deadlineMs >>> 0);
  into.size = size;
  return into;
}

function writeTag(buf: Uint8Array, pos: number, t: number): number {
  return writeVarint64(buf, pos, t, 0);
}

function writeInt32(buf: Uint8Array, pos: number, t: number, v: number): number {
  pos = writeTag(buf, pos, t);
  return v < 0 ? writeVarint64(buf, pos, v >>> 0, 0xffffffff) : writeVarint64(buf, pos, v, 0);
}

function writeStringField(buf: Buffer, pos: number, t: number, s: string, length: number): number {
  pos = writeVarint64(buf, writeTag(buf, pos, t), length, 0);
  return writeString(buf, pos, s, length);
}

/** Writes a prepared head at `pos`; returns the position after it. */
export function writeHead(buf: Buffer, pos: number, head: PreparedHead): number {
  const { init } = head;
  if (head.seqLo !== 0 || head.seqHi !== 0) pos = writeVarint64(buf, writeTag(buf, pos, T.sequence), head.seqLo, head.seqHi);
  if (init.coloring) pos = writeVarint64(buf, writeTag(buf, pos, T.coloring), init.coloring >>> 0, 0);
  if (head.colorLo !== 0 || head.colorHi !== 0) pos = writeVarint64(buf, writeTag(buf, pos, T.colorId), head.colorLo, head.colorHi);
  if (head.flowLo !== 0 || head.flowHi !== 0) pos = writeVarint64(buf, writeTag(buf, pos, T.flowId), head.flowLo, head.flowHi);
  if (init.err) pos = writeInt32(buf, pos, T.err, init.err);
  if (init.result) pos = writeInt32(buf, pos, T.result, init.result);
  if (head.errMsgLength) pos = writeStringField(buf, pos, T.errMsg, init.errMsg!, head.errMsgLength);
  if (head.callerLength) pos = writeStringField(buf, pos, T.caller, init.caller!, head.callerLength);
  if (head.methodLength) pos = writeStringField(buf, pos, T.methodName, init.methodName!, head.methodLength);
  const stack = init.callerStack;
  if (stack) for (let i = 0; i < stack.length; i++) pos = writeStringField(buf, pos, T.callerStack, stack[i]!, head.stackLengths[i]!);
  if (init.deadlineMs) pos = writeVarint64(buf, writeTag(buf, pos, T.deadlineMs), init.deadlineMs >>> 0, 0);
  return pos;
}
