/**
 * Frames as schemas/rpc-wire.md draws them, read from a TCP stream however the bytes
 * arrive, and a server that closes only the connection that sends garbage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  FrameDecoder, FramingError, decodeFrame, decodeHead, encodeFrame, type Frame,
} from '../../../adapters/rpc/framing.ts';
import type { RpcServer } from '../../../apps/rpc/server/serve.ts';
import { bison, bisonFlights, callFlight, createTransport, serveFlight } from './server-harness.ts';

const frames = (count: number) => Array.from({ length: count }, (_, i) => encodeFrame(
  { sequence: i + 1, methodName: 'flight.flight_service.queryFlight', flowId: '12345678901234567890', caller: 'A.b' },
  Buffer.from(`body ${i}`)));

function decodeAll(chunks: Buffer[], maxFrameBytes?: number): Frame[] {
  const out: Frame[] = [];
  const decoder = new FrameDecoder((f) => out.push(f), maxFrameBytes);
  for (const chunk of chunks) decoder.push(chunk);
  assert.equal(decoder.pendingBytes, 0, 'nothing left over');
  return out;
}

describe('frame layout', () => {
  test('( head_len u32BE, body_len u32BE, head, body )', () => {
    const frame = encodeFrame({ sequence: 7 }, Buffer.from('xyz'));
    const headLen = frame.readUInt32BE(1);
    assert.equal(frame[0], 0x28);
    assert.equal(frame.readUInt32BE(5), 3);
    assert.equal(frame.subarray(9 + headLen, 12 + headLen).toString(), 'xyz');
    assert.equal(frame[frame.length - 1], 0x29);
    assert.equal(frame.length, 10 + headLen + 3);
    assert.deepEqual(frame.subarray(9, 9 + headLen), Buffer.from([0x50, 7]), 'field 10 (sequence), varint 7');
  });

  test('64-bit head fields survive as decimal strings, including the largest', () => {
    const head = decodeFrame(encodeFrame({
      sequence: '18446744073709551615', flowId: '9007199254740993', colorId: '4294967296', coloring: 1,
      err: 1003, result: -2, errMsg: 'late', caller: 'A.b', callerStack: ['X.y', 'Z.w'], methodName: 'p.S.M', deadlineMs: 800,
    }, new Uint8Array(0))).head;
    assert.deepEqual(head, {
      sequence: '18446744073709551615', flowId: '9007199254740993', colorId: '4294967296', coloring: 1,
      err: 1003, result: -2, errMsg: 'late', caller: 'A.b', callerStack: ['X.y', 'Z.w'], methodName: 'p.S.M', deadlineMs: 800,
    });
  });

  test('an empty head decodes to the protobuf defaults', () => {
    assert.deepEqual(decodeHead(new Uint8Array(0)), {
      sequence: '0', coloring: 0, colorId: '0', flowId: '0', err: 0, result: 0, errMsg: '', caller: '', methodName: '', callerStack: [], deadlineMs: 0,
    });
  });

  test('a 64-bit field that is not a decimal number is refused when encoding', () => {
    assert.throws(() => encodeFrame({ sequence: 1, flowId: '0x10' }, new Uint8Array(0)), /flowId "0x10"/);
    assert.throws(() => encodeFrame({ sequence: '18446744073709551616' }, new Uint8Array(0)), /does not fit in 64 bits/);
  });
});

describe('FrameDecoder', () => {
  const sent = frames(5);
  const stream = Buffer.concat(sent);
  const expectFrames = (got: Frame[]) => {
    assert.deepEqual(got.map((f) => f.head.sequence), ['1', '2', '3', '4', '5']);
    assert.deepEqual(got.map((f) => f.body.toString()), ['body 0', 'body 1', 'body 2', 'body 3', 'body 4']);
    assert.ok(got.every((f) => f.head.flowId === '12345678901234567890'));
  };

  test('many frames in one chunk', () => expectFrames(decodeAll([stream])));

  test('byte by byte', () => expectFrames(decodeAll([...stream].map((b) => Buffer.from([b])))));

  test('split at every possible point', () => {
    for (let cut = 1; cut < stream.length; cut++) expectFrames(decodeAll([stream.subarray(0, cut), stream.subarray(cut)]));
  });

  test('uneven chunks that straddle frame boundaries', () => {
    const chunks: Buffer[] = [];
    for (let at = 0, size = 1; at < stream.length; at += size, size = (size * 7) % 23 + 1) chunks.push(stream.subarray(at, at + size));
    expectFrames(decodeAll(chunks));
  });

  test('a frame over the limit is a FramingError as soon as its lengths arrive', () => {
    const big = encodeFrame({ sequence: 1 }, Buffer.alloc(2000));
    const decoder = new FrameDecoder(() => assert.fail('no frame'), 1000);
    assert.throws(() => decoder.push(big.subarray(0, 9)), (e: unknown) => e instanceof FramingError && /2012 bytes is over the limit of 1000/.test(e.message));
  });

  test('a wrong start byte is a FramingError on the first byte', () => {
    const decoder = new FrameDecoder(() => assert.fail('no frame'));
    assert.throws(() => decoder.push(Buffer.from('G')), (e: unknown) => e instanceof FramingError && /0x47, not '\('/.test(e.message));
  });

  test('garbage after good frames: the good ones are delivered, then the error', () => {
    const out: Frame[] = [];
    const decoder = new FrameDecoder((f) => out.push(f));
    assert.throws(() => decoder.push(Buffer.concat([...frames(2), Buffer.from('GET / HTTP/1.1\r\n')])), FramingError);
    assert.equal(out.length, 2);
  });

  test('a wrong end byte is a FramingError that still names the sequence', () => {
    const bad = Buffer.from(encodeFrame({ sequence: 42 }, Buffer.from('abc')));
    bad[bad.length - 1] = 0x00;
    const decoder = new FrameDecoder(() => assert.fail('no frame'));
    assert.throws(() => decoder.push(bad), (e: unknown) => e instanceof FramingError && e.sequence === '42');
  });

  test('a datagram must hold exactly one frame', () => {
    const [one, two] = frames(2);
    assert.equal(decodeFrame(one!).head.sequence, '1');
    assert.throws(() => decodeFrame(Buffer.concat([one!, two!])), /exactly one frame/);
    assert.throws(() => decodeFrame(Buffer.from('(abc')), /shorter than the smallest frame/);
  });
});

describe('a connection that sends garbage', () => {
  let server: RpcServer;
  const transport = createTransport();
  before(async () => {
    server = await serveFlight();
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  const sendRaw = (bytes: Buffer) => new Promise<{ received: Buffer; closed: boolean }>((resolve) => {
    const socket = net.connect(server.address.port, '127.0.0.1', () => socket.write(bytes));
    const got: Buffer[] = [];
    socket.on('data', (d) => got.push(d));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ received: Buffer.concat(got), closed: true }));
  });

  test('is closed by the server, which keeps serving other connections', async () => {
    const ok = await callFlight(transport, server.address.port, 'tcp', bison);
    assert.deepEqual(ok.response, bisonFlights);
    const garbage = Buffer.concat([encodeFrame({ sequence: 1 }, Buffer.alloc(0)).subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3])]);
    const { closed } = await sendRaw(garbage);
    assert.ok(closed);
    const other = createTransport();
    const again = await callFlight(other, server.address.port, 'tcp', bison);
    await other.close();
    assert.deepEqual(again.response, bisonFlights, 'a new connection is served');
    const still = await callFlight(transport, server.address.port, 'tcp', bison);
    assert.deepEqual(still.response, bisonFlights, 'the existing connection is untouched');
  });

  test('gets a FRAME_ERROR answer first when its sequence could be read', async () => {
    const bad = Buffer.from(encodeFrame({ sequence: 9, methodName: 'flight.flight_service.queryFlight' }, Buffer.from('abc')));
    bad[bad.length - 1] = 0x21;
    const { received, closed } = await sendRaw(bad);
    assert.ok(closed);
    const answer = decodeFrame(received).head;
    assert.equal(answer.sequence, '9');
    assert.equal(answer.err, 1007);
    assert.match(answer.errMsg, /not '\)'/);
  });
});
