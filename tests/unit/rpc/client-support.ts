/**
 * A client wired on fakes: an in-memory transport whose instances answer as the test says, a
 * clock the test moves, static routes, a seeded random source and a memory reporter.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { RouteTable } from '../../../schemas/route-table.ts';
import { RpcError, RpcErrorCode, type Endpoint, type ReplyFrame, type RequestFrame, type RpcTransport } from '../../../apps/rpc/contracts.ts';
import { createClient, type ClientOptions, type RpcClient } from '../../../apps/rpc/client/client.ts';
import { staticRoutes, type StaticRouteSource } from '../../../apps/rpc/client/route-sources.ts';
import { MemoryCallReporter } from '../../../apps/rpc/reports/simple-reporters.ts';
import { decodeMessage, encodeMessage, findMethod, loadProto } from '../../../apps/rpc/proto.ts';
import { seeded } from './nlb-spec.ts';

export const flightProto = fileURLToPath(new URL('../../fixtures/flight.proto', import.meta.url));
export const queryFlight = 'flight.flight_service.queryFlight';
export const flightRequest = { name: 'n', password: 'p', departureCity: 'SZX', destinationCity: 'PEK' };

const root = loadProto(flightProto);
const method = findMethod(root, queryFlight);

/** What an instance does with a request: answer (ok, or a framework error), or fail the transport. */
export type Behaviour = 'ok' | { err: number } | { throws: number } | ((frame: RequestFrame) => ReplyFrame | RpcError);

export interface SentRequest {
  to: Endpoint;
  key: string;
  protocol: 'tcp' | 'udp';
  frame: RequestFrame;
  timeoutMs: number;
}

export class FakeTransport implements RpcTransport {
  readonly sent: SentRequest[] = [];
  /** By `ip:port`; instances not listed answer ok. */
  readonly behaviour = new Map<string, Behaviour>();
  /** Runs before each answer (tests move the clock here). */
  onRequest: (r: SentRequest) => void = () => {};
  closed = false;

  async request(to: Endpoint, protocol: 'tcp' | 'udp', frame: RequestFrame, timeoutMs: number): Promise<ReplyFrame> {
    const key = `${to.ip}:${to.port}`;
    const sent = { to, key, protocol, frame, timeoutMs };
    this.sent.push(sent);
    this.onRequest(sent);
    const b = this.behaviour.get(key) ?? 'ok';
    const answer = typeof b === 'function' ? b(frame) : b === 'ok' ? okReply(frame, key) : 'err' in b ? errReply(frame, b.err) : new RpcError(b.throws, `fake ${b.throws} from ${key}`);
    if (answer instanceof RpcError) throw answer;
    return answer;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** How many requests each instance got (by letter a, b, c… for 10.0.0.1, .2, .3…). */
  counts(from = 0): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.sent.slice(from)) {
      const name = String.fromCharCode(Number(s.to.ip.split('.')[3]) + 96);
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }
}

export function okReply(frame: RequestFrame, served: string): ReplyFrame {
  const body = encodeMessage(method.responseType, { errcode: 0, errmsg: '', flightsInfo: served });
  return { err: 0, result: 0, errMsg: '', body, requestId: frame.requestId };
}

export function errReply(frame: RequestFrame, err: number): ReplyFrame {
  return { err, result: 0, errMsg: `fake error ${err}`, body: new Uint8Array(), requestId: frame.requestId };
}

export const decodeRequest = (frame: RequestFrame) => decodeMessage(method.requestType, frame.body);

export function table(weights: Record<string, number>, o: Partial<RouteTable> = {}): RouteTable {
  return {
    service: 'Flight.mod_flight', policy: 'standard', version: 1,
    instances: Object.entries(weights).map(([name, weight]) => ({ ip: `10.0.0.${name.charCodeAt(0) - 96}`, port: 7963, protocol: 'both' as const, weight })),
    ...o,
  };
}

export const addr = (name: string) => `10.0.0.${name.charCodeAt(0) - 96}:7963`;

export interface TestClient {
  client: RpcClient;
  transport: FakeTransport;
  routes: StaticRouteSource;
  reporter: MemoryCallReporter;
  clock: { now: number; advance(ms: number): void };
  call(options?: Parameters<RpcClient['call']>[3], target?: string): Promise<Record<string, unknown>>;
  /** Calls `n` times, swallowing failures; answers how many failed. */
  calls(n: number, options?: Parameters<RpcClient['call']>[3]): Promise<number>;
}

export function testClient(routes: RouteTable[] = [table({ a: 100, b: 100 })], options: Partial<ClientOptions> = {}): TestClient {
  const transport = new FakeTransport();
  const source = staticRoutes(routes);
  const reporter = new MemoryCallReporter();
  const clock = { now: 1_700_000_000_000, advance(ms: number) { this.now += ms; } };
  const client = createClient({
    name: 'tester', routes: source, transport, reporter, random: seeded(1), clock: () => clock.now,
    logger: pino({ level: 'silent' }), ...options,
  });
  client.load(flightProto);
  const call = (o?: Parameters<RpcClient['call']>[3], target = 'Flight.mod_flight') => client.call(target, queryFlight, flightRequest, o);
  return {
    client, transport, routes: source, reporter, clock, call,
    async calls(n, o) {
      let failed = 0;
      for (let i = 0; i < n; i++) await call(o).catch(() => failed++);
      return failed;
    },
  };
}

export { RpcErrorCode, RpcError };
