/**
 * The server under pressure and at the end of its life: MSEC's msg_timeout guard
 * (requests that cannot start in time are refused, never queued forever) and a graceful
 * close (running work finishes, new work is refused with SHUTTING_DOWN).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcErrorCode } from '../../../apps/rpc/contracts.ts';
import { RecordingReporter, bison, bisonFlights, callFlight, createTransport, serveFlight, settle } from './server-harness.ts';

/** A handler that finishes when the test says so. */
function gate() {
  const waiting: (() => void)[] = [];
  let started = 0;
  return {
    get started() { return started; },
    async handler() {
      started++;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return bisonFlights;
    },
    open() { for (const release of waiting.splice(0)) release(); },
    whenStarted: async (count: number) => { while (started < count) await new Promise((resolve) => setTimeout(resolve, 2)); },
  };
}

describe('overload guard (maxConcurrent + queueTimeoutMs)', () => {
  test('requests that cannot start within queueTimeoutMs get OVERLOADED, unrun; the running one finishes', async () => {
    const slow = gate();
    const reporter = new RecordingReporter();
    const server = await serveFlight({ maxConcurrent: 1, queueTimeoutMs: 30, methodTimeoutMs: 5000, reporter, handlers: { queryFlight: () => slow.handler() } });
    const transport = createTransport();
    const call = () => callFlight(transport, server.address.port, 'tcp', bison, {}, 5000);

    const first = call();
    await slow.whenStarted(1);
    const later = await Promise.all([call(), call(), call()]);
    assert.deepEqual(later.map((c) => c.reply.err), [RpcErrorCode.OVERLOADED, RpcErrorCode.OVERLOADED, RpcErrorCode.OVERLOADED]);
    assert.match(later[0]!.reply.errMsg, /waited \d+ ms for a free handler.*call another instance/);
    assert.equal(slow.started, 1, 'the refused requests never ran');

    slow.open();
    assert.equal((await first).reply.err, 0);
    assert.deepEqual(reporter.calls.map((c) => c.err).sort(), [0, 1004, 1004, 1004]);
    await transport.close();
    await server.close();
  });

  test('a request that waits less than queueTimeoutMs runs when a slot frees', async () => {
    const slow = gate();
    const server = await serveFlight({ maxConcurrent: 1, queueTimeoutMs: 5000, handlers: { queryFlight: () => slow.handler() } });
    const transport = createTransport();
    const both = [callFlight(transport, server.address.port, 'tcp', bison), callFlight(transport, server.address.port, 'tcp', bison)];
    await slow.whenStarted(1);
    slow.open();
    await slow.whenStarted(2);
    slow.open();
    assert.deepEqual((await Promise.all(both)).map((c) => c.reply.err), [0, 0]);
    await transport.close();
    await server.close();
  });
});

describe('graceful close', () => {
  test('running handlers finish; new requests on open connections get SHUTTING_DOWN; then the port is closed', async () => {
    const slow = gate();
    const reporter = new RecordingReporter();
    const server = await serveFlight({ reporter, methodTimeoutMs: 5000, handlers: { queryFlight: () => slow.handler() } });
    const transport = createTransport();
    const { port } = server.address;
    const running = callFlight(transport, port, 'tcp', bison, {}, 5000);
    await slow.whenStarted(1);

    const closing = server.close();
    const refused = await callFlight(transport, port, 'tcp', bison);
    assert.equal(refused.reply.err, RpcErrorCode.SHUTTING_DOWN);
    assert.match(refused.reply.errMsg, /call another instance/);
    const refusedUdp = await callFlight(transport, port, 'udp', bison);
    assert.equal(refusedUdp.reply.err, RpcErrorCode.SHUTTING_DOWN);

    slow.open();
    const done = await running;
    assert.equal(done.reply.err, 0);
    assert.deepEqual(done.response, bisonFlights);
    await closing;
    assert.ok(reporter.flushes >= 1, 'the reporter is flushed');

    const fresh = createTransport();
    const after = await settle(callFlight(fresh, port, 'tcp', bison));
    assert.equal(after.ok, false, 'nothing listens any more');
    await fresh.close();
    await transport.close();
  });

  test('a handler still running after the grace period is told to stop and answered TIMEOUT', async () => {
    let signal: AbortSignal | undefined;
    const server = await serveFlight({
      shutdownGraceMs: 20, methodTimeoutMs: 5000,
      handlers: { queryFlight: (_req, ctx) => { signal = ctx.signal; return new Promise(() => {}); } },
    });
    const transport = createTransport();
    const stuck = callFlight(transport, server.address.port, 'tcp', bison, {}, 5000);
    while (!signal) await new Promise((resolve) => setTimeout(resolve, 2));
    await server.close();
    const { reply } = await stuck;
    assert.equal(reply.err, RpcErrorCode.TIMEOUT);
    assert.match(reply.errMsg, /shut down before the handler finished/);
    assert.equal(signal.aborted, true);
    await transport.close();
  });
});
