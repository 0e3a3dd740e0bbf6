/**
 * Between the contract's RequestFrame/ReplyFrame (apps/rpc/contracts.ts) and wire frames,
 * plus the errors both transports raise, worded for the person who has to act on them.
 */
import { RpcError, RpcErrorCode, type Endpoint, type ReplyFrame, type RequestFrame } from '../../apps/rpc/contracts.ts';
import type { Frame, FrameHeadInit } from './framing.ts';

/** Node timers take at most 2^31-1 ms. */
export const maxTimerMs = 2_147_483_647;

export function requestHead(frame: RequestFrame, sequence: number, timeoutMs: number): FrameHeadInit {
  return {
    sequence,
    coloring: frame.coloring,
    colorId: frame.colorId,
    flowId: frame.requestId,
    caller: frame.caller,
    callerStack: frame.callerStack,
    methodName: frame.method,
    // The server stops work past the deadline; without one from the caller, how long we wait is it.
    deadlineMs: frame.deadlineMs > 0 ? frame.deadlineMs : Math.min(Math.ceil(timeoutMs), 0xffffffff),
  };
}

export function replyOf(frame: Frame): ReplyFrame {
  const { head } = frame;
  return { err: head.err, result: head.result, errMsg: head.errMsg, body: frame.body, requestId: head.flowId };
}

export function addressOf(to: Endpoint): string {
  return to.ip.includes(':') ? `[${to.ip}]:${to.port}` : `${to.ip}:${to.port}`;
}

export function clientTimeout(to: Endpoint, method: string, timeoutMs: number, protocol: 'tcp' | 'udp'): RpcError {
  return new RpcError(RpcErrorCode.CLIENT_TIMEOUT,
    `no answer from ${addressOf(to)} (${protocol}) for ${method} within ${timeoutMs} ms; raise the call's timeoutMs or check that instance's load`,
    { target: addressOf(to), method });
}

export function transportClosed(to: Endpoint, method: string): RpcError {
  return new RpcError(RpcErrorCode.CONNECT_FAILED, 'the RPC transport is closed; create a new one to make calls', { target: addressOf(to), method });
}
