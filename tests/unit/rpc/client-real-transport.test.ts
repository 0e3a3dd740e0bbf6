/**
 * The client against the real transport and server runtime on 127.0.0.1: TCP and UDP calls,
 * a two-hop chain whose request id, caller stack and deadline propagate, and reports from
 * both sides on one bus.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import { createClient } from '../../../apps/rpc/client/client.ts';
import { staticRoutes } from '../../../apps/rpc/client/route-sources.ts';
import { RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import { BusCallReporter } from '../../../apps/rpc/reports/bus-reporter.ts';
import { serve, type RpcServer } from '../../../apps/rpc/server/serve.ts';
import type { HandlerContext } from '../../../apps/rpc/server/handler-context.ts';
import { decodeReport, type CallsReport } from '../../../schemas/reports.ts';
import { flightProto, flightRequest, queryFlight } from './client-support.ts';

const silent = pino({ level: 'silent' });
const route = (service: string, port: number, protocol: 'tcp' | 'udp' | 'both' = 'both') => ({
  service, policy: 'standard' as const, version: 1, instances: [{ ip: '127.0.0.1', port, protocol, weight: 100 }],
});

test('calls over TCP and UDP reach a real server; a two-hop chain carries the request id, callers and deadline', async () => {
  const bus = new MemoryMessageBus();
  const reporter = new BusCallReporter({ bus, reporter: 'test', flushEveryMs: 0 });
  const routes = staticRoutes();
  const seen: { requestId: string; caller: string; callerStack: string[]; left: number }[] = [];
  const servers: RpcServer[] = [];
  const inner = createClient({ name: 'Flight.front', routes, reporter, logger: silent });
  const outer = createClient({ name: 'tester', routes, reporter, logger: silent });
  try {
    const back = await serve({
      proto: flightProto, name: 'Flight.back', listen: { host: '127.0.0.1', port: 0 }, logger: silent, reporter,
      handlers: {
        queryFlight: (_req: unknown, ctx: HandlerContext) => {
          seen.push({ requestId: ctx.requestId, caller: ctx.caller, callerStack: ctx.callerStack, left: ctx.deadline - Date.now() });
          return { errcode: 0, errmsg: 'ok', flightsInfo: 'from back' };
        },
      },
    });
    servers.push(back);
    routes.set(route('Flight.back', back.address.port));
    inner.load(flightProto);
    const front = await serve({
      proto: flightProto, name: 'Flight.front', listen: { host: '127.0.0.1', port: 0 }, logger: silent, reporter, client: inner,
      handlers: {
        queryFlight: async (req: object, ctx: HandlerContext) => {
          seen.push({ requestId: ctx.requestId, caller: ctx.caller, callerStack: ctx.callerStack, left: ctx.deadline - Date.now() });
          const answer = await ctx.call<{ flightsInfo: string }>('Flight.back', queryFlight, req, { timeoutMs: 5000 });
          return { errcode: 0, errmsg: 'ok', flightsInfo: `front+${answer.flightsInfo}` };
        },
      },
    });
    servers.push(front);
    routes.set(route('Flight.front', front.address.port));

    const stub = outer.stub<{ queryFlight(r: object, o?: object): Promise<{ flightsInfo: string }> }>('Flight.front', flightProto);
    assert.equal((await stub.queryFlight(flightRequest, { timeoutMs: 2000 })).flightsInfo, 'front+from back');
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.requestId, seen[1]!.requestId);
    assert.deepEqual([seen[0]!.caller, seen[0]!.callerStack], ['tester', []]);
    assert.deepEqual([seen[1]!.caller, seen[1]!.callerStack], ['Flight.front', ['tester']]);
    assert.ok(seen[1]!.left <= 2000, `the second hop got ${seen[1]!.left} ms of a 2000 ms budget`);

    // UDP: by address suffix and by a UDP-only route
    assert.equal((await outer.call<{ flightsInfo: string }>(`127.0.0.1:${back.address.port}@udp`, queryFlight, flightRequest)).flightsInfo, 'from back');
    routes.set({ ...route('Flight.back', back.address.port, 'udp'), version: 2 });
    await new Promise((r) => setImmediate(r));
    assert.equal((await outer.call<{ flightsInfo: string }>('Flight.back', queryFlight, flightRequest)).flightsInfo, 'from back');

    // nobody listening: CONNECT_FAILED
    await assert.rejects(outer.call('127.0.0.1:1', queryFlight, flightRequest), (e: { code: number }) => e.code === RpcErrorCode.CONNECT_FAILED);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await outer.close();
    await inner.close();
    await reporter.close();
  }
  const edges = (bus.broker.topics.get('msec.reports.calls') ?? []).flatMap((m) => (decodeReport('msec.reports.calls', m.value) as CallsReport).calls);
  const chain = edges.filter((e) => e.requestId === seen[0]!.requestId).map((e) => `${e.side}:${e.caller}->${e.callee}`).sort();
  assert.deepEqual(chain, ['client:Flight.front->Flight.back', 'client:tester->Flight.front', 'server:Flight.front->Flight.back', 'server:tester->Flight.front']);
});
