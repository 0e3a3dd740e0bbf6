/**
 * Reads an RpcHead (head-fields.ts) straight out of received bytes: no intermediate
 * message object, 64-bit fields as decimal strings, unknown fields skipped.
 */
import { T, type FrameHead } from './head-fields.ts';

class HeadReader {
  pos: number;
  /** Low 32 bits of the last varint read (exact for any length). */
  low = 0;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  /** A varint as a Number (exact up to 7 bytes); `low` keeps its low 32 bits. */
  varint(): number {
    const { buf, end } = this;
    let value = 0;
    let low = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new Error('a varint runs past the end of the head');
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (i < 5) low |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        this.low = low;
        return value;
      }
      scale *= 128;
    }
    throw new Error('a varint is longer than 10 bytes');
  }

  uint64(): string {
    const start = this.pos;
    const value = this.varint();
    if (this.pos - start <= 7) return String(value);
    let big = 0n;
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f);
    return BigInt.asUintN(64, big).toString();
  }

  string(): string {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new Error('a string runs past the end of the head');
    this.pos += length;
    return this.buf.toString('utf8', start, this.pos);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const length = this.varint(); // read before `this.pos +=` takes pos
      this.pos += length;
    }
    else if (wire === 5) this.pos += 4;
    else throw new Error(`wire type ${wire} is not used by RpcHead`);
    if (this.pos > this.end) throw new Error('a field runs past the end of the head');
  }
}

/** Shared by every head without callers (most of them); frozen so no one adds to it. */
const noCallers = Object.freeze([]) as unknown as string[];

/** Reads the head in buf[start, end). Throws Error on bytes that are not an RpcHead. */
export function readHead(buf: Buffer, start: number, end: number): FrameHead {
  const head: FrameHead = {
    sequence: '0', coloring: 0, colorId: '0', flowId: '0', err: 0, result: 0,
    errMsg: '', caller: '', methodName: '', callerStack: noCallers, deadlineMs: 0,
  };
  const r = new HeadReader(buf, start, end);
  while (r.pos < end) {
    r.varint();
    const t = r.low >>> 0;
    switch (t) {
      case T.sequence: head.sequence = r.uint64(); break;
      case T.coloring: r.varint(); head.coloring = r.low >>> 0; break;
      case T.colorId: head.colorId = r.uint64(); break;
      case T.flowId: head.flowId = r.uint64(); break;
      case T.err: r.varint(); head.err = r.low | 0; break;
      case T.result: r.varint(); head.result = r.low | 0; break;
      case T.errMsg: head.errMsg = r.string(); break;
      case T.caller: head.caller = r.string(); break;
      case T.methodName: head.methodName = r.string(); break;
      case T.callerStack:
        if (head.callerStack === noCallers) head.callerStack = [];
        head.callerStack.push(r.string());
        break;
      case T.deadlineMs: r.varint(); head.deadlineMs = r.low >>> 0; break;
      default:
        if ((t >>> 3) === 0) throw new Error('field number 0 is not valid protobuf');
        r.skip(t & 7);
    }
  }
  return head;
}
