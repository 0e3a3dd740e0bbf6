/**
 * One request from arrival to answer, whatever it came in by (TCP frame, UDP datagram,
 * HTTP/JSON): find the method, decode and validate the request, wait for a handler slot
 * (Admission), run the handler under its deadline, encode the answer, report the call.
 * Every request gets exactly one answer, and every answer one CallRecord.
 */
import { newRequestId } from '../request-ids.ts';
import type { Logger } from 'pino';
import { RpcError, RpcErrorCode, refusedUnrun, type CallReporter, type Endpoint, type RpcCaller } from '../contracts.ts';
import { decodeMessage, encodeMessage, messageFromJson, messageToJson, type RpcMethod } from '../proto.ts';
import { DeadlineQueue } from '../../../adapters/rpc/deadlines.ts';
import { Admission, type Admissible } from './admission.ts';
import { ServerCallContext, type Handler } from './handler-context.ts';
import type { LogRuntime } from '../logs/log-runtime.ts';
import { metricsFor, type Metrics } from '../metrics.ts';
import { nullReporter } from '../reports/simple-reporters.ts';

/** A request as a listener hands it over. Exactly one of `body` (protobuf) and `json` is used. */
export interface IncomingCall {
  method: string;
  body: Uint8Array | null;
  json: unknown;
  /** Decimal flow id; '0' or '' when the caller sent none (one is made). */
  requestId: string;
  coloring: number;
  colorId: string;
  caller: string;
  callerStack: string[];
  deadlineMs: number;
  /** This server's address as the caller reached it. */
  instance: Endpoint;
  /** The sender's address (the ClientIP log header); absent when unknown. */
  peer?: string;
  /**
   * Refusals say only what went wrong, not what the service offers (UDP: a datagram's source
   * can be forged, so an answer must not be worth more than the request).
   */
  brief: boolean;
  /** Called once. `body` is set for binary calls, `json` for HTTP ones, when err is 0. */
  answer(outcome: Outcome): void;
}

export interface Outcome {
  /** False when the request was refused before its handler started (unknown method, bad body, overload, shutdown). */
  ran: boolean;
  err: number;
  result: number;
  errMsg: string;
  requestId: string;
  body: Uint8Array | null;
  json: Record<string, unknown> | null;
}

export interface MethodEntry {
  method: RpcMethod;
  handler: Handler | undefined;
  timeoutMs: number;
}

export interface DispatcherOptions {
  service: string;
  methods: ReadonlyMap<string, MethodEntry>;
  admission: Admission;
  reporter: CallReporter | undefined;
  client: RpcCaller | undefined;
  logger: Logger;
  /** Makes ctx.log (apps/rpc/logs/); absent: a plain pino child. */
  logs?: LogRuntime;
}


export class Dispatcher {
  private closing = false;
  private readonly running = new Set<Execution>();
  private idleWaiters: (() => void)[] = [];
  readonly deadlines = new DeadlineQueue<Execution>((execution) => execution.timedOut());
  /** ctx.metrics per address the server was reached on (the instance's IP in the views). */
  private readonly metricsByIp = new Map<string, Metrics>();

  constructor(readonly options: DispatcherOptions) {}

  metricsAt(ip: string): Metrics {
    let metrics = this.metricsByIp.get(ip);
    if (!metrics) {
      metrics = metricsFor({ service: this.options.service, ip, reporter: this.options.reporter ?? nullReporter });
      if (this.metricsByIp.size < 64) this.metricsByIp.set(ip, metrics);
    }
    return metrics;
  }

