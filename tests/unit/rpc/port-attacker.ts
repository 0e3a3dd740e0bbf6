/**
 * Raw sockets for the port-limit tests: what an attacker (or a slow, honest client) sends,
 * byte by byte, and when the server closes on it.
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { encodeFrame, decodeFrame, type Frame } from '../../../adapters/rpc/framing.ts';
import { encodeMessage } from '../../../apps/rpc/proto.ts';
import { bison, queryFlight } from './server-harness.ts';

/** A queryFlight request frame. */
export function flightFrame(sequence: number): Buffer {
  return encodeFrame({ sequence: String(sequence), methodName: queryFlight.fullName, caller: 'Test.raw' }, encodeMessage(queryFlight.requestType, bison));
}

/** The 9-byte start of a frame announcing `total` bytes (head empty, the rest body). */
export function framePrefix(total: number): Buffer {
  const prefix = Buffer.alloc(9);
  prefix[0] = 0x28;
  prefix.writeUInt32BE(0, 1);
  prefix.writeUInt32BE(total - 10, 5);
  return prefix;
}

export interface RawConnection {
  socket: net.Socket;
  /** Resolves when the server closed the connection, with ms since connecting. */
  closed: Promise<number>;
  isClosed(): boolean;
  /** Answer frames read so far (bytes are reassembled across reads). */
  answers: Frame[];
}

export async function connect(port: number): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => { /* a reset is a close */ });
  const opened = performance.now();
  let closedAt: number | null = null;
  const closed = new Promise<number>((resolve) => socket.once('close', () => {
    closedAt = performance.now() - opened;
    resolve(closedAt);
  }));
  const answers: Frame[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const total = 10 + pending.readUInt32BE(1) + pending.readUInt32BE(5);
      if (pending.length < total) break;
      answers.push(decodeFrame(Buffer.from(pending.subarray(0, total))));
      pending = pending.subarray(total);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed, isClosed: () => closedAt !== null, answers };
}

/** Writes and resolves once the bytes left this process (into the kernel). */
export function send(socket: net.Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => socket.write(bytes, () => resolve()));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds (polling every 10 ms), or fails after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/** Bytes of Buffers this process still holds after a full garbage collection. */
export function heldBufferBytes(): number {
  collect();
  collect();
  return process.memoryUsage().arrayBuffers;
}
