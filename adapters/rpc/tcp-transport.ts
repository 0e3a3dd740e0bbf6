/**
 * Long-lived TCP connections to service instances: a few per endpoint, each carrying many
 * requests at once, matched to answers by sequence (rpc-wire.md). A connection that fails
 * fails only the requests it carried; the next request opens a fresh one.
 */
import net from 'node:net';
import { RpcError, RpcErrorCode, type Endpoint, type ReplyFrame, type RequestFrame } from '../../apps/rpc/contracts.ts';
import { FrameDecoder, FramingError, defaultMaxFrameBytes, type Frame } from './framing.ts';
import { FrameWriter } from './frame-writer.ts';
import { DeadlineQueue } from './deadlines.ts';
import { addressOf, clientTimeout, maxTimerMs, replyOf, requestHead, transportClosed } from './call-frames.ts';

export interface TcpTransportOptions {
  /** Connections kept per endpoint, used in turn (default 1: batching beats spreading). */
  connectionsPerEndpoint?: number;
  /** Default 1000 ms. */
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
}

interface Pending {
  key: string;
  connection: TcpConnection;
  resolve(reply: ReplyFrame): void;
  reject(error: RpcError): void;
  deadline: number;
  timeoutMs: number;
  method: string;
}

const sequenceWrap = 0xffffffff;

class TcpConnection {
  readonly pending = new Map<string, Pending>();
  private readonly socket: net.Socket;
  private readonly writer: FrameWriter;
  private nextSequence = 1;
  private connected = false;
  private failure: RpcError | null = null;
  readonly closed: Promise<void>;

  constructor(
    readonly to: Endpoint,
    options: Required<TcpTransportOptions>,
    private readonly deadlines: DeadlineQueue<Pending>,
    private readonly onGone: (connection: TcpConnection) => void,
  ) {
    const address = addressOf(to);
    this.socket = net.connect({ host: to.ip, port: to.port, noDelay: true });
    this.socket.unref(); // pending requests hold the process through their deadline timer
    this.writer = new FrameWriter(this.socket);
    const decoder = new FrameDecoder((frame) => this.answer(frame), options.maxFrameBytes);

    const connectTimer = setTimeout(() => {
      this.fail(new RpcError(RpcErrorCode.CONNECT_FAILED,
        `cannot connect to ${address} over TCP within ${options.connectTimeoutMs} ms; check that the instance is up and reachable`, { target: address }));
    }, options.connectTimeoutMs);
    connectTimer.unref();

    this.socket.once('connect', () => {
      clearTimeout(connectTimer);
      this.connected = true;
      this.socket.setKeepAlive(true, 30_000);
    });
    this.socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        const message = error instanceof FramingError ? error.message : String(error);
        this.fail(new RpcError(RpcErrorCode.FRAME_ERROR, `${address} answered with bytes that are not msec frames (${message}); is that port an msec service?`, { target: address }));
      }
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code ?? error.message;
      this.fail(this.connected
        ? new RpcError(RpcErrorCode.CONNECTION_LOST, `the TCP connection to ${address} broke (${why}); requests in flight may or may not have run`, { target: address })
        : new RpcError(RpcErrorCode.CONNECT_FAILED, `cannot connect to ${address} over TCP (${why}); check that the instance is up and listening there`, { target: address }));
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => {
        clearTimeout(connectTimer);
        this.fail(new RpcError(RpcErrorCode.CONNECTION_LOST, `${address} closed the TCP connection; requests in flight may or may not have run`, { target: address }));
        resolve();
      });
    });
  }

  request(frame: RequestFrame, timeoutMs: number): Promise<ReplyFrame> {
    const sequence = this.nextSequence;
    this.nextSequence = sequence === sequenceWrap ? 1 : sequence + 1;
    const key = String(sequence);
    return new Promise<ReplyFrame>((resolve, reject) => {
      const p: Pending = { key, connection: this, resolve, reject, deadline: Date.now() + timeoutMs, timeoutMs, method: frame.method };
      this.writer.write(requestHead(frame, sequence, timeoutMs), frame.body);
      this.pending.set(key, p);
      this.deadlines.add(p, timeoutMs);
    });
  }

  /** Ends the connection; what is in flight fails with `reason`. */
  fail(reason: RpcError): void {
    if (this.failure === null) {
      this.failure = reason;
      this.onGone(this);
      this.socket.destroy();
    }
    for (const p of this.pending.values()) {
      this.pending.delete(p.key);
      this.deadlines.delete(p, p.timeoutMs);
      p.reject(new RpcError(reason.code, reason.message, { ...reason.details, method: p.method }));
    }
  }

  /** The deadline queue gave up on `p`. */
  expire(p: Pending): void {
    if (this.pending.delete(p.key)) p.reject(clientTimeout(this.to, p.method, p.timeoutMs, 'tcp'));
  }

  private answer(frame: Frame): void {
    const p = this.pending.get(frame.head.sequence);
    if (p === undefined) return; // answered after the caller gave up
    this.pending.delete(p.key);
    this.deadlines.delete(p, p.timeoutMs);
    p.resolve(replyOf(frame));
  }
}

export class TcpTransport {
  private readonly pools = new Map<string, { connections: TcpConnection[]; next: number }>();
  private readonly options: Required<TcpTransportOptions>;
  private readonly deadlines = new DeadlineQueue<Pending>((p) => p.connection.expire(p));
  private closed = false;

  constructor(options: TcpTransportOptions = {}) {
    this.options = {
      connectionsPerEndpoint: Math.max(1, options.connectionsPerEndpoint ?? 1),
      connectTimeoutMs: options.connectTimeoutMs ?? 1000,
      maxFrameBytes: options.maxFrameBytes ?? defaultMaxFrameBytes,
    };
  }

  request(to: Endpoint, frame: RequestFrame, timeoutMs: number): Promise<ReplyFrame> {
    if (this.closed) return Promise.reject(transportClosed(to, frame.method));
    if (!(timeoutMs > 0)) return Promise.reject(clientTimeout(to, frame.method, timeoutMs, 'tcp'));
    return this.connectionTo(to).request(frame, Math.min(timeoutMs, maxTimerMs));
  }

  private connectionTo(to: Endpoint): TcpConnection {
    const key = addressOf(to);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = { connections: [], next: 0 };
      this.pools.set(key, pool);
    }
    const { connections } = pool;
    if (connections.length < this.options.connectionsPerEndpoint) {
      const connection = new TcpConnection(to, this.options, this.deadlines, (gone) => {
        const at = connections.indexOf(gone);
        if (at >= 0) connections.splice(at, 1);
      });
      connections.push(connection);
      return connection;
    }
    pool.next = (pool.next + 1) % connections.length;
    return connections[pool.next]!;
  }

  /** Fails what is in flight with CONNECTION_LOST and closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()].flatMap((pool) => pool.connections);
    this.pools.clear();
    for (const connection of all) {
      connection.fail(new RpcError(RpcErrorCode.CONNECTION_LOST, 'the RPC transport was closed with this request in flight'));
    }
    this.deadlines.clear();
    await Promise.all(all.map((connection) => connection.closed));
  }
}