  dispatch(call: IncomingCall): void {
    const arrivedAt = Date.now();
    const requestId = call.requestId && call.requestId !== '0' ? call.requestId : newRequestId();
    if (this.closing) {
      return this.finish(call, requestId, arrivedAt, RpcErrorCode.SHUTTING_DOWN, 'the server is shutting down and did not run the request; call another instance');
    }
    const entry = this.options.methods.get(call.method);
    if (entry === undefined || entry.handler === undefined) {
      const what = entry === undefined ? `has no method "${call.method}"` : `has no handler for "${call.method}"`;
      if (call.brief) return this.finish(call, requestId, arrivedAt, RpcErrorCode.METHOD_NOT_FOUND, `${this.options.service} ${what}`);
      const known = [...this.options.methods.values()].filter((e) => e.handler).map((e) => e.method.fullName).join(', ');
      return this.finish(call, requestId, arrivedAt, RpcErrorCode.METHOD_NOT_FOUND, `${this.options.service} ${what}; it serves ${known || 'nothing'}`);
    }
    let request: Record<string, unknown>;
    try {
      request = call.body !== null ? decodeMessage(entry.method.requestType, call.body) : messageFromJson(entry.method.requestType, call.json);
    } catch (error) {
      return this.finish(call, requestId, arrivedAt, RpcErrorCode.BAD_REQUEST, error instanceof Error ? error.message : String(error));
    }
    const timeoutMs = call.deadlineMs > 0 ? Math.min(call.deadlineMs, entry.timeoutMs) : entry.timeoutMs;
    const execution = new Execution(this, call, entry, request, requestId, arrivedAt, timeoutMs);
    this.options.admission.admit(execution);
    execution.queued = true;
  }

  /**
   * Answers and reports; `response` is the handler's object when err is 0. `method` is given
   * once the handler started (Execution.answer), never for a refusal.
   */
  finish(call: IncomingCall, requestId: string, arrivedAt: number, err: number, errMsg: string, result = 0, response?: object, method?: RpcMethod): void {
    let body: Uint8Array | null = null;
    let json: Record<string, unknown> | null = null;
    if (err === 0 && response !== undefined && method !== undefined) {
      try {
        if (call.body !== null) body = encodeMessage(method.responseType, response);
        else json = messageToJson(method.responseType, response);
      } catch (error) {
        err = RpcErrorCode.HANDLER_ERROR;
        errMsg = `the handler of ${method.fullName} returned a response that does not fit ${method.responseType.name}: ${(error as Error).message}`;
        this.options.logger.warn({ method: method.fullName, requestId }, errMsg);
      }
    }
    call.answer({ ran: method !== undefined, err, result, errMsg, requestId, body, json });
    const { reporter } = this.options;
    if (reporter !== undefined) {
      const at = Date.now();
      reporter.record({
        side: 'server', caller: call.caller, callee: this.options.service, method: call.method,
        instance: call.instance, requestId, err, latencyMs: at - arrivedAt, at,
      });
    }
  }

  started(execution: Execution): void {
    this.running.add(execution);
  }

  settled(execution: Execution): void {
    this.running.delete(execution);
    if (this.running.size === 0 && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Refuses new and waiting requests with SHUTTING_DOWN, waits up to `graceMs` for running
   * handlers, then aborts the rest and answers them.
   */
  async shutDown(graceMs: number): Promise<void> {
    this.closing = true;
    this.options.admission.drain((waiting) => (waiting as Execution).refuseUnrun(
      RpcErrorCode.SHUTTING_DOWN, 'the server is shutting down and did not run the request; call another instance'));
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); }),
      ]);
      clearTimeout(timer);
    }
    for (const execution of [...this.running]) execution.stop();
  }
}

