/**
 * The client transport against stub peers that misbehave on purpose: slow, refusing,
 * dropping the connection, answering out of order, or over UDP.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { FrameDecoder, decodeFrame, encodeFrame, udpMaxFrameBytes, type Frame } from '../../../adapters/rpc/framing.ts';
import { createTransport } from '../../../adapters/rpc/transport.ts';
import { RpcError, RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import { requestFrame, settle } from './server-harness.ts';

/** A TCP peer that hands each request frame to `onRequest` with a way to answer it. */
async function stubPeer(onRequest: (frame: Frame, reply: (body: string, err?: number) => void, socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const decoder = new FrameDecoder((frame) => onRequest(frame, (body, err = 0) => {
      socket.write(encodeFrame({ sequence: frame.head.sequence, flowId: frame.head.flowId, err }, Buffer.from(body)));
    }, socket));
    socket.on('data', (chunk) => decoder.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => sockets.size,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

const req = (body: string, meta = {}) => requestFrame('p.S.M', Buffer.from(body), meta);
const codeOf = (outcome: { ok: boolean; error?: unknown }) => (outcome.ok ? 0 : (outcome.error as RpcError).code);

describe('TCP transport', () => {
  test('answers that come back out of order reach their own callers; the head travels', async () => {
    const held: (() => void)[] = [];
    const heads: Frame['head'][] = [];
    const peer = await stubPeer((frame, reply) => {
      heads.push(frame.head);
      held.push(() => reply(`re:${frame.body.toString()}`));
      if (held.length === 3) for (const answer of held.reverse()) answer();
    });
    const transport = createTransport();
    const to = { ip: '127.0.0.1', port: peer.port };
    const replies = await Promise.all(['a', 'b', 'c'].map((b, i) => transport.request(to, 'tcp', req(b, { requestId: `${i + 10}`, coloring: 1, colorId: '5', caller: 'A.b', callerStack: ['X.y'] }), 1000)));
    assert.deepEqual(replies.map((r) => r.body.toString()), ['re:a', 're:b', 're:c']);
    assert.deepEqual(replies.map((r) => r.requestId), ['10', '11', '12']);
    assert.equal(peer.connections(), 1, 'one long-lived connection');
    const head = heads.find((h) => h.flowId === '10')!;
    assert.deepEqual({ ...head, sequence: '' }, {
      sequence: '', flowId: '10', coloring: 1, colorId: '5', caller: 'A.b', callerStack: ['X.y'], methodName: 'p.S.M',
      deadlineMs: 1000, err: 0, result: 0, errMsg: '',
    }, 'deadline_ms defaults to the timeout');
    await transport.close();
    await peer.close();
  });

  test('connectionsPerEndpoint spreads requests over that many connections', async () => {
    const peer = await stubPeer((frame, reply) => reply('ok'));
    const transport = createTransport({ connectionsPerEndpoint: 3 });
    await Promise.all(Array.from({ length: 9 }, () => transport.request({ ip: '127.0.0.1', port: peer.port }, 'tcp', req('x'), 1000)));
    assert.equal(peer.connections(), 3);
    await transport.close();
    await peer.close();
  });

  test('no answer in time: CLIENT_TIMEOUT; a late answer is ignored and the connection still works', async () => {
    const peer = await stubPeer((frame, reply) => {
      if (frame.body.toString() === 'slow') setTimeout(() => reply('late'), 100);
      else reply('fast');
    });
    const transport = createTransport();
    const to = { ip: '127.0.0.1', port: peer.port };
    const slow = await settle(transport.request(to, 'tcp', req('slow'), 30));
    assert.equal(codeOf(slow), RpcErrorCode.CLIENT_TIMEOUT);
    assert.match((slow as { error: Error }).error.message, /within 30 ms; raise the call's timeoutMs/);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal((await transport.request(to, 'tcp', req('x'), 1000)).body.toString(), 'fast');
    await transport.close();
    await peer.close();
  });

  test('nothing listening: CONNECT_FAILED', async () => {
    const peer = await stubPeer(() => {});
    const port = peer.port;
    await peer.close();
    const transport = createTransport();
    const outcome = await settle(transport.request({ ip: '127.0.0.1', port }, 'tcp', req('x'), 1000));
    assert.equal(codeOf(outcome), RpcErrorCode.CONNECT_FAILED);
    assert.match((outcome as { error: Error }).error.message, /ECONNREFUSED.*check that the instance is up/);
    await transport.close();
  });

  test('an unreachable address within the connect timeout: CONNECT_FAILED', async () => {
    const transport = createTransport({ connectTimeoutMs: 50 });
    // 192.0.2.0/24 is reserved for documentation: nothing answers there.
    const outcome = await settle(transport.request({ ip: '192.0.2.1', port: 7963 }, 'tcp', req('x'), 1000));
    assert.equal(codeOf(outcome), RpcErrorCode.CONNECT_FAILED);
    await transport.close();
  });

  test('the peer drops the connection with requests in flight: CONNECTION_LOST; the next request reconnects', async () => {
    let calls = 0;
    const peer = await stubPeer((frame, reply, socket) => {
      if (++calls <= 2) { if (calls === 2) socket.destroy(); return; }
      reply('back');
    });
    const transport = createTransport();
    const to = { ip: '127.0.0.1', port: peer.port };
    const lost = await Promise.all([settle(transport.request(to, 'tcp', req('a'), 1000)), settle(transport.request(to, 'tcp', req('b'), 1000))]);
    assert.deepEqual(lost.map(codeOf), [RpcErrorCode.CONNECTION_LOST, RpcErrorCode.CONNECTION_LOST]);
    assert.equal((await transport.request(to, 'tcp', req('c'), 1000)).body.toString(), 'back');
    await transport.close();
    await peer.close();
  });

  test('close() fails what is in flight and refuses new requests', async () => {
    const peer = await stubPeer(() => {});
    const transport = createTransport();
    const to = { ip: '127.0.0.1', port: peer.port };
    const pending = settle(transport.request(to, 'tcp', req('x'), 5000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await transport.close();
    assert.equal(codeOf(await pending), RpcErrorCode.CONNECTION_LOST);
    assert.equal(codeOf(await settle(transport.request(to, 'tcp', req('y'), 1000))), RpcErrorCode.CONNECT_FAILED);
    await peer.close();
  });
});

describe('UDP transport', () => {
  async function udpPeer(onRequest: (frame: Frame, from: dgram.RemoteInfo, socket: dgram.Socket) => void) {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, from) => onRequest(decodeFrame(msg), from, socket));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return { port: socket.address().port, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  }

  test('answers are matched by sequence, whatever their order', async () => {
    const held: (() => void)[] = [];
    const peer = await udpPeer((frame, from, socket) => {
      held.push(() => socket.send(encodeFrame({ sequence: frame.head.sequence }, Buffer.from(`re:${frame.body}`)), from.port, from.address));
      if (held.length === 2) for (const send of held.reverse()) send();
    });
    const transport = createTransport();
    const to = { ip: '127.0.0.1', port: peer.port };
    const replies = await Promise.all([transport.request(to, 'udp', req('a'), 1000), transport.request(to, 'udp', req('b'), 1000)]);
    assert.deepEqual(replies.map((r) => r.body.toString()), ['re:a', 're:b']);
    await transport.close();
    await peer.close();
  });

  test('a request over the datagram limit is refused unsent, pointing at TCP', async () => {
    let received = 0;
    const peer = await udpPeer(() => { received++; });
    const transport = createTransport();
    const outcome = await settle(transport.request({ ip: '127.0.0.1', port: peer.port }, 'udp', req('x'.repeat(udpMaxFrameBytes)), 1000));
    assert.equal(codeOf(outcome), RpcErrorCode.FRAME_ERROR);
    assert.match((outcome as { error: Error }).error.message, /send it over TCP/);
    assert.equal(received, 0);
    await transport.close();
    await peer.close();
  });

  test('no answer: CLIENT_TIMEOUT', async () => {
    const peer = await udpPeer(() => {});
    const transport = createTransport();
    const outcome = await settle(transport.request({ ip: '127.0.0.1', port: peer.port }, 'udp', req('x'), 30));
    assert.equal(codeOf(outcome), RpcErrorCode.CLIENT_TIMEOUT);
    await transport.close();
    await peer.close();
  });
});
