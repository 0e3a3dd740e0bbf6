/**
 * The service's TCP port: the first byte of a connection decides what it speaks. '(' starts
 * binary frames (rpc-wire.md), handled here with many requests in flight; anything else is
 * handed to the HTTP/JSON server with the sniffed bytes put back. A connection that sends
 * bytes which are not frames is closed (after a FRAME_ERROR answer when its sequence could
 * be read); the others carry on.
 */
import net from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { RpcErrorCode, type Endpoint } from '../contracts.ts';
import { FrameDecoder, FramingError, frameStart, type Frame } from '../../../adapters/rpc/framing.ts';
import { FrameWriter } from '../../../adapters/rpc/frame-writer.ts';
import type { Dispatcher, IncomingCall, Outcome } from './dispatcher.ts';

export interface TcpListenerOptions {
  host: string;
  port: number;
  dispatcher: Dispatcher;
  http: HttpServer;
  maxFrameBytes: number;
  logger: Logger;
}

const emptyBody = new Uint8Array(0);
/** Answers waiting to be written past this many bytes: stop reading requests until they drain. */
const writeBacklogLimit = 4 * 1024 * 1024;

export class TcpListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly writers = new Map<net.Socket, FrameWriter>();

  constructor(private readonly options: TcpListenerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Resolves with the bound port once listening. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections; open ones stay until `closeConnections`. */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Writes what is queued, then ends every connection. */
  closeConnections(): void {
    for (const writer of this.writers.values()) writer.flush();
    for (const socket of this.sockets) socket.end();
    this.options.http.closeAllConnections();
    setTimeout(() => { for (const socket of this.sockets) socket.destroy(); }, 1000).unref();
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.writers.delete(socket);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.options.logger.debug({ remote: socket.remoteAddress, code: error.code }, 'RPC connection error');
    });
    socket.once('data', (first: Buffer) => {
      if (first[0] === frameStart) {
        this.serveFrames(socket, first);
      } else {
        socket.pause();
        socket.unshift(first);
        this.options.http.emit('connection', socket);
        socket.resume();
      }
    });
  }

  private serveFrames(socket: net.Socket, first: Buffer): void {
    const { dispatcher, logger } = this.options;
    const writer = new FrameWriter(socket);
    this.writers.set(socket, writer);
    const instance: Endpoint = { ip: stripV4Mapped(socket.localAddress ?? this.options.host), port: socket.localPort ?? this.options.port };
    let broken = false;
    let paused = false;

    const onFrame = (frame: Frame) => {
      const { head } = frame;
      const sequence = head.sequence;
      const call: IncomingCall = {
        method: head.methodName, body: frame.body, json: null,
        requestId: head.flowId, coloring: head.coloring, colorId: head.colorId,
        caller: head.caller, callerStack: head.callerStack, deadlineMs: head.deadlineMs, instance,
        answer(outcome: Outcome) {
          if (broken) return;
          writer.write({
            sequence, flowId: outcome.requestId, coloring: head.coloring, colorId: head.colorId, methodName: head.methodName,
            err: outcome.err, result: outcome.result, errMsg: outcome.errMsg,
          }, outcome.body ?? emptyBody);
        },
      };
      dispatcher.dispatch(call);
      if (!paused && socket.writableLength > writeBacklogLimit) {
        paused = true;
        socket.pause();
        socket.once('drain', () => {
          paused = false;
          socket.resume();
        });
      }
    };
    const decoder = new FrameDecoder(onFrame, this.options.maxFrameBytes);

    const onData = (chunk: Buffer) => {
      if (broken) return;
      try {
        decoder.push(chunk);
      } catch (error) {
        if (!(error instanceof FramingError)) throw error;
        broken = true;
        logger.warn({ remote: socket.remoteAddress, err: error.message }, 'closing an RPC connection that sent bytes which are not frames');
        if (error.sequence !== undefined) {
          writer.write({ sequence: error.sequence, err: RpcErrorCode.FRAME_ERROR, errMsg: `${error.message}; this connection is closed` }, emptyBody);
        }
        writer.flush();
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }
    };
    socket.on('data', onData);
    onData(first);
  }
}

function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
