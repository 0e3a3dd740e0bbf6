/**
 * The service's TCP port: the first byte of a connection decides what it speaks. '(' starts
 * binary frames (frame-connection.ts); anything else is handed to the HTTP/JSON server with
 * the sniffed bytes put back. At most max_connections are open at once (more are closed as
 * they come); a connection that sends nothing within idle_timeout is closed.
 */
import net from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Endpoint } from '../contracts.ts';
import { frameStart } from '../../../adapters/rpc/framing.ts';
import { maxTimerMs } from '../../../adapters/rpc/call-frames.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { BufferBudget } from './buffer-budget.ts';
import { FrameConnection } from './frame-connection.ts';
import { LogThrottle } from './log-throttle.ts';
import type { PortLimits } from './settings.ts';

export interface TcpListenerOptions {
  host: string;
  port: number;
  dispatcher: Dispatcher;
  http: HttpServer;
  limits: PortLimits;
  budget: BufferBudget;
  logger: Logger;
}

export class TcpListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly frames = new Map<net.Socket, FrameConnection>();
  private readonly peerWarnings = new LogThrottle();

  constructor(private readonly options: TcpListenerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.maxConnections = options.limits.maxConnections;
    this.server.on('drop', (peer?: { remoteAddress?: string }) => {
      const { log, skipped } = this.peerWarnings.take();
      if (log) options.logger.warn({ remote: peer?.remoteAddress, skipped }, `refused an RPC connection: ${options.limits.maxConnections} are open (max_connections)`);
    });
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
    for (const connection of this.frames.values()) connection.writer.flush();
    for (const socket of this.sockets) socket.end();
    this.options.http.closeAllConnections();
    this.options.http.close(); // stops its timeout checks; it never listened itself
    setTimeout(() => { for (const socket of this.sockets) socket.destroy(); }, 1000).unref();
  }

  private accept(socket: net.Socket): void {
    const { limits, logger } = this.options;
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.frames.delete(socket);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      logger.debug({ remote: socket.remoteAddress, code: error.code }, 'RPC connection error');
    });
    socket.setTimeout(Math.min(limits.idleTimeoutMs, maxTimerMs));
    const silent = () => socket.destroy();
    socket.once('timeout', silent);
    socket.once('data', (first: Buffer) => {
      socket.off('timeout', silent);
      if (first[0] === frameStart) {
        const instance: Endpoint = { ip: stripV4Mapped(socket.localAddress ?? this.options.host), port: socket.localPort ?? this.options.port };
        const connection = new FrameConnection(socket, {
          dispatcher: this.options.dispatcher, limits, budget: this.options.budget, instance, logger, peerWarnings: this.peerWarnings,
        });
        this.frames.set(socket, connection);
        connection.read(first);
      } else {
        // The HTTP server keeps its own idle timeout (the same idle_timeout) from here on.
        socket.setTimeout(0);
        socket.pause();
        socket.unshift(first);
        this.options.http.emit('connection', socket);
        socket.resume();
      }
    });
  }
}

function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
