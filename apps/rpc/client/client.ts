/**
 * The RPC client SDK (MSEC's CallMethod / CSrpcProxy): resolve a target, pick an instance by
 * NLB, send the request frame, feed the outcome back (NLB tallies, breaker, reporter), retry on
 * another instance when that is safe, all within one deadline that only shrinks across hops.
 */
import type { Logger } from 'pino';
import { createTransport } from '../../../adapters/rpc/transport.ts';
import type { BreakerSettings, NlbSettings, Random } from '../../../domain/nlb/index.ts';
import {
  RpcError, RpcErrorCode, type CallOptions, type CallReporter, type Endpoint, type RequestFrame, type RpcCaller, type RpcTransport,
} from '../contracts.ts';
import { decodeMessage, encodeMessage, type ProtoRoot } from '../proto.ts';
import { flushWithin, reporterFromEnvironment } from '../reports/from-environment.ts';
import { InstanceBreakers } from './breakers.ts';
import { planCall, type CallPlan } from './call-plan.ts';
import { rpcLogger } from './logger.ts';
import { parallel, type Task } from './parallel.ts';
import { chooseProtocol, failsInstance, mayRetryElsewhere } from './policy.ts';
import { ProtoRegistry } from './proto-registry.ts';
import { RouteCache } from './route-cache.ts';
import type { RouteSource } from '../../../adapters/registry/port.ts';
import { NoRouteSource, routesFromEnvironment } from './route-sources.ts';
import type { BalancerSnapshot, ServiceBalancer } from './service-balancer.ts';
import { parseTarget, type Target } from './targets.ts';

export interface ClientOptions {
  /** The caller's name in request heads and reports (default env MSEC_SERVICE, else 'client'). */
  name?: string;
  /** Where service names are resolved (default: routesFromEnvironment(), made on first use). */
  routes?: RouteSource;
  /** Default: a TCP+UDP transport made on first use (and closed by close()). */
  transport?: RpcTransport;
  /** Where every attempt is reported (default: nowhere). */
  reporter?: CallReporter;
  /** NLB settings for every service; a routing table's `tuning` overrides them. */
  nlb?: Partial<NlbSettings>;
  breaker?: Partial<BreakerSettings>;
  /** Attempts per call, the first included, each on another instance (default 3). */
  maxAttempts?: number;
  /** Values in [0, 1) (default Math.random). */
  random?: Random;
  /** Epoch ms (default Date.now). */
  clock?: () => number;
  logger?: Logger;
}

/** A stub: one async method per RPC of a service, named as in the .proto (and in lowerCamelCase). */
export type RpcStub = Record<string, (request?: object, options?: CallOptions) => Promise<Record<string, unknown>>>;

interface Chosen {
  key: string;
  endpoint: Endpoint;
  protocol: 'tcp' | 'udp';
}

export class RpcClient implements RpcCaller {
  readonly name: string;
  private readonly protos = new ProtoRegistry();
  private readonly breakers: InstanceBreakers;
  private readonly clock: () => number;
  private readonly reporter: CallReporter;
  private readonly maxAttempts: number;
  private readonly routeCache: RouteCache;
  private routes: RouteSource | null | undefined;
  private transport: RpcTransport | undefined;
  private closed = false;

  constructor(private readonly options: ClientOptions = {}) {
    this.name = options.name ?? process.env.MSEC_SERVICE ?? 'client';
    this.clock = options.clock ?? Date.now;
    this.reporter = options.reporter ?? reporterFromEnvironment();
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.breakers = new InstanceBreakers(options.breaker, this.clock);
    this.routes = options.routes;
    this.routeCache = new RouteCache(() => this.routeSource(), {
      settings: options.nlb ?? {}, random: options.random ?? Math.random, clock: this.clock, breakers: this.breakers,
      logger: options.logger ?? rpcLogger(),
    });
  }

  /** Registers the types of a .proto (path, text or Root) so call() knows its methods. */
  load(proto: string | ProtoRoot): ProtoRoot {
    return this.protos.load(proto);
  }

  async call<Res = Record<string, unknown>>(target: string, method: string, request: object, options: CallOptions = {}): Promise<Res> {
    const m = this.protos.method(method);
    let body: Uint8Array;
    try {
      body = encodeMessage(m.requestType, request);
    } catch (error) {
      throw new RpcError(RpcErrorCode.BAD_REQUEST, `cannot encode the request of ${m.fullName}: ${(error as Error).message}`, { target, method: m.fullName });
    }
    return decodeMessage<Res>(m.responseType, await this.callBytes(target, m.fullName, body, options));
  }

  /** call() for bytes already encoded: answers the response body's bytes. */
  async callBytes(targetText: string, method: string, body: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closed) throw new Error('the RPC client is closed');
    const target = parseTarget(targetText);
    const plan = planCall(options, this.name, this.clock());
    const callee = target.kind === 'service' ? target.service : target.key;
    const fail = (code: number, message: string) => {
      this.report(plan, callee, method, { ip: '', port: 0 }, code, 0);
      return new RpcError(code, message, { target: targetText, method });
    };
    if (plan.deadline <= this.clock()) throw fail(RpcErrorCode.CLIENT_TIMEOUT, `no time left to call ${method} on ${targetText} (the parent call's deadline has passed)`);

