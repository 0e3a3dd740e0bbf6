/**
 * Writes frames to one socket, encoded straight into a shared slab and sent as one write
 * per tick: with many requests in flight, a syscall and a buffer per frame cost more than
 * the RPC itself. Large bodies are not copied; they go out as their own chunk.
 */
import type { Socket } from 'node:net';
import { frameEnd, frameSize, writeFrame, writeFramePrefix, type FrameHeadInit } from './framing.ts';
import { PreparedHead, prepareHead } from './head-writer.ts';

const slabBytes = 64 * 1024;
/** Bodies at least this large are written as they are, not copied into the slab. */
const copyLimit = 16 * 1024;

export class FrameWriter {
  private slab: Buffer = Buffer.allocUnsafe(0);
  /** Bytes of the slab already handed to the socket. */
  private sent = 0;
  /** Bytes of the slab filled. */
  private used = 0;
  private scheduled = false;

  constructor(private readonly socket: Socket) {}

  write(head: FrameHeadInit, body: Uint8Array): void {
    const prepared = prepareHead(head, scratch);
    const size = frameSize(prepared, body);
    if (body.length >= copyLimit) {
      this.flush();
      const prefix = Buffer.allocUnsafe(size - body.length - 1);
      writeFramePrefix(prefix, 0, prepared, body.length);
      this.socket.cork();
      this.socket.write(prefix);
      this.socket.write(body);
      this.socket.write(frameEndByte);
      this.socket.uncork();
      return;
    }
    if (this.used + size > this.slab.length) {
      this.flush();
      this.slab = Buffer.allocUnsafe(Math.max(slabBytes, size));
      this.sent = 0;
      this.used = 0;
    }
    this.used = writeFrame(this.slab, this.used, prepared, body);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(flushWriter, this);
    }
  }

  /** Sends what is written so far (before an end() or destroy()). */
  flush(): void {
    this.scheduled = false;
    if (this.used === this.sent) return;
    const chunk = this.slab.subarray(this.sent, this.used);
    this.sent = this.used;
    if (!this.socket.destroyed) this.socket.write(chunk);
  }
}

const frameEndByte = Buffer.from([frameEnd]);
/** Prepared and written in one go, so one is enough for every writer. */
const scratch = new PreparedHead();

function flushWriter(writer: FrameWriter): void {
  writer.flush();
}
