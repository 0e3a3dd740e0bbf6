/**
 * One TCP connection speaking binary frames (rpc-wire.md), many requests in flight. What it
 * may hold of the server is bounded: an unfinished frame counts against the port's
 * BufferBudget and must arrive whole within the read timeout; a connection with nothing to
 * read and nothing in flight for the idle timeout is closed (a client reconnects when it
 * next calls); one that sends bytes which are not frames is closed (after a FRAME_ERROR
 * answer when its sequence could be read). Connections with traffic are never cut.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import { RpcErrorCode, type Endpoint } from '../contracts.ts';
import { FrameDecoder, FramingError, type Frame } from '../../../adapters/rpc/framing.ts';
import { FrameWriter } from '../../../adapters/rpc/frame-writer.ts';
import { maxTimerMs } from '../../../adapters/rpc/call-frames.ts';
import type { Dispatcher, IncomingCall, Outcome } from './dispatcher.ts';
import type { BufferBudget } from './buffer-budget.ts';
import type { LogThrottle } from './log-throttle.ts';
import type { PortLimits } from './settings.ts';

export interface FrameConnectionOptions {
  dispatcher: Dispatcher;
  limits: PortLimits;
  budget: BufferBudget;
  /** This server's address as the caller reached it. */
  instance: Endpoint;
  logger: Logger;
  /** Shared by the port's connections: what peers do wrong is logged at most every 10 s. */
  peerWarnings: LogThrottle;
}

const emptyBody = new Uint8Array(0);
/** Answers waiting to be written past this many bytes: stop reading requests until they drain. */
const writeBacklogLimit = 4 * 1024 * 1024;

export class FrameConnection {
  readonly writer: FrameWriter;
  private decoder: FrameDecoder;
  private broken = false;
  private paused = false;
  /** Requests dispatched and not answered yet. */
  private inFlight = 0;
  /** Bytes of the unfinished frame, as counted in the budget. */
  private held = 0;
  private framesRead = 0;
  /** Runs while a frame is unfinished; `framesAtStart` tells a new frame from the same one. */
  private readTimer: NodeJS.Timeout | null = null;
  private framesAtStart = 0;

  constructor(private readonly socket: net.Socket, private readonly o: FrameConnectionOptions) {
    this.writer = new FrameWriter(socket);
    this.decoder = new FrameDecoder((frame) => this.dispatch(frame), o.limits.maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('timeout', () => {
      if (this.inFlight === 0) this.close('it sent nothing and waited for nothing', 'debug');
    });
    socket.once('close', () => this.release());
  }

  /** Bytes a connection sent before it was known to speak frames. */
  read(chunk: Buffer): void {
    if (this.broken) return;
    try {
      this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      if (error.sequence !== undefined) {
        this.writer.write({ sequence: error.sequence, err: RpcErrorCode.FRAME_ERROR, errMsg: `${error.message}; this connection is closed` }, emptyBody);
      }
      this.close(`it sent bytes which are not frames (${error.message})`);
      return;
    }
    const pending = this.decoder.pendingBytes;
    if (!this.o.budget.resize(this.held, pending)) {
      this.close(`the server holds ${this.o.budget.bytes} bytes of unfinished requests (max_buffered_bytes ${this.o.budget.limit}) and cannot take ${pending} more`);
      return;
    }
    this.held = pending;
    this.watchUnfinished();
  }

  private dispatch(frame: Frame): void {
    const { head } = frame;
    const { sequence } = head;
    const { writer } = this;
    this.framesRead++;
    this.inFlight++;
    const call: IncomingCall = {
      method: head.methodName, body: frame.body, json: null,
      requestId: head.flowId, coloring: head.coloring, colorId: head.colorId,
      caller: head.caller, callerStack: head.callerStack, deadlineMs: head.deadlineMs, instance: this.o.instance, brief: false,
      peer: this.socket.remoteAddress?.replace(/^::ffff:/, ''),
      answer: (outcome: Outcome) => {
        this.inFlight--;
        if (this.broken) return;
        writer.write({
          sequence, flowId: outcome.requestId, coloring: head.coloring, colorId: head.colorId, methodName: head.methodName,
          err: outcome.err, result: outcome.result, errMsg: outcome.errMsg,
        }, outcome.body ?? emptyBody);
      },
    };
    this.o.dispatcher.dispatch(call);
    if (!this.paused && this.socket.writableLength > writeBacklogLimit) {
      this.paused = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.paused = false;
        this.socket.resume();
      });
    }
  }

  /** A frame begun must be whole within read_timeout: a peer cannot hold its bytes here forever. */
  private watchUnfinished(): void {
    if (this.held === 0) {
      if (this.readTimer) clearTimeout(this.readTimer);
      this.readTimer = null;
      return;
    }
    if (this.readTimer === null) {
      this.readTimer = setTimeout(() => this.close(`a frame did not arrive whole within read_timeout (${this.o.limits.readTimeoutMs} ms)`),
        Math.min(this.o.limits.readTimeoutMs, maxTimerMs));
      this.readTimer.unref();
    } else if (this.framesRead !== this.framesAtStart) {
      this.readTimer.refresh(); // another frame is unfinished now: its own time starts
    }
    this.framesAtStart = this.framesRead;
  }

  /** Ends the connection: answers already queued are written first, unread bytes are dropped. */
  private close(why: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.broken) return;
    this.broken = true;
    const { log, skipped } = level === 'warn' ? this.o.peerWarnings.take() : { log: true, skipped: 0 };
    if (log) this.o.logger[level]({ remote: this.socket.remoteAddress, skipped }, `closing an RPC connection: ${why}`);
    this.release();
    this.decoder = new FrameDecoder(() => {}, 0); // lets the unfinished frame's bytes go now
    this.socket.pause(); // and reads no more: what the peer still sends stays in the kernel's buffer
    this.writer.flush();
    // Gone once the queued answers are written: a paused socket would never see the peer's FIN.
    this.socket.end(() => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private release(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = null;
    this.o.budget.resize(this.held, 0);
    this.held = 0;
  }
}
