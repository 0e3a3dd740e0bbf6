/**
 * The seams between the RPC pieces (issue 4): the transport (adapters/rpc, frames over
 * TCP/UDP), the server runtime (apps/rpc/server) and the client SDK (apps/rpc/client).
 * Wire format: schemas/rpc-wire.md.
 */

/** Framework error codes on the wire (rpc-wire.md) and client-side ones (2001+). */
export const RpcErrorCode = {
  OK: 0,
  METHOD_NOT_FOUND: 1001,
  BAD_REQUEST: 1002,
  TIMEOUT: 1003,
  OVERLOADED: 1004,
  HANDLER_ERROR: 1005,
  SHUTTING_DOWN: 1006,
  FRAME_ERROR: 1007,
  NO_ROUTE: 2001,
  CONNECT_FAILED: 2002,
  CLIENT_TIMEOUT: 2003,
  CIRCUIT_OPEN: 2004,
  CONNECTION_LOST: 2005,
} as const;
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/** Codes after which the request certainly did not run: any call may go to another instance. */
export const refusedUnrun: ReadonlySet<number> = new Set([
  RpcErrorCode.OVERLOADED, RpcErrorCode.SHUTTING_DOWN, RpcErrorCode.CONNECT_FAILED,
  RpcErrorCode.CIRCUIT_OPEN, RpcErrorCode.NO_ROUTE,
]);

export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly details: { target?: string; method?: string } = {}) {
    super(message);
    this.name = 'RpcError';
  }
}

/** The request metadata carried by the head and propagated to every downstream call. */
export interface CallMeta {
  /** flow_id as a decimal string (64-bit). */
  requestId: string;
  coloring: number;
  colorId: string;
  /** The caller of this call (`First.Second` or a client name). */
  caller: string;
  callerStack: string[];
}

export interface RequestFrame extends CallMeta {
  method: string;
  body: Uint8Array;
  /** Time left in ms as sent (0: none). */
  deadlineMs: number;
}

export interface ReplyFrame {
  err: number;
  result: number;
  errMsg: string;
  body: Uint8Array;
  requestId: string;
}

export interface Endpoint {
  ip: string;
  port: number;
}

/** Client transport: connection pools per endpoint, long-lived TCP, a UDP socket. */
export interface RpcTransport {
  /**
   * Sends one request and resolves with the answer frame (err may be non-zero), or rejects
   * with RpcError(CONNECT_FAILED | CLIENT_TIMEOUT | CONNECTION_LOST | FRAME_ERROR).
   */
  request(to: Endpoint, protocol: 'tcp' | 'udp', frame: RequestFrame, timeoutMs: number): Promise<ReplyFrame>;
  close(): Promise<void>;
}

/** What a handler gets besides its request. */
export interface CallContext extends CallMeta {
  /** The serving service (`First.Second`). */
  service: string;
  /** `package.Service.Method` being served. */
  method: string;
  /** Epoch ms after which the caller no longer waits. */
  deadline: number;
  /** Aborted at the deadline or when the server shuts down. */
  signal: AbortSignal;
  /** Sets the answer's `result` code (business result, 0 by default). */
  setResult(code: number): void;
}

/** One finished call, as both sides report it (route feedback, frm.* metrics, call edges). */
export interface CallRecord {
  side: 'client' | 'server';
  /** Calling service or client name. */
  caller: string;
  /** Called service (`First.Second`, or `ip:port` when called by address). */
  callee: string;
  method: string;
  /** The instance that served (client side) or this server's address (server side). */
  instance: Endpoint;
  requestId: string;
  /** Framework error code (0 = ok). */
  err: number;
  latencyMs: number;
  /** Epoch ms when the call ended. */
  at: number;
}

/** One user metric call (`ctx.metrics.add/set`), as handed to the reporter. */
export interface MetricPoint {
  service: string;
  /** The full name (`usr.orders`). */
  name: string;
  /** The instance it is about ('' for the whole service only). */
  ip: string;
  kind: 'add' | 'set';
  value: number;
  /** Epoch ms of the call. */
  at: number;
}

/** Where the runtime and the client SDK hand their call records (buffered, flushed to the bus). */
export interface CallReporter {
  record(call: CallRecord): void;
  /** Buffers a user metric for the next flush (reporters that keep no metrics leave it out). */
  metric?(point: MetricPoint): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface CallOptions {
  /** Overall time budget in ms (default 800, MSEC's); never more than the parent's time left. */
  timeoutMs?: number;
  /** Safe to run twice: failures may be retried on another instance. */
  idempotent?: boolean;
  /** The call being served, when calling from a handler: request id, coloring, caller and deadline follow. */
  parent?: CallContext;
  /** `auto` (default, MSEC's rule): TCP for a `both` route, UDP for a UDP-only route; large requests always TCP. */
  protocol?: 'auto' | 'tcp' | 'udp';
}

/**
 * Calls a method by its full name (`package.Service.Method`) on a target: a service name
 * (`Flight.mod_flight`, resolved through the route cache) or an address (`ip:port`).
 * The request/response types come from .proto files the caller loaded.
 */
export interface RpcCaller {
  call<Res = Record<string, unknown>>(target: string, method: string, request: object, options?: CallOptions): Promise<Res>;
}