/** One admitted request: runs its handler once a slot is free, answers exactly once. */
class Execution implements Admissible {
  private answered = false;
  private timing = false;
  private ctx: ServerCallContext | null = null;
  readonly deadline: number;
  /** Set once admit() returned: a later start() comes from the wait queue. */
  queued = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly call: IncomingCall,
    private readonly entry: MethodEntry,
    private readonly request: Record<string, unknown>,
    private readonly requestId: string,
    readonly arrivedAt: number,
    private readonly timeoutMs: number,
  ) {
    this.deadline = arrivedAt + timeoutMs;
  }

  start(): boolean {
    // Started within dispatch(): no time has passed (and reading the clock is not free).
    if (this.queued && Date.now() >= this.deadline) {
      this.refuseUnrun(RpcErrorCode.TIMEOUT, `the deadline passed while the request waited for a handler; it did not run`);
      return false;
    }
    const { call } = this;
    const ctx = new ServerCallContext({
      service: this.dispatcher.options.service, method: this.entry.method.fullName, requestId: this.requestId,
      coloring: call.coloring, colorId: call.colorId, caller: call.caller, callerStack: call.callerStack, deadline: this.deadline,
      clientIp: call.peer, serverIp: call.instance.ip,
    }, this.dispatcher.options.client, this.dispatcher.options.logger, this.dispatcher.metricsAt(call.instance.ip), this.dispatcher.options.logs);
    this.ctx = ctx;
    this.dispatcher.started(this);
    this.timing = true;
    this.dispatcher.deadlines.add(this, this.timeoutMs);
    let pending: Promise<object> | object;
    try {
      pending = this.entry.handler!(this.request, ctx);
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then((response) => this.done(response), (error: unknown) => this.failed(error));
    return true;
  }

  refuse(waitedMs: number): void {
    this.refuseUnrun(RpcErrorCode.OVERLOADED,
      `the request waited ${waitedMs} ms for a free handler (${this.dispatcher.options.admission.maxConcurrent} run at once) and was not run; call another instance`);
  }

  refuseUnrun(err: number, errMsg: string): void {
    this.answered = true;
    this.dispatcher.finish(this.call, this.requestId, this.arrivedAt, err, errMsg);
  }

  timedOut(): void {
    this.timing = false;
    if (this.answered) return;
    const ms = this.timeoutMs;
    const error = new RpcError(RpcErrorCode.TIMEOUT, `${this.entry.method.fullName} did not finish within ${ms} ms`);
    this.ctx!.abort(error);
    this.answer(RpcErrorCode.TIMEOUT, `${error.message}; the handler was told to stop (ctx.signal)`);
  }

  /** The server stops waiting for this handler (shutdown). */
  stop(): void {
    const error = new RpcError(RpcErrorCode.TIMEOUT, 'the server shut down before the handler finished');
    this.ctx?.abort(error);
    if (!this.answered) this.answer(RpcErrorCode.TIMEOUT, `${error.message}; it may have done part of its work`);
    this.dispatcher.settled(this);
  }

  private answer(err: number, errMsg: string, response?: object): void {
    this.answered = true;
    if (this.timing) {
      this.timing = false;
      this.dispatcher.deadlines.delete(this, this.timeoutMs);
    }
    this.dispatcher.finish(this.call, this.requestId, this.arrivedAt, err, errMsg, this.ctx!.result, response, this.entry.method);
    this.dispatcher.options.admission.leave();
  }

  private done(response: unknown): void {
    this.dispatcher.settled(this);
    if (this.answered) return;
    if (response === null || typeof response !== 'object') {
      this.answer(RpcErrorCode.HANDLER_ERROR, `the handler of ${this.entry.method.fullName} returned ${String(response)}, not a ${this.entry.method.responseType.name} object`);
      return;
    }
    this.answer(RpcErrorCode.OK, '', response);
  }

  private failed(error: unknown): void {
    this.dispatcher.settled(this);
    if (this.answered) return;
    // A handler may answer a framework code, but never one that tells the caller "not run,
    // try elsewhere": a downstream OVERLOADED or SHUTTING_DOWN thrown on by a handler that
    // already did work would make the caller run a non-idempotent call twice.
    if (error instanceof RpcError && error.code > 0 && error.code < 2000 && !refusedUnrun.has(error.code)) {
      this.answer(error.code, error.message);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.dispatcher.options.logger.warn({ err: error, method: this.entry.method.fullName, requestId: this.requestId }, 'handler failed');
    this.answer(RpcErrorCode.HANDLER_ERROR, message);
  }
}
