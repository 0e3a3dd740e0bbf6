/**
 * The client's rules about outcomes, in one place: which errors count against an instance
 * (NLB feedback and breaker), which may be retried on another instance, and which protocol a
 * request travels on.
 */
import { RpcErrorCode, refusedUnrun } from '../contracts.ts';
import type { NlbProtocol } from '../../../domain/nlb/index.ts';
import { udpMaxFrameBytes } from '../../../adapters/rpc/transport.ts';

/** The caller's own mistakes: every instance would answer the same, so no instance is to blame. */
const callerMistakes: ReadonlySet<number> = new Set([RpcErrorCode.METHOD_NOT_FOUND, RpcErrorCode.BAD_REQUEST]);

/** Failures that may have run the request: retried elsewhere only when the call is idempotent. */
const retryableIfIdempotent: ReadonlySet<number> = new Set([
  RpcErrorCode.TIMEOUT, RpcErrorCode.HANDLER_ERROR, RpcErrorCode.CLIENT_TIMEOUT, RpcErrorCode.CONNECTION_LOST,
]);

/** Whether an attempt's outcome is a failure of the instance (MSEC's updateroute failed=1). */
export function failsInstance(code: number): boolean {
  return code !== RpcErrorCode.OK && !callerMistakes.has(code);
}

export function mayRetryElsewhere(code: number, idempotent: boolean): boolean {
  return refusedUnrun.has(code) || (idempotent && retryableIfIdempotent.has(code));
}

/**
 * Room for the head in a UDP datagram: caller names, a caller stack and the method name rarely
 * take more than a few hundred bytes.
 */
const headAllowance = 1024;
export const maxUdpBodyBytes = udpMaxFrameBytes - headAllowance;

/**
 * MSEC's choice: a `both` route goes over TCP unless UDP is asked for; a UDP-only route over
 * UDP. A request too large for a datagram always goes over TCP (every msec server listens on
 * both, rpc-wire.md), and so does anything when TCP is asked for.
 */
export function chooseProtocol(route: NlbProtocol, asked: 'auto' | 'tcp' | 'udp' = 'auto', bodyBytes = 0): 'tcp' | 'udp' {
  if (bodyBytes > maxUdpBodyBytes || asked === 'tcp' || route === 'tcp') return 'tcp';
  if (route === 'udp') return 'udp';
  return asked === 'udp' ? 'udp' : 'tcp';
}
