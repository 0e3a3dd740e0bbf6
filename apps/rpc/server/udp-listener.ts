/**
 * The service's UDP port (the same number as TCP): one request frame per datagram, the
 * answer sent back to the datagram's source. Datagrams that are not frames are dropped.
 * An answer too large for a datagram becomes a FRAME_ERROR answer telling the caller to
 * use TCP for that method.
 *
 * A datagram's source address can be forged, which makes any answer a reflection toward
 * whoever the sender names. A request refused before its handler ran (unknown method, a body
 * that does not decode, overload, shutdown) is answered with no more bytes than it had: the
 * error message is short (no list of methods), cut to fit, or the answer is not sent at all.
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { RpcErrorCode, type Endpoint } from '../contracts.ts';
import { FramingError, decodeFrame, encodeFrame, udpMaxFrameBytes, type FrameHead, type FrameHeadInit } from '../../../adapters/rpc/framing.ts';
import type { Dispatcher, IncomingCall, Outcome } from './dispatcher.ts';
import { LogThrottle } from './log-throttle.ts';

export interface UdpListenerOptions {
  host: string;
  port: number;
  dispatcher: Dispatcher;
  maxFrameBytes: number;
  logger: Logger;
}

const emptyBody = new Uint8Array(0);

/**
 * The refusal `head` as a frame of at most `limit` bytes: its err_msg cut (on a character
 * boundary) until it fits, or null when even an empty one does not.
 */
export function refusalWithin(head: FrameHeadInit, limit: number): Buffer | null {
  const full = encodeFrame(head, emptyBody);
  if (full.length <= limit) return full;
  const bare = encodeFrame({ ...head, errMsg: '' }, emptyBody);
  if (bare.length > limit) return null;
  const message = Buffer.from(head.errMsg ?? '', 'utf8');
  // The text costs its bytes plus the field's tag and length prefix: take off what is over.
  let room = limit - bare.length;
  for (;;) {
    room = Math.min(room, message.length - 1);
    while (room > 0 && (message[room]! & 0xc0) === 0x80) room--; // never inside a UTF-8 character
    if (room <= 0) return bare;
    const cut = encodeFrame({ ...head, errMsg: message.subarray(0, room).toString('utf8') }, emptyBody);
    if (cut.length <= limit) return cut;
    room -= cut.length - limit;
  }
}

export class UdpListener {
  private readonly socket: dgram.Socket;
  private readonly drops = new LogThrottle();
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
      this.dropped(from, `dropped a UDP datagram that is not an msec frame: ${error.message}`);
      return;
    }
    const { head } = frame;
    const instance: Endpoint = { ip: this.options.host, port: this.options.port };
    const call: IncomingCall = {
      method: head.methodName, body: frame.body, json: null,
      requestId: head.flowId, coloring: head.coloring, colorId: head.colorId,
      caller: head.caller, callerStack: head.callerStack, deadlineMs: head.deadlineMs, instance, brief: true, peer: from.address.replace(/^::ffff:/, ''),
      answer: (outcome: Outcome) => this.reply(head, from, outcome, datagram.length),
    };
    this.options.dispatcher.dispatch(call);
  }

  private reply(head: FrameHead, to: dgram.RemoteInfo, outcome: Outcome, requestBytes: number): void {
    if (this.closed) return;
    const replyHead = {
      sequence: head.sequence, flowId: outcome.requestId, coloring: head.coloring, colorId: head.colorId, methodName: head.methodName,
      err: outcome.err, result: outcome.result, errMsg: outcome.errMsg,
    };
    if (!outcome.ran) {
      const refusal = refusalWithin(replyHead, requestBytes);
      if (refusal === null) {
        this.dropped(to, `did not answer a refused UDP request (${outcome.errMsg}): even a bare answer is larger than its ${requestBytes} bytes`);
      } else {
        this.socket.send(refusal, to.port, to.address, () => { /* a lost answer is a client timeout */ });
      }
      return;
    }
    let bytes = encodeFrame(replyHead, outcome.body ?? emptyBody);
    if (bytes.length > udpMaxFrameBytes) {
      bytes = encodeFrame({
        ...replyHead, err: RpcErrorCode.FRAME_ERROR,
        errMsg: `the answer of ${bytes.length} bytes does not fit in a UDP datagram (at most ${udpMaxFrameBytes}); call ${head.methodName} over TCP`,
      }, emptyBody);
    }
    this.socket.send(bytes, to.port, to.address, () => { /* a lost answer is a client timeout */ });
  }

  private dropped(from: dgram.RemoteInfo, what: string): void {
    const { log, skipped } = this.drops.take();
    if (log) this.options.logger.warn({ remote: `${from.address}:${from.port}`, skipped }, `${what} (logged at most every 10 s)`);
  }
}
