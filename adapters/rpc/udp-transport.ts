/**
 * One UDP socket per address family for every call: a request is one datagram, the answer
 * comes back from the instance and is matched by sequence (rpc-wire.md). Requests that do
 * not fit in a datagram are refused before sending so the caller can use TCP.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { RpcError, RpcErrorCode, type Endpoint, type ReplyFrame, type RequestFrame } from '../../apps/rpc/contracts.ts';
import { FramingError, decodeFrame, defaultMaxFrameBytes, encodeFrame, udpMaxFrameBytes } from './framing.ts';
import { addressOf, clientTimeout, maxTimerMs, replyOf, requestHead, transportClosed } from './call-frames.ts';

interface Pending {
  resolve(reply: ReplyFrame): void;
  reject(error: RpcError): void;
  timer: NodeJS.Timeout;
  ip: string | null;
  port: number;
}

export class UdpTransport {
  private readonly sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
  private readonly pending = new Map<string, Pending>();
  private nextSequence = 1;
  private closed = false;

  constructor(private readonly maxFrameBytes = defaultMaxFrameBytes) {}

  request(to: Endpoint, frame: RequestFrame, timeoutMs: number): Promise<ReplyFrame> {
    if (this.closed) return Promise.reject(transportClosed(to, frame.method));
    if (!(timeoutMs > 0)) return Promise.reject(clientTimeout(to, frame.method, timeoutMs, 'udp'));
    const sequence = this.nextSequence;
    this.nextSequence = sequence === 0xffffffff ? 1 : sequence + 1;
    const bytes = encodeFrame(requestHead(frame, sequence, timeoutMs), frame.body);
    if (bytes.length > udpMaxFrameBytes) {
      return Promise.reject(new RpcError(RpcErrorCode.FRAME_ERROR,
        `a request frame of ${bytes.length} bytes does not fit in a UDP datagram (at most ${udpMaxFrameBytes}); send it over TCP`,
        { target: addressOf(to), method: frame.method }));
    }
    const key = String(sequence);
    const socket = this.socketFor(to.ip);
    return new Promise<ReplyFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(clientTimeout(to, frame.method, timeoutMs, 'udp'));
      }, Math.min(timeoutMs, maxTimerMs));
      // A name resolves to an address we cannot compare with; then only the port is checked.
      this.pending.set(key, { resolve, reject, timer, ip: net.isIP(to.ip) ? to.ip : null, port: to.port });
      socket.send(bytes, to.port, to.ip, (error) => {
        if (!error || !this.pending.has(key)) return;
        this.pending.delete(key);
        clearTimeout(timer);
        reject(new RpcError(RpcErrorCode.CONNECT_FAILED, `cannot send to ${addressOf(to)} over UDP (${(error as NodeJS.ErrnoException).code ?? error.message}); check the address`,
          { target: addressOf(to), method: frame.method }));
      });
    });
  }

  private socketFor(ip: string): dgram.Socket {
    const family = net.isIPv6(ip) ? 'udp6' : 'udp4';
    let socket = this.sockets.get(family);
    if (socket === undefined) {
      socket = dgram.createSocket(family);
      socket.on('message', (datagram, from) => this.answer(datagram, from));
      socket.on('error', () => { /* per-send errors reach the send callback */ });
      socket.unref(); // pending requests hold the process through their timers
      this.sockets.set(family, socket);
    }
    return socket;
  }

  private answer(datagram: Buffer, from: dgram.RemoteInfo): void {
    let key: string;
    let reply: ReplyFrame;
    try {
      const frame = decodeFrame(datagram, this.maxFrameBytes);
      key = frame.head.sequence;
      reply = replyOf(frame);
    } catch (error) {
      if (error instanceof FramingError) return; // not ours; the request times out if nothing better comes
      throw error;
    }
    const p = this.pending.get(key);
    if (p === undefined || p.port !== from.port || (p.ip !== null && p.ip !== from.address)) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.resolve(reply);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [key, p] of this.pending) {
      this.pending.delete(key);
      clearTimeout(p.timer);
      p.reject(new RpcError(RpcErrorCode.CONNECTION_LOST, 'the RPC transport was closed with this request in flight'));
    }
    await Promise.all([...this.sockets.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.sockets.clear();
  }
}
