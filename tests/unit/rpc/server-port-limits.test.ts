/**
 * The RPC port against clients that hold memory and connections (security review, finding 6):
 * 24 connections each sending most of a 16 MiB frame and stalling held 263 MB, forever, and
 * silent connections were never closed. Now: a 1 MiB frame limit, a cap on unfinished bytes
 * across connections, a read timeout for a begun frame, an idle timeout, a connection cap;
 * honest clients with traffic keep their connections.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import { encodeMessage } from '../../../apps/rpc/proto.ts';
import { encodeFrame } from '../../../adapters/rpc/framing.ts';
import { bison, bisonFlights, callFlight, createTransport, postJson, queryFlight, queryFlightHandler, serveFlight } from './server-harness.ts';
import { connect, flightFrame, framePrefix, heldBufferBytes, send, sleep, until } from './port-attacker.ts';

const MiB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

describe('unfinished frames', () => {
  test('24 connections each stalling in a big frame: what they hold stays under max_buffered_bytes, the holders are closed at read_timeout, honest calls go on', { timeout: 20_000 }, async () => {
    const server = await serveFlight({ maxBufferedBytes: 4 * MiB, readTimeoutMs: 800, idleTimeoutMs: 60_000 });
    const { port } = server.address;
    const transport = createTransport();
    const before = heldBufferBytes();
    try {
      const stall = Buffer.concat([framePrefix(MiB), Buffer.alloc(900 * 1024, 7)]); // most of a 1 MiB frame (the limit), then nothing
      const attackers = await Promise.all(Array.from({ length: 24 }, () => connect(port)));
      const started = performance.now();
      await Promise.all(attackers.map((a) => send(a.socket, stall)));
      // At most 4 fit in 4 MiB (921 609 bytes each): every other one is closed as it grows past the cap.
      await until(() => attackers.filter((a) => a.isClosed()).length >= 20, 3000, '20 attackers closed');
      await sleep(100);
      const holding = attackers.filter((a) => !a.isClosed()).length;
      const held = heldBufferBytes() - before;
      console.log(`24 stalled frames of 900 KiB: ${24 - holding} closed at once, ${holding} held; buffers held: ${mb(held)} (cap 4 MiB; 24 × 900 KiB = ${mb(24 * 921_609)})`);
      assert.ok(holding >= 1 && holding <= 4, `${holding} connections hold an unfinished frame`);
      // The cap, plus the attacker's own 0.9 MiB and reads in transit.
      assert.ok(held < 7 * MiB, `${mb(held)} of buffers held`);

      // Honest callers are served meanwhile: their frames arrive whole and need no buffering.
      assert.deepEqual((await callFlight(transport, port, 'tcp', bison)).response, bisonFlights);
      assert.deepEqual((await postJson(port, '/flight.flight_service.queryFlight', bison)).json.resultObj, bisonFlights);

      await Promise.all(attackers.map((a) => a.closed));
      const lastClosedMs = performance.now() - started;
      console.log(`the last stalled connection was closed ${lastClosedMs.toFixed(0)} ms after its bytes were sent (read_timeout 800 ms); buffers held then: ${mb(heldBufferBytes() - before)}`);
      assert.ok(lastClosedMs < 3000, 'every stalled connection is closed soon after read_timeout');

      // Their bytes are given back: a request of 900 KiB (in many reads) is served.
      const big = { ...bison, name: 'x'.repeat(900 * 1024) };
      const { reply } = await callFlight(transport, port, 'tcp', big);
      assert.equal(reply.err, 0);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('a frame announced over max_frame_bytes (1 MiB by default) is refused at its first 9 bytes', { timeout: 20_000 }, async () => {
    const server = await serveFlight();
    try {
      const attacker = await connect(server.address.port);
      await send(attacker.socket, Buffer.concat([framePrefix(16 * MiB), Buffer.alloc(1000)]));
      const closedAfter = await attacker.closed;
      console.log(`a 16 MiB frame was refused ${closedAfter.toFixed(0)} ms after connecting`);
      assert.ok(closedAfter < 2000);
      // Exactly at the limit is fine.
      const honest = await connect(server.address.port);
      const body = encodeMessage(queryFlight.requestType, { ...bison, name: 'y'.repeat(MiB - 200) });
      const frame = encodeFrame({ sequence: '1', methodName: queryFlight.fullName }, body);
      assert.ok(frame.length <= MiB && frame.length > MiB - 1000, `${frame.length} bytes`);
      await send(honest.socket, frame);
      await until(() => honest.answers.length === 1, 3000, 'the answer to a frame of almost 1 MiB');
      assert.equal(honest.answers[0]!.head.err, 0);
      honest.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test('a frame sent slowly but whole within read_timeout is served; so are frames split across writes for longer than read_timeout', { timeout: 20_000 }, async () => {
    const server = await serveFlight({ readTimeoutMs: 300, idleTimeoutMs: 300 });
    try {
      const c = await connect(server.address.port);
      const frame = flightFrame(1);
      for (const [from, to] of [[0, 5], [5, 40], [40, frame.length]] as const) {
        await send(c.socket, frame.subarray(from, to));
        await sleep(80);
      }
      await until(() => c.answers.length === 1, 2000, 'the slow frame is answered');
      // Every write ends inside the next frame: some frame is always unfinished, each one only briefly.
      const stream = Buffer.concat(Array.from({ length: 16 }, (_, i) => flightFrame(i + 2)));
      const step = Math.ceil(stream.length / 16) + 3;
      for (let at = 0; at < stream.length; at += step) {
        await send(c.socket, stream.subarray(at, at + step));
        await sleep(60);
      }
      await until(() => c.answers.length === 17, 2000, 'all 16 split frames answered');
      assert.ok(!c.isClosed(), 'the connection is still open');
      assert.deepEqual(c.answers.map((a) => a.head.err), new Array(17).fill(0));
      c.socket.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('idle connections and the connection cap', () => {
  test('a silent connection is closed after idle_timeout; so is one that called once and went quiet', { timeout: 20_000 }, async () => {
    const server = await serveFlight({ idleTimeoutMs: 300 });
    try {
      const silent = await connect(server.address.port);
      const caller = await connect(server.address.port);
      await send(caller.socket, flightFrame(1));
      await until(() => caller.answers.length === 1, 2000, 'the call is answered');
      const [silentFor, callerFor] = await Promise.all([silent.closed, caller.closed]);
      console.log(`silent connection closed after ${silentFor.toFixed(0)} ms, the quiet caller after ${callerFor.toFixed(0)} ms (idle_timeout 300 ms)`);
      assert.ok(silentFor >= 250 && silentFor < 2000, `${silentFor} ms`);
      assert.ok(callerFor >= 250 && callerFor < 2000, `${callerFor} ms`);
    } finally {
      await server.close();
    }
  });

  test('a connection with traffic is never cut, and a handler running past idle_timeout is answered', { timeout: 20_000 }, async () => {
    let slow = false;
    const server = await serveFlight({
      idleTimeoutMs: 200, readTimeoutMs: 200, methodTimeoutMs: 5000,
      handlers: { queryFlight: async (req, ctx) => { if (slow) await sleep(600); return queryFlightHandler(req, ctx); } },
    });
    try {
      const c = await connect(server.address.port);
      for (let i = 1; i <= 15; i++) {
        await send(c.socket, flightFrame(i));
        await sleep(100);
      }
      await until(() => c.answers.length === 15, 2000, '15 calls over 1.5 s answered');
      slow = true;
      await send(c.socket, flightFrame(99));
      await until(() => c.answers.length === 16, 3000, 'the slow call answered');
      assert.equal(c.answers[15]!.head.err, 0);
      assert.ok(!c.isClosed(), 'the busy connection stayed open');
      await c.closed; // and once quiet, it goes
    } finally {
      await server.close();
    }
  });

  test('past max_connections a new connection is closed as it comes; a slot frees when one closes', { timeout: 20_000 }, async () => {
    const server = await serveFlight({ maxConnections: 3, idleTimeoutMs: 60_000 });
    try {
      const open = await Promise.all([1, 2, 3].map(() => connect(server.address.port)));
      const extra = await connect(server.address.port);
      await extra.closed;
      for (const c of open) assert.ok(!c.isClosed());
      open[0]!.socket.destroy();
      await open[0]!.closed;
      await sleep(50);
      const next = await connect(server.address.port);
      await send(next.socket, flightFrame(1));
      await until(() => next.answers.length === 1, 2000, 'the new connection is served');
      for (const c of [...open, next]) c.socket.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('HTTP/JSON on the same port', () => {
  test('headers sent a byte at a time are cut at read_timeout (408); so is a body that trickles', { timeout: 20_000 }, async () => {
    const server = await serveFlight({ readTimeoutMs: 400, idleTimeoutMs: 60_000 });
    try {
      const headers = await connect(server.address.port);
      await send(headers.socket, Buffer.from('POST /flight.flight_service.queryFlight HTTP/1.1\r\nHost: x\r\n'));
      const drip = setInterval(() => headers.socket.write('X-Slow: 1\r\n'), 50);
      let reply = '';
      headers.socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
      const headersFor = await headers.closed;
      clearInterval(drip);
      console.log(`dripping headers: closed after ${headersFor.toFixed(0)} ms (read_timeout 400 ms): ${reply.split('\r\n')[0]}`);
      assert.match(reply, /^HTTP\/1\.1 408/);
      assert.ok(headersFor < 3000);

      const body = await connect(server.address.port);
      await send(body.socket, Buffer.from('POST /flight.flight_service.queryFlight HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"name":"'));
      const drop = setInterval(() => body.socket.write('a'), 50);
      const bodyFor = await body.closed;
      clearInterval(drop);
      console.log(`dripping body: closed after ${bodyFor.toFixed(0)} ms`);
      assert.ok(bodyFor < 3000);
    } finally {
      await server.close();
    }
  });

  test('a Content-Length over max_frame_bytes is 413 before the body is read; bodies count against max_buffered_bytes', { timeout: 20_000 }, async () => {
    const server = await serveFlight({ maxFrameBytes: 64 * 1024, maxBufferedBytes: 64 * 1024, readTimeoutMs: 5000 });
    try {
      const port = server.address.port;
      const huge = await connect(port);
      let reply = '';
      huge.socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
      await send(huge.socket, Buffer.from(`POST /flight.flight_service.queryFlight HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * MiB}\r\n\r\n{`));
      await huge.closed;
      assert.match(reply, /^HTTP\/1\.1 413/);
      assert.match(reply, /over 65536 bytes \(max_frame_bytes\)/);

      // One body of 50 KB being read fills most of the 64 KiB: a second one is refused 503, unrun.
      const first = await connect(port);
      await send(first.socket, Buffer.from(`POST /flight.flight_service.queryFlight HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"name":"${'a'.repeat(50_000)}`));
      await sleep(100);
      const second = await postJson(port, '/flight.flight_service.queryFlight', { ...bison, name: 'b'.repeat(30_000) });
      assert.equal(second.status, 503);
      assert.equal(second.json.ret, RpcErrorCode.OVERLOADED);
      assert.match(second.json.errmsg, /unfinished requests \(max_buffered_bytes 65536\)/);
      first.socket.destroy();
      await first.closed;
      await sleep(50);
      assert.equal((await postJson(port, '/flight.flight_service.queryFlight', { ...bison, name: 'b'.repeat(30_000) })).status, 200, 'the bytes were given back');
    } finally {
      await server.close();
    }
  });
});
