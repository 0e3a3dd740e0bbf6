/**
 * The client transport (RpcTransport in apps/rpc/contracts.ts): long-lived TCP connections
 * per endpoint and one UDP socket, both speaking schemas/rpc-wire.md frames.
 */
import type { Endpoint, ReplyFrame, RequestFrame, RpcTransport } from '../../apps/rpc/contracts.ts';
import { TcpTransport } from './tcp-transport.ts';
import { UdpTransport } from './udp-transport.ts';

export { udpMaxFrameBytes, defaultMaxFrameBytes } from './framing.ts';

export interface TransportOptions {
  /** TCP connections kept per endpoint, requests spread over them in turn (default 1). */
  connectionsPerEndpoint?: number;
  /** How long a TCP connect may take before its requests fail with CONNECT_FAILED (default 1000 ms). */
  connectTimeoutMs?: number;
  /** Largest answer frame accepted (default 16 MiB, as servers). */
  maxFrameBytes?: number;
}

/**
 * `request` rejects with RpcError: CONNECT_FAILED (could not connect or send; the request
 * did not run), CLIENT_TIMEOUT, CONNECTION_LOST (the connection broke with the request in
 * flight), FRAME_ERROR (the peer sent non-frames, or a UDP request over `udpMaxFrameBytes`).
 * A request frame's `deadlineMs` of 0 is sent as `timeoutMs`. Answer bodies are views
 * into the bytes read from the socket (never reused; no copy is made).
 */
export function createTransport(options: TransportOptions = {}): RpcTransport {
  const tcp = new TcpTransport(options);
  const udp = new UdpTransport(options.maxFrameBytes);
  return {
    request(to: Endpoint, protocol: 'tcp' | 'udp', frame: RequestFrame, timeoutMs: number): Promise<ReplyFrame> {
      return protocol === 'udp' ? udp.request(to, frame, timeoutMs) : tcp.request(to, frame, timeoutMs);
    },
    async close(): Promise<void> {
      await Promise.all([tcp.close(), udp.close()]);
    },
  };
}
