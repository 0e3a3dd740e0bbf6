/**
 * UDP answers as a reflection tool (security review, finding 7): a datagram's source address
 * can be forged, and a 10-byte datagram drew a 106-byte answer listing every method. A
 * request refused before its handler ran now gets no more bytes than it had (a short
 * message, cut to fit, or no answer); a valid request still gets its whole answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import { decodeFrame, encodeFrame } from '../../../adapters/rpc/framing.ts';
import { encodeMessage } from '../../../apps/rpc/proto.ts';
import type { RpcServer } from '../../../apps/rpc/server/serve.ts';
import { refusalWithin } from '../../../apps/rpc/server/udp-listener.ts';
import { bison, createTransport, queryFlight, requestFrame, serveFlight } from './server-harness.ts';

/** Sends one datagram from a fresh socket; answers every datagram that came back within `ms`. */
async function exchange(port: number, datagram: Buffer, ms = 300): Promise<Buffer[]> {
  const socket = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (reply) => replies.push(reply));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.send(datagram, port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, ms));
  socket.close();
  return replies;
}

/** A request as msec's client sends one: sequence, a random flow id, caller, method, deadline. */
function clientRequest(method: string, body: Uint8Array): Buffer {
  return encodeFrame({ sequence: '7', flowId: '12345678901234567', caller: 'Test.caller', methodName: method, deadlineMs: 800 }, body);
}

describe('UDP answers are never worth more than a refused request', () => {
  let server: RpcServer;
  before(async () => {
    server = await serveFlight({
      handlers: { queryFlight: async () => ({ errcode: 0, errmsg: 'success', flightsInfo: 'x'.repeat(2000) }) },
    });
  });
  after(() => server.close());

  test('a 10-byte datagram (an empty frame) is not answered: even a bare refusal would be larger', async () => {
    const empty = Buffer.from([0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0x29]);
    const replies = await exchange(server.address.port, empty);
    assert.deepEqual(replies.map((r) => r.length), [], 'no answer (it was 106 bytes listing every method)');
  });

  test('an unknown method gets a short METHOD_NOT_FOUND, no larger than the request and without the list of methods', async () => {
    const request = clientRequest('flight.flight_service.bookFlight', encodeMessage(queryFlight.requestType, bison));
    const [reply, ...more] = await exchange(server.address.port, request);
    assert.ok(reply, 'answered');
    assert.equal(more.length, 0);
    console.log(`unknown method over UDP: a ${request.length}-byte request, a ${reply.length}-byte answer`);
    assert.ok(reply.length <= request.length, `${reply.length} > ${request.length}`);
    const { head } = decodeFrame(reply);
    assert.equal(head.err, RpcErrorCode.METHOD_NOT_FOUND);
    assert.equal(head.sequence, '7');
    assert.match(head.errMsg, /^Flight\.mod_flight has no method/);
    assert.doesNotMatch(head.errMsg, /queryFlight|serves/);
  });

  test('a body that does not decode gets a BAD_REQUEST cut to the request\'s size; a tiny one gets none', async () => {
    const request = clientRequest(queryFlight.fullName, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    const [reply] = await exchange(server.address.port, request);
    assert.ok(reply, 'answered');
    assert.ok(reply.length <= request.length, `${reply.length} > ${request.length}`);
    assert.equal(decodeFrame(reply).head.err, RpcErrorCode.BAD_REQUEST);
    // No flow id, a one-letter method: the answer (with the server's flow id and err) cannot fit.
    const tiny = encodeFrame({ sequence: '0', methodName: 'x' }, Buffer.alloc(0));
    assert.deepEqual(await exchange(server.address.port, tiny), []);
  });

  test('a valid request gets its whole answer, however much larger than the request', async () => {
    const request = clientRequest(queryFlight.fullName, encodeMessage(queryFlight.requestType, bison));
    const [reply] = await exchange(server.address.port, request);
    assert.ok(reply);
    assert.equal(decodeFrame(reply).head.err, 0);
    assert.ok(reply.length > 2000 && reply.length > request.length * 10, `${reply.length} bytes for ${request.length}`);
  });

  test('over TCP an unknown method still names what the service serves', async () => {
    const transport = createTransport();
    try {
      const reply = await transport.request({ ip: '127.0.0.1', port: server.address.port }, 'tcp', requestFrame('flight.flight_service.bookFlight', new Uint8Array()), 2000);
      assert.equal(reply.err, RpcErrorCode.METHOD_NOT_FOUND);
      assert.match(reply.errMsg, /it serves flight\.flight_service\.queryFlight/);
    } finally {
      await transport.close();
    }
  });
});

test('refusalWithin: the message is cut on a character boundary to fit, or left out, or nothing fits', () => {
  const head = { sequence: '1', flowId: '99', methodName: 'm', err: 1001, errMsg: '航班'.repeat(20) };
  const full = encodeFrame(head, Buffer.alloc(0));
  assert.deepEqual(refusalWithin(head, full.length), full);
  for (let limit = full.length - 1; limit > 0; limit--) {
    const cut = refusalWithin(head, limit);
    if (cut === null) {
      assert.ok(limit < encodeFrame({ ...head, errMsg: '' }, Buffer.alloc(0)).length);
      continue;
    }
    assert.ok(cut.length <= limit, `${cut.length} > ${limit}`);
    const { errMsg } = decodeFrame(cut).head;
    assert.ok(head.errMsg.startsWith(errMsg), `"${errMsg}" is a prefix, whole characters only`);
  }
});
