/**
 * What a handler gets besides its request: the call's metadata (CallContext), a way to
 * call other services that carries the request id, coloring, caller and the time left
 * along, and a logger bound to the request. The abort signal and the logger are made on
 * first use: most handlers never touch them, and they cost more than the rest of a call.
 */
import type { Logger } from 'pino';
import type { CallContext, CallOptions, RpcCaller } from '../contracts.ts';
import type { LogRuntime } from '../logs/log-runtime.ts';
import type { Metrics } from '../metrics.ts';

export interface HandlerContext extends CallContext {
  /**
   * Calls `method` (`package.Service.Method`) on `target` (a service name or `ip:port`) as
   * part of this request. Needs serve({ client }).
   */
  call<Res = Record<string, unknown>>(target: string, method: string, request: object, options?: Omit<CallOptions, 'parent'>): Promise<Res>;
  /**
   * Bound to requestId, method and caller; a colored request (coloring = 1) logs at every level.
   * Records the service keeps are also shipped centrally with MSEC's headers and the
   * service's custom fields (apps/rpc/logs/).
   */
  readonly log: Logger;
  /** Business metrics of this service and instance: `ctx.metrics.add('orders')`, `ctx.metrics.set('queue', n)` (usr.*). */
  readonly metrics: Metrics;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Message = Record<string, any>;
/**
 * A method's implementation: the request as a plain object (apps/rpc/proto.ts), the
 * response object to send back. Declared as a method so handlers may type their request.
 */
export type Handler = { bivariant(request: Message, ctx: HandlerContext): Promise<object> | object }['bivariant'];

export interface ContextInit {
  service: string;
  method: string;
  requestId: string;
  coloring: number;
  colorId: string;
  caller: string;
  callerStack: string[];
  deadline: number;
  /** Who sent the request, and this server's address as they reached it (log headers). */
  clientIp?: string;
  serverIp?: string;
}

export class ServerCallContext implements HandlerContext {
  readonly service: string;
  readonly method: string;
  readonly requestId: string;
  /** Not readonly: a [COLOR] rule matching a record colors the request from then on (and its calls). */
  coloring: number;
  readonly colorId: string;
  readonly caller: string;
  readonly callerStack: string[];
  readonly deadline: number;
  readonly clientIp: string;
  readonly serverIp: string;
  result = 0;
  private controller: AbortController | null = null;
  private abortReason: unknown = undefined;
  private logger: Logger | null = null;

  constructor(init: ContextInit, private readonly client: RpcCaller | undefined, private readonly baseLogger: Logger, readonly metrics: Metrics, private readonly logs?: LogRuntime) {
    this.service = init.service;
    this.method = init.method;
    this.requestId = init.requestId;
    this.coloring = init.coloring;
    this.colorId = init.colorId;
    this.caller = init.caller;
    this.callerStack = init.callerStack;
    this.deadline = init.deadline;
    this.clientIp = init.clientIp ?? '';
    this.serverIp = init.serverIp ?? '';
  }

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get log(): Logger {
    if (this.logger === null && this.logs) {
      this.logger = this.logs.forRequest({
        requestId: this.requestId, clientIp: this.clientIp, serverIp: this.serverIp, rpcName: this.method, caller: this.caller,
        coloring: this.coloring, onColored: () => void (this.coloring = 1),
      });
    }
    if (this.logger === null) {
      const bindings = { requestId: this.requestId, method: this.method, caller: this.caller };
      this.logger = this.coloring ? this.baseLogger.child(bindings, { level: 'trace' }) : this.baseLogger.child(bindings);
    }
    return this.logger;
  }

  setResult(code: number): void {
    this.result = code | 0;
  }

  /** Aborts `signal` (at the deadline, or when the server stops waiting for the handler). */
  abort(reason: Error): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  call<Res = Record<string, unknown>>(target: string, method: string, request: object, options: Omit<CallOptions, 'parent'> = {}): Promise<Res> {
    if (this.client === undefined) {
      return Promise.reject(new Error(`ctx.call(${target}, ${method}) needs an RPC client: pass serve({ client }) to call other services from handlers`));
    }
    return this.client.call<Res>(target, method, request, { ...options, parent: this });
  }
}
