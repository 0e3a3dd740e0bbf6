/**
 * msec RPC frames (schemas/rpc-wire.md): `'(' head_len:u32BE body_len:u32BE head body ')'`,
 * the head a protobuf `msec.rpc.RpcHead` (schemas/rpc.proto). 64-bit head fields are
 * decimal strings in JS so a foreign caller's random 64-bit ids survive the round trip.
 *
 * `FrameDecoder` reads a TCP byte stream: frames split across reads, many frames in one
 * read, and bodies handed out as views into the read buffer (no copy).
 */
import type { FrameHead, FrameHeadInit } from './head-fields.ts';
import { PreparedHead, prepareHead, writeHead } from './head-writer.ts';
import { readHead } from './head-reader.ts';

export type { FrameHead, FrameHeadInit };

export const frameStart = 0x28; // '('
export const frameEnd = 0x29; // ')'
/** Bytes of a frame besides head and body: start byte, two lengths, end byte. */
export const frameOverhead = 10;
const prefixBytes = 9;
export const defaultMaxFrameBytes = 16 * 1024 * 1024;
/** The largest UDP payload over IPv4; larger requests go over TCP. */
export const udpMaxFrameBytes = 65_507;

export interface Frame {
  head: FrameHead;
  /** A view into the received bytes (Node never reuses a read's buffer, so it may be kept). */
  body: Buffer;
}

/** Bytes that are not msec frames. `sequence` is set when the head could still be read. */
export class FramingError extends Error {
  constructor(message: string, readonly sequence?: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** Protobuf bytes of a head; default values are left out. */
export function encodeHead(head: FrameHeadInit): Buffer {
  const prepared = prepareHead(head);
  const bytes = Buffer.allocUnsafe(prepared.size);
  writeHead(bytes, 0, prepared);
  return bytes;
}

export function decodeHead(bytes: Uint8Array): FrameHead {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeHeadAt(buf, 0, buf.length);
}

function decodeHeadAt(buf: Buffer, start: number, end: number): FrameHead {
  try {
    return readHead(buf, start, end);
  } catch (error) {
    throw new FramingError(`the frame head is not a msec.rpc.RpcHead (${(error as Error).message}); the peer does not speak msec RPC`);
  }
}

/** One frame in one buffer (the caller may write it as is). */
/** Bytes of the whole frame. */
export function frameSize(head: PreparedHead, body: Uint8Array): number {
  return frameOverhead + head.size + body.length;
}

/** Writes '(', the lengths and the head at `pos`; returns where the body goes. */
export function writeFramePrefix(buf: Buffer, pos: number, head: PreparedHead, bodyLength: number): number {
  buf[pos] = frameStart;
  buf.writeUInt32BE(head.size, pos + 1);
  buf.writeUInt32BE(bodyLength, pos + 5);
  return writeHead(buf, pos + prefixBytes, head);
}

/** Writes the whole frame at `pos`; returns the position after it. */
export function writeFrame(buf: Buffer, pos: number, head: PreparedHead, body: Uint8Array): number {
  const bodyStart = writeFramePrefix(buf, pos, head, body.length);
  if (body.length) buf.set(body, bodyStart);
  const end = bodyStart + body.length;
  buf[end] = frameEnd;
  return end + 1;
}

const scratch = new PreparedHead();

/** One frame in one new buffer. */
export function encodeFrame(head: FrameHeadInit, body: Uint8Array): Buffer {
  const prepared = prepareHead(head, scratch);
  const frame = Buffer.allocUnsafe(frameSize(prepared, body));
  writeFrame(frame, 0, prepared, body);
  return frame;
}

function badStart(byte: number): FramingError {
  const shown = `0x${byte.toString(16).padStart(2, '0')}`;
  return new FramingError(`a frame starts with ${shown}, not '(' (0x28): the peer does not speak msec RPC frames`);
}

function tooLarge(total: number, max: number): FramingError {
  return new FramingError(`a frame of ${total} bytes is over the limit of ${max} bytes: send smaller messages or raise maxFrameBytes on both sides`);
}

/** Reads the frame at `offset`, which is known to be complete (`total` bytes). */
function frameAt(bytes: Buffer, offset: number, total: number): Frame {
  const headLen = bytes.readUInt32BE(offset + 1);
  const headStart = offset + prefixBytes;
  const bodyStart = headStart + headLen;
  const last = bytes[offset + total - 1]!;
  if (last !== frameEnd) {
    let sequence: string | undefined;
    try {
      sequence = decodeHeadAt(bytes, headStart, bodyStart).sequence;
    } catch {
      sequence = undefined;
    }
    throw new FramingError(`a frame ends with 0x${last.toString(16).padStart(2, '0')}, not ')' (0x29): the lengths do not match the bytes sent`, sequence);
  }
  return { head: decodeHeadAt(bytes, headStart, bodyStart), body: bytes.subarray(bodyStart, offset + total - 1) };
}

/** Total size of the frame whose 9-byte prefix is at `offset`, checked against the limit. */
function sizeAt(bytes: Buffer, offset: number, max: number): number {
  const total = frameOverhead + bytes.readUInt32BE(offset + 1) + bytes.readUInt32BE(offset + 5);
  if (total > max) throw tooLarge(total, max);
  return total;
}

/** Exactly one frame (a UDP datagram). */
export function decodeFrame(bytes: Buffer, maxFrameBytes = defaultMaxFrameBytes): Frame {
  if (bytes.length < frameOverhead) throw new FramingError(`a datagram of ${bytes.length} bytes is shorter than the smallest frame (${frameOverhead} bytes)`);
  if (bytes[0] !== frameStart) throw badStart(bytes[0]!);
  const total = sizeAt(bytes, 0, maxFrameBytes);
  if (total !== bytes.length) throw new FramingError(`a datagram of ${bytes.length} bytes holds a frame of ${total} bytes: one datagram must carry exactly one frame`);
  return frameAt(bytes, 0, total);
}

/**
 * Incremental decoder for one TCP connection. `push` every read; `onFrame` runs for each
 * complete frame in order. Throws FramingError on bytes that are not frames: the
 * connection is then unusable (close it).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame being gathered, once its prefix has arrived. */
  private needed = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly maxFrameBytes = defaultMaxFrameBytes,
  ) {}

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    let bytes = chunk;
    if (this.buffered > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.needed === 0) {
        if (this.buffered < prefixBytes) return;
        const prefix = Buffer.concat(this.chunks, prefixBytes);
        this.needed = sizeAt(prefix, 0, this.maxFrameBytes);
      }
      if (this.buffered < this.needed) return;
      bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
      this.needed = 0;
    }

    const end = bytes.length;
    let offset = 0;
    while (offset < end) {
      if (bytes[offset] !== frameStart) throw badStart(bytes[offset]!);
      if (end - offset < prefixBytes) break;
      const total = sizeAt(bytes, offset, this.maxFrameBytes);
      if (end - offset < total) {
        this.needed = total;
        break;
      }
      const frame = frameAt(bytes, offset, total);
      offset += total;
      this.onFrame(frame);
    }
    if (offset < end) {
      this.chunks.push(offset === 0 ? bytes : bytes.subarray(offset));
      this.buffered = end - offset;
    }
  }
}
