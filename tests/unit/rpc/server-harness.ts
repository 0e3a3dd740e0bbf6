/**
 * Shared pieces of the RPC server tests: MSEC's Flight walkthrough service, a caller that
 * speaks frames through the real transport, a recording reporter.
 */
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { pino } from 'pino';
import { createTransport } from '../../../adapters/rpc/transport.ts';
import type { CallRecord, CallReporter, ReplyFrame, RequestFrame, RpcTransport } from '../../../apps/rpc/contracts.ts';
import { decodeMessage, encodeMessage, findMethod, loadProto } from '../../../apps/rpc/proto.ts';
import { serve, type RpcServer, type ServeOptions } from '../../../apps/rpc/server/serve.ts';
import type { Handler } from '../../../apps/rpc/server/handler-context.ts';

export const flightProtoPath = fileURLToPath(new URL('../../fixtures/flight.proto', import.meta.url));
export const flightRoot = loadProto(flightProtoPath);
export const queryFlight = findMethod(flightRoot, 'flight.flight_service.queryFlight');
export const silent = pino({ level: 'silent' });

export const bison = { name: 'bison', password: '123456', departureCity: 'Shenzhen', destinationCity: 'Shanghai' };
export const bisonFlights = { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' };
export const invalidUser = { errcode: -1, errmsg: 'invalid user', flightsInfo: '' };

/** The walkthrough's handler, as MSEC's Flight.mod_flight sample implements it. */
export const queryFlightHandler: Handler = async (req: { name: string; password: string }) =>
  req.name === 'bison' && req.password === '123456' ? bisonFlights : invalidUser;

export function serveFlight(options: Partial<ServeOptions> = {}): Promise<RpcServer> {
  return serve({
    proto: flightRoot, name: 'Flight.mod_flight', listen: { host: '127.0.0.1', port: 0 }, logger: silent,
    handlers: { queryFlight: queryFlightHandler }, ...options,
  });
}

export function requestFrame(method: string, body: Uint8Array, meta: Partial<RequestFrame> = {}): RequestFrame {
  return { method, body, deadlineMs: 0, requestId: '0', coloring: 0, colorId: '0', caller: 'Test.caller', callerStack: [], ...meta };
}

/** Calls queryFlight over the real transport; `body` decoded when err is 0. */
export async function callFlight(transport: RpcTransport, port: number, protocol: 'tcp' | 'udp', request: object, meta: Partial<RequestFrame> = {}, timeoutMs = 2000):
Promise<{ reply: ReplyFrame; response: Record<string, unknown> | null }> {
  const body = encodeMessage(queryFlight.requestType, request);
  const reply = await transport.request({ ip: '127.0.0.1', port }, protocol, requestFrame(queryFlight.fullName, body, meta), timeoutMs);
  return { reply, response: reply.err === 0 ? decodeMessage(queryFlight.responseType, reply.body) : null };
}

export { createTransport };

export class RecordingReporter implements CallReporter {
  readonly calls: CallRecord[] = [];
  flushes = 0;
  record(call: CallRecord): void {
    this.calls.push(call);
  }
  async flush(): Promise<void> {
    this.flushes++;
  }
  async close(): Promise<void> {}
}

/** HTTP/JSON call to the server's TCP port. */
export async function postJson(port: number, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as { ret: number; errmsg: string; result: number; resultObj: Record<string, unknown> | null } };
}

/** A port that was free a moment ago (for tests that must write it into a config file). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves when `promise` settles, with its outcome, so a test can assert on rejections. */
export async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}
