/**
 * The server runtime on one port: MSEC's Flight walkthrough over TCP frames, UDP frames
 * and HTTP/JSON, and the framework errors a caller can get back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError, RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import type { RpcServer } from '../../../apps/rpc/server/serve.ts';
import { encodeMessage, loadProto } from '../../../apps/rpc/proto.ts';
import {
  RecordingReporter, bison, bisonFlights, callFlight, createTransport, invalidUser, postJson, queryFlight, requestFrame, serveFlight,
} from './server-harness.ts';

describe('Flight.mod_flight on one port', () => {
  const reporter = new RecordingReporter();
  const transport = createTransport();
  let server: RpcServer;
  before(async () => {
    server = await serveFlight({ reporter });
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  test('TCP: bison with the right password gets the flights', async () => {
    const { reply, response } = await callFlight(transport, server.address.port, 'tcp', bison);
    assert.equal(reply.err, 0);
    assert.deepEqual(response, bisonFlights);
  });

  test('TCP: a wrong password gets errcode -1 "invalid user"', async () => {
    const { reply, response } = await callFlight(transport, server.address.port, 'tcp', { ...bison, password: 'x' });
    assert.equal(reply.err, 0);
    assert.deepEqual(response, invalidUser);
  });

  test('TCP: many requests in flight on one connection each get their own answer', async () => {
    const names = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 'bison' : `user${i}`));
    const answers = await Promise.all(names.map((name) => callFlight(transport, server.address.port, 'tcp', { ...bison, name })));
    assert.deepEqual(answers.map((a) => a.response!.errcode), names.map((n) => (n === 'bison' ? 0 : -1)));
  });

  test('UDP: the same service answers on the same port', async () => {
    const { reply, response } = await callFlight(transport, server.address.port, 'udp', bison);
    assert.equal(reply.err, 0);
    assert.deepEqual(response, bisonFlights);
  });

  test('HTTP/JSON: POST /package.Service.Method on the same port, MSEC\'s answer shape', async () => {
    const { status, json, headers } = await postJson(server.address.port, '/flight.flight_service.queryFlight', bison);
    assert.equal(status, 200);
    assert.deepEqual(json, { ret: 0, errmsg: '', result: 0, resultObj: bisonFlights });
    assert.match(headers.get('x-msec-request-id') ?? '', /^[1-9][0-9]*$/);
  });

  test('HTTP/JSON: MSEC\'s POST /?methodName=… form, and the caller\'s request id echoed', async () => {
    const { json, headers } = await postJson(server.address.port, '/?methodName=flight.flight_service.queryFlight', { ...bison, password: 'no' },
      { 'x-msec-request-id': '18446744073709551615' });
    assert.deepEqual(json, { ret: 0, errmsg: '', result: 0, resultObj: invalidUser });
    assert.equal(headers.get('x-msec-request-id'), '18446744073709551615');
  });

  test('a missing required field is BAD_REQUEST naming the field (TCP and HTTP)', async () => {
    // The same field numbers, all optional: a sender that forgot destinationCity.
    const lenient = loadProto('package t; message R { optional string name = 1; optional string password = 2; optional string departureCity = 3; }');
    const body = encodeMessage(lenient.lookupType('t.R'), { name: 'bison', password: '123456', departureCity: 'SZ' });
    const reply = await transport.request({ ip: '127.0.0.1', port: server.address.port }, 'tcp', requestFrame(queryFlight.fullName, body), 2000);
    assert.equal(reply.err, RpcErrorCode.BAD_REQUEST);
    assert.match(reply.errMsg, /destinationCity/);
    const { status, json } = await postJson(server.address.port, '/flight.flight_service.queryFlight', { name: 'bison', password: '1' });
    assert.equal(status, 200);
    assert.equal(json.ret, RpcErrorCode.BAD_REQUEST);
    assert.match(json.errmsg, /departureCity/);
  });

  test('HTTP/JSON: a body that is not JSON is 400, a GET is 405, no method name is 404', async () => {
    const bad = await postJson(server.address.port, '/flight.flight_service.queryFlight', '{"name":');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.ret, RpcErrorCode.BAD_REQUEST);
    const get = await fetch(`http://127.0.0.1:${server.address.port}/flight.flight_service.queryFlight`);
    assert.equal(get.status, 405);
    const none = await postJson(server.address.port, '/', {});
    assert.equal(none.status, 404);
  });

  test('an unknown method is METHOD_NOT_FOUND, listing what the service serves', async () => {
    const reply = await transport.request({ ip: '127.0.0.1', port: server.address.port }, 'tcp',
      requestFrame('flight.flight_service.bookFlight', new Uint8Array(0)), 2000);
    assert.equal(reply.err, RpcErrorCode.METHOD_NOT_FOUND);
    assert.match(reply.errMsg, /bookFlight.*flight\.flight_service\.queryFlight/);
    const { json } = await postJson(server.address.port, '/flight.flight_service.bookFlight', {});
    assert.equal(json.ret, RpcErrorCode.METHOD_NOT_FOUND);
  });

  test('every answered request is reported on the server side', async () => {
    reporter.calls.length = 0;
    await callFlight(transport, server.address.port, 'tcp', bison, { requestId: '77', caller: 'Test.reporter' });
    const record = reporter.calls.find((c) => c.requestId === '77');
    assert.ok(record, 'a record for request 77');
    assert.equal(record.side, 'server');
    assert.equal(record.caller, 'Test.reporter');
    assert.equal(record.callee, 'Flight.mod_flight');
    assert.equal(record.method, 'flight.flight_service.queryFlight');
    assert.equal(record.err, 0);
    assert.deepEqual(record.instance, { ip: '127.0.0.1', port: server.address.port });
  });
});

describe('handler outcomes', () => {
  const transport = createTransport();
  let server: RpcServer;
  let lastSignal: AbortSignal | null = null;
  before(async () => {
    server = await serveFlight({
      methodTimeoutMs: 100,
      handlers: {
        async queryFlight(req: { name: string }, ctx) {
          if (req.name === 'slow') {
            lastSignal = ctx.signal;
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
            return { errcode: 0, errmsg: 'too late', flightsInfo: '' };
          }
          if (req.name === 'refuse') throw new RpcError(RpcErrorCode.OVERLOADED, 'busy');
          if (req.name === 'bad') throw new RpcError(RpcErrorCode.BAD_REQUEST, 'no flights from the moon');
          if (req.name === 'downstream') throw new RpcError(RpcErrorCode.CLIENT_TIMEOUT, 'Price.mod_price did not answer');
          if (req.name === 'bug') throw new Error('flight table is empty');
          if (req.name === 'partial') return { errcode: 0 };
          if (req.name === 'huge') return { ...bisonFlights, flightsInfo: 'x'.repeat(70_000) };
          ctx.setResult(7);
          return bisonFlights;
        },
      },
    });
  });
  after(async () => {
    await transport.close();
    await server.close();
  });
  const call = (name: string) => callFlight(transport, server.address.port, 'tcp', { ...bison, name });

  test('a handler past its method timeout: TIMEOUT, and ctx.signal is aborted', async () => {
    const { reply } = await call('slow');
    assert.equal(reply.err, RpcErrorCode.TIMEOUT);
    assert.match(reply.errMsg, /within 100 ms/);
    assert.equal(lastSignal?.aborted, true);
  });

  test('a caller\'s shorter deadline wins over the method timeout', async () => {
    const { reply } = await callFlight(transport, server.address.port, 'tcp', { ...bison, name: 'slow' }, { deadlineMs: 20 });
    assert.equal(reply.err, RpcErrorCode.TIMEOUT);
    assert.match(reply.errMsg, /within 20 ms/);
  });

  test('RpcError(code) thrown by a handler is answered with that code', async () => {
    const { reply } = await call('bad');
    assert.equal(reply.err, RpcErrorCode.BAD_REQUEST);
    assert.equal(reply.errMsg, 'no flights from the moon');
  });

  test('a handler never answers "not run" (OVERLOADED, SHUTTING_DOWN): it may have done work, so the caller must not retry elsewhere', async () => {
    const { reply } = await call('refuse');
    assert.equal(reply.err, RpcErrorCode.HANDLER_ERROR);
    assert.equal(reply.errMsg, 'busy');
  });

  test('client-side codes (2001+) never go on the wire: HANDLER_ERROR with the message', async () => {
    const { reply } = await call('downstream');
    assert.equal(reply.err, RpcErrorCode.HANDLER_ERROR);
    assert.match(reply.errMsg, /Price\.mod_price did not answer/);
  });

  test('any other throw is HANDLER_ERROR with its message', async () => {
    const { reply } = await call('bug');
    assert.equal(reply.err, RpcErrorCode.HANDLER_ERROR);
    assert.equal(reply.errMsg, 'flight table is empty');
  });

  test('a response missing a required field is HANDLER_ERROR naming it', async () => {
    const { reply } = await call('partial');
    assert.equal(reply.err, RpcErrorCode.HANDLER_ERROR);
    assert.match(reply.errMsg, /errmsg/);
  });

  test('an answer too large for a UDP datagram: FRAME_ERROR telling the caller to use TCP', async () => {
    const udp = await callFlight(transport, server.address.port, 'udp', { ...bison, name: 'huge' });
    assert.equal(udp.reply.err, RpcErrorCode.FRAME_ERROR);
    assert.match(udp.reply.errMsg, /does not fit in a UDP datagram.*over TCP/);
    const tcp = await call('huge');
    assert.equal((tcp.response!.flightsInfo as string).length, 70_000);
  });

  test('ctx.setResult sets the answer\'s result code', async () => {
    const { reply, response } = await call('bison');
    assert.equal(reply.err, 0);
    assert.equal(reply.result, 7);
    assert.deepEqual(response, bisonFlights);
  });
});
