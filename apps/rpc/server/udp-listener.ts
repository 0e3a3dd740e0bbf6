/**
 * The service's UDP port (the same number as TCP): one request frame per datagram, the
 * answer sent back to the datagram's source. Datagrams that are not frames are dropped.
 * An answer too large for a datagram becomes a FRAME_ERROR answer telling the caller to
 * use TCP for that method.
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { RpcErrorCode, type Endpoint } from '../contracts.ts';
import { FramingError, decodeFrame, encodeFrame, udpMaxFrameBytes, type FrameHead } from '../../../adapters/rpc/framing.ts';
import type { Dispatcher, IncomingCall, Outcome } from './dispatcher.ts';

export interface UdpListenerOptions {
  host: string;
  port: number;
  dispatcher: Dispatcher;
  maxFrameBytes: number;
  logger: Logger;
}

const emptyBody = new Uint8Array(0);

export class UdpListener {
  private readonly socket: dgram.Socket;
  private lastDropLog = 0;
  private closed = false;

  constructor(private readonly options: UdpListenerOptions) {
    this.socket = dgram.createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4' });
    this.socket.on('message', (datagram, from) => this.receive(datagram, from));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.options.port, this.options.host, () => {
        this.socket.off('error', reject);
        this.socket.on('error', (error) => this.options.logger.warn({ err: error.message }, 'UDP socket error'));
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(datagram: Buffer, from: dgram.RemoteInfo): void {
    let frame;
    try {
      frame = decodeFrame(datagram, Math.min(this.options.maxFrameBytes, udpMaxFrameBytes));
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      const now = Date.now();
      if (now - this.lastDropLog > 10_000) {
        this.lastDropLog = now;
        this.options.logger.warn({ remote: `${from.address}:${from.port}`, err: error.message }, 'dropped a UDP datagram that is not an msec frame (logged at most every 10 s)');
      }
      return;
    }
    const { head } = frame;
    const instance: Endpoint = { ip: this.options.host, port: this.options.port };
    const call: IncomingCall = {
      method: head.methodName, body: frame.body, json: null,
      requestId: head.flowId, coloring: head.coloring, colorId: head.colorId,
      caller: head.caller, callerStack: head.callerStack, deadlineMs: head.deadlineMs, instance,
      answer: (outcome: Outcome) => this.reply(head, from, outcome),
    };
    this.options.dispatcher.dispatch(call);
  }

  private reply(head: FrameHead, to: dgram.RemoteInfo, outcome: Outcome): void {
    if (this.closed) return;
    const replyHead = {
      sequence: head.sequence, flowId: outcome.requestId, coloring: head.coloring, colorId: head.colorId, methodName: head.methodName,
      err: outcome.err, result: outcome.result, errMsg: outcome.errMsg,
    };
    let bytes = encodeFrame(replyHead, outcome.body ?? emptyBody);
    if (bytes.length > udpMaxFrameBytes) {
      bytes = encodeFrame({
        ...replyHead, err: RpcErrorCode.FRAME_ERROR,
        errMsg: `the answer of ${bytes.length} bytes does not fit in a UDP datagram (at most ${udpMaxFrameBytes}); call ${head.methodName} over TCP`,
      }, emptyBody);
    }
    this.socket.send(bytes, to.port, to.address, () => { /* a lost answer is a client timeout */ });
  }
}
