/**
 * What a handler sees and passes on (request id, coloring, caller, time left) and where a
 * service takes its settings from (options, MSEC_* environment, the config file's [SRPC]).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallOptions, RpcCaller } from '../../../apps/rpc/contracts.ts';
import type { HandlerContext } from '../../../apps/rpc/server/handler-context.ts';
import { parseListen, resolveSettings } from '../../../apps/rpc/server/settings.ts';
import { bison, bisonFlights, callFlight, createTransport, flightProtoPath, freePort, postJson, serveFlight, silent } from './server-harness.ts';
import { serve } from '../../../apps/rpc/server/serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'msec-rpc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ctx.call from a handler', () => {
  test('passes the request id, coloring and deadline on, with this service as the caller', async () => {
    const calls: { target: string; method: string; request: object; options: CallOptions | undefined }[] = [];
    const client: RpcCaller = {
      async call<Res>(target: string, method: string, request: object, options?: CallOptions) {
        calls.push({ target, method, request, options });
        return { price: 1230 } as Res;
      },
    };
    let seen: HandlerContext | undefined;
    const server = await serveFlight({
      client,
      handlers: {
        async queryFlight(req: { name: string }, ctx) {
          seen = ctx;
          const quote = await ctx.call<{ price: number }>('Flight.mod_price', 'price.price_service.quote', { name: req.name }, { timeoutMs: 300 });
          return { ...bisonFlights, flightsInfo: `{春秋航空;c8835;RMB${quote.price}}` };
        },
      },
    });
    const transport = createTransport();
    const { response } = await callFlight(transport, server.address.port, 'tcp', bison,
      { requestId: '4242', coloring: 1, colorId: '99', caller: 'Flight.web', callerStack: ['Portal.entry'], deadlineMs: 600 });
    assert.equal(response!.flightsInfo, '{春秋航空;c8835;RMB1230}');

    assert.equal(calls.length, 1);
    const [{ target, method, request, options }] = calls as [typeof calls[0]];
    assert.deepEqual([target, method, request], ['Flight.mod_price', 'price.price_service.quote', { name: 'bison' }]);
    assert.equal(options!.timeoutMs, 300);
    const parent = options!.parent!;
    assert.equal(parent, seen, 'the handler\'s own context is the parent');
    assert.equal(parent.requestId, '4242');
    assert.equal(parent.coloring, 1);
    assert.equal(parent.colorId, '99');
    assert.equal(parent.service, 'Flight.mod_flight', 'the callee of this call is the caller of the next');
    assert.equal(parent.caller, 'Flight.web');
    assert.deepEqual(parent.callerStack, ['Portal.entry']);
    assert.equal(parent.method, 'flight.flight_service.queryFlight');
    assert.ok(parent.deadline - Date.now() <= 600, 'the deadline is the caller\'s 600 ms, not the 800 ms method timeout');
    await transport.close();
    await server.close();
  });

  test('a request that came without an id gets one, the same in ctx and in the answer', async () => {
    let ctxId = '';
    const server = await serveFlight({ handlers: { queryFlight: (_req, ctx) => { ctxId = ctx.requestId; return bisonFlights; } } });
    const { headers } = await postJson(server.address.port, '/flight.flight_service.queryFlight', bison);
    assert.match(ctxId, /^[1-9][0-9]*$/);
    assert.equal(headers.get('x-msec-request-id'), ctxId);
    await server.close();
  });

  test('without serve({ client }), ctx.call fails saying what to pass', async () => {
    const server = await serveFlight({ handlers: { queryFlight: (_req, ctx) => ctx.call('Flight.mod_price', 'p.S.M', {}) } });
    const transport = createTransport();
    const { reply } = await callFlight(transport, server.address.port, 'tcp', bison);
    assert.equal(reply.err, 1005);
    assert.match(reply.errMsg, /pass serve\(\{ client \}\)/);
    await transport.close();
    await server.close();
  });
});

describe('settings', () => {
  test('[SRPC] listen, timeout and msg_timeout from the config file; the config is exposed', async () => {
    const port = await freePort();
    const file = join(dir, 'flight.ini');
    writeFileSync(file, `[SRPC]\nlisten = 127.0.0.1:${port}/tcp 127.0.0.1:${port}/udp\ntimeout = 50\n\n[LOG]\nLevel = DEBUG\n`);
    let deadlineIn = 0;
    const server = await serve({
      proto: flightProtoPath, name: 'Flight.mod_flight', configFile: file, logger: silent,
      handlers: { queryFlight: (_req, ctx) => { deadlineIn = ctx.deadline - Date.now(); return bisonFlights; } },
    });
    assert.deepEqual(server.address, { host: '127.0.0.1', port });
    assert.equal(server.config.get('LOG')?.get('Level'), 'DEBUG');
    const transport = createTransport();
    assert.equal((await callFlight(transport, port, 'udp', bison)).reply.err, 0);
    assert.ok(deadlineIn > 0 && deadlineIn <= 50, `[SRPC] timeout = 50 bounds the handler (${deadlineIn} ms left)`);
    await transport.close();
    await server.close();
  });

  test('the environment: MSEC_CONFIG, MSEC_LISTEN (over the file), MSEC_SERVICE', () => {
    const file = join(dir, 'env.ini');
    writeFileSync(file, '[SRPC]\nlisten = 7963/tcp\ntimeout.queryFlight = 2000\nmsg_timeout = 100\nmax_concurrent = 8\n');
    const fromFile = resolveSettings({}, { MSEC_CONFIG: file, MSEC_SERVICE: 'Flight.mod_flight' });
    assert.deepEqual([fromFile.name, fromFile.host, fromFile.port, fromFile.tcp, fromFile.udp], ['Flight.mod_flight', '0.0.0.0', 7963, true, false]);
    assert.deepEqual([fromFile.methodTimeouts.get('queryFlight'), fromFile.defaultTimeoutMs, fromFile.queueTimeoutMs, fromFile.maxConcurrent], [2000, 800, 100, 8]);
    const fromEnv = resolveSettings({}, { MSEC_CONFIG: file, MSEC_LISTEN: '10.0.0.5:8000' });
    assert.deepEqual([fromEnv.host, fromEnv.port], ['10.0.0.5', 8000]);
    const fromOptions = resolveSettings({ listen: { port: 9000 }, methodTimeoutMs: 30 }, { MSEC_LISTEN: '10.0.0.5:8000' });
    assert.deepEqual([fromOptions.host, fromOptions.port, fromOptions.defaultTimeoutMs], ['10.0.0.5', 9000, 30]);
    const defaults = resolveSettings({}, {});
    assert.deepEqual([defaults.host, defaults.port, defaults.udp, defaults.defaultTimeoutMs, defaults.queueTimeoutMs], ['0.0.0.0', 7963, true, 800, 800]);
  });

  test('what one client may hold of the port: [SRPC] keys, serve() options over them, and the defaults', () => {
    const file = join(dir, 'limits.ini');
    writeFileSync(file, '[SRPC]\nmax_frame_bytes = 65536\nread_timeout = 2000\nidle_timeout = 30000\nmax_connections = 64\nmax_buffered_bytes = 1048576\n');
    assert.deepEqual(resolveSettings({}, { MSEC_CONFIG: file }).limits,
      { maxFrameBytes: 65536, readTimeoutMs: 2000, idleTimeoutMs: 30000, maxConnections: 64, maxBufferedBytes: 1048576 });
    assert.equal(resolveSettings({ maxFrameBytes: 4096, idleTimeoutMs: 5 }, { MSEC_CONFIG: file }).limits.maxFrameBytes, 4096);
    assert.deepEqual(resolveSettings({}, {}).limits,
      { maxFrameBytes: 1024 * 1024, readTimeoutMs: 10_000, idleTimeoutMs: 120_000, maxConnections: 1024, maxBufferedBytes: 32 * 1024 * 1024 });
    writeFileSync(file, '[SRPC]\nmax_frame_bytes = 1MB\n');
    assert.throws(() => resolveSettings({}, { MSEC_CONFIG: file }), /\[SRPC\] max_frame_bytes in .*limits\.ini = 1MB is not a positive number of bytes; write e\.g\. 1048576/);
    writeFileSync(file, '[SRPC]\nmax_frame_bytes = 4194304\nmax_buffered_bytes = 1048576\n');
    assert.throws(() => resolveSettings({}, { MSEC_CONFIG: file }), /max_buffered_bytes \(1048576\) is below max_frame_bytes \(4194304\).*raise max_buffered_bytes/);
    assert.throws(() => resolveSettings({ readTimeoutMs: 0 }, {}), /readTimeoutMs = 0 is not a positive number of milliseconds/);
  });

  test('settings that cannot work are refused with what to write instead', () => {
    assert.throws(() => parseListen('7963/tcp 7964/udp'), /one port; use the same one/);
    assert.throws(() => parseListen('7963/sctp'), /use \/tcp or \/udp/);
    assert.throws(() => parseListen('7963/udp'), /no TCP entry/);
    assert.throws(() => parseListen('70000'), /not a port/);
    const file = join(dir, 'bad.ini');
    writeFileSync(file, '[SRPC]\ntimeout = soon\n');
    assert.throws(() => resolveSettings({}, { MSEC_CONFIG: file }), /\[SRPC\] timeout in .*bad\.ini = soon is not a positive number of milliseconds; write e\.g\. 800/);
    assert.throws(() => resolveSettings({ configFile: join(dir, 'missing.ini') }, {}), /cannot read the config file .*missing\.ini \(ENOENT\)/);
  });

  test('handlers or timeouts for methods the proto does not have are refused at start', async () => {
    await assert.rejects(serveFlight({ handlers: { queryFlights: () => bisonFlights } }), /queryFlights match no method.*queryFlight/);
    await assert.rejects(serveFlight({ methodTimeoutMs: { bookFlight: 10 } }), /"bookFlight", which is not a method/);
  });
});