    let balancer: ServiceBalancer | undefined;
    if (target.kind === 'service') {
      try {
        balancer = await this.routeCache.balancer(target.service, plan.deadline);
      } catch (error) {
        if (error instanceof RpcError) throw fail(error.code, error.message);
        if (error instanceof NoRouteSource) throw fail(RpcErrorCode.NO_ROUTE, error.message);
        throw error;
      }
    }
    const tried = new Set<string>();
    let last: RpcError | undefined;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const left = plan.deadline - this.clock();
      if (left <= 0) {
        last ??= fail(RpcErrorCode.CLIENT_TIMEOUT, `no time left to call ${method} on ${targetText}`);
        break;
      }
      const chosen = this.choose(target, balancer, tried, options, body.length);
      if (chosen instanceof RpcError) {
        last ??= fail(chosen.code, chosen.message);
        break;
      }
      tried.add(chosen.key);
      const outcome = await this.attempt(chosen, plan, callee, method, body, left, balancer);
      if (outcome instanceof Uint8Array) return outcome;
      last = new RpcError(outcome.code, outcome.message, { target: targetText, method });
      if (target.kind === 'address' || !mayRetryElsewhere(outcome.code, options.idempotent === true)) break;
    }
    throw last!;
  }

  /** One async method per RPC of `service` (bare or full name; optional when the .proto has one service). */
  stub<S extends object = RpcStub>(target: string, proto: string | ProtoRoot, service?: string): S {
    parseTarget(target);
    const root = this.protos.load(proto);
    const stub: Record<string, unknown> = {};
    // Own data properties: an RPC named `constructor`, `toString` or `__proto__` is a method like any other.
    const define = (name: string, invoke: unknown) => Object.defineProperty(stub, name, { value: invoke, enumerable: true });
    for (const m of this.protos.service(root, service)) {
      const invoke = (request: object = {}, options?: CallOptions) => this.call(target, m.fullName, request, options);
      define(m.name, invoke);
      const camel = m.name.charAt(0).toLowerCase() + m.name.slice(1);
      if (!Object.hasOwn(stub, camel)) define(camel, invoke);
    }
    return Object.freeze(stub) as S;
  }

  parallel<const T extends readonly Task[]>(tasks: T) {
    return parallel(tasks);
  }

  /** The NLB view of a service this client has called: weights, dead instances, probe budget. */
  routeState(service: string): BalancerSnapshot | undefined {
    return this.routeCache.snapshot(service);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.routeCache.close();
    if (!this.options.routes && this.routes) await this.routes.close();
    if (!this.options.transport && this.transport) await this.transport.close();
    await flushWithin(this.reporter);
  }

  private routeSource(): RouteSource {
    if (this.routes === undefined) this.routes = routesFromEnvironment();
    if (!this.routes) throw new NoRouteSource();
    return this.routes;
  }

  private choose(target: Target, balancer: ServiceBalancer | undefined, tried: ReadonlySet<string>, options: CallOptions, bytes: number): Chosen | RpcError {
    if (target.kind === 'address') {
      if (this.breakers.blocks(target.key)) return new RpcError(RpcErrorCode.CIRCUIT_OPEN, `the circuit breaker of ${target.key} is open: it failed repeatedly; retrying after a cool-down`);
      return { key: target.key, endpoint: target.endpoint, protocol: chooseProtocol(target.protocol, options.protocol, bytes) };
    }
    const pick = balancer!.pick(tried);
    if (pick.kind === 'picked') {
      const { ip, port, key, protocol } = pick.server;
      return { key, endpoint: { ip, port }, protocol: chooseProtocol(protocol, options.protocol, bytes) };
    }
    return pick.kind === 'all-open'
      ? new RpcError(RpcErrorCode.CIRCUIT_OPEN, `every instance of ${target.service} has an open circuit breaker: they failed repeatedly`)
      : new RpcError(RpcErrorCode.NO_ROUTE, `${target.service} has no enabled instance${tried.size ? ' left to try' : ''}: enable one in the console (msec host enable)`);
  }

  /** One request to one instance; feeds the outcome back. Answers the body, or the error. */
  private async attempt(chosen: Chosen, plan: CallPlan, callee: string, method: string, body: Uint8Array, left: number, balancer: ServiceBalancer | undefined): Promise<Uint8Array | RpcError> {
    this.transport ??= this.options.transport ?? createTransport();
    const frame: RequestFrame = { ...plan.meta, method, body, deadlineMs: Math.max(1, Math.ceil(left)) };
    this.breakers.onCall(chosen.key);
    const started = this.clock();
    let outcome: Uint8Array | RpcError;
    try {
      const reply = await this.transport.request(chosen.endpoint, chosen.protocol, frame, left);
      outcome = reply.err === RpcErrorCode.OK ? reply.body : new RpcError(reply.err, reply.errMsg || `${method} failed on ${chosen.key} (error ${reply.err})`);
    } catch (error) {
      outcome = error instanceof RpcError ? error : new RpcError(RpcErrorCode.CONNECTION_LOST, `${method} on ${chosen.key}: ${(error as Error).message}`);
    }
    const latencyMs = this.clock() - started;
    const code = outcome instanceof RpcError ? outcome.code : RpcErrorCode.OK;
    const failed = failsInstance(code);
    this.breakers.onResult(chosen.key, failed, code === RpcErrorCode.CONNECT_FAILED || code === RpcErrorCode.CONNECTION_LOST);
    balancer?.feedback(chosen.key, failed, latencyMs);
    this.report(plan, callee, method, chosen.endpoint, code, latencyMs);
    return outcome;
  }

  private report(plan: CallPlan, callee: string, method: string, instance: Endpoint, err: number, latencyMs: number): void {
    try {
      this.reporter.record({ side: 'client', caller: plan.meta.caller, callee, method, instance, requestId: plan.meta.requestId, err, latencyMs, at: this.clock() });
    } catch {
      // Reporting never fails a call.
    }
  }
}

export function createClient(options: ClientOptions = {}): RpcClient {
  return new RpcClient(options);
}
