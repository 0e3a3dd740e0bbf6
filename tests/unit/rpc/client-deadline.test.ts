/** Deadlines shrink across hops; request id, coloring and callers propagate from the call being served. */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { CallContext } from '../../../apps/rpc/contracts.ts';
import { planCall } from '../../../apps/rpc/client/call-plan.ts';
import { RpcErrorCode, table, testClient } from './client-support.ts';

function parentAt(now: number, leftMs: number): CallContext {
  return {
    requestId: '1234567890123456789', coloring: 1, colorId: '77', caller: 'Gateway.web', callerStack: ['Edge.lb'],
    service: 'Flight.front', method: 'flight.front.search', deadline: now + leftMs, signal: new AbortController().signal, setResult: () => {},
  };
}

test('a first call: new request id, no coloring, the client as caller, MSEC\'s 800 ms', async () => {
  const t = testClient([table({ a: 1 })]);
  await t.call();
  await t.call();
  const [one, two] = t.transport.sent.map((s) => s.frame);
  assert.match(one!.requestId, /^[1-9][0-9]*$/);
  assert.notEqual(one!.requestId, two!.requestId);
  assert.ok(BigInt(one!.requestId) < 2n ** 64n, 'a 64-bit id');
  assert.deepEqual({ ...one!, body: undefined, requestId: undefined }, {
    method: 'flight.flight_service.queryFlight', body: undefined, requestId: undefined,
    coloring: 0, colorId: '0', caller: 'tester', callerStack: [], deadlineMs: 800,
  });
  assert.equal(t.transport.sent[0]!.timeoutMs, 800);
});

test('from a handler: the parent\'s request id, coloring and color id; its service as caller; the stack grows', async () => {
  const t = testClient([table({ a: 1 })]);
  await t.call({ parent: parentAt(t.clock.now, 5000) });
  const f = t.transport.sent[0]!.frame;
  assert.equal(f.requestId, '1234567890123456789');
  assert.equal(f.coloring, 1);
  assert.equal(f.colorId, '77');
  assert.equal(f.caller, 'Flight.front');
  assert.deepEqual(f.callerStack, ['Edge.lb', 'Gateway.web']);
  assert.equal(t.reporter.records[0]!.caller, 'Flight.front');
  assert.equal(t.reporter.records[0]!.requestId, '1234567890123456789');
});

test('the budget is min(timeoutMs, the parent\'s time left)', async () => {
  const t = testClient([table({ a: 1 })]);
  await t.call({ parent: parentAt(t.clock.now, 300) });
  await t.call({ parent: parentAt(t.clock.now, 300), timeoutMs: 100 });
  await t.call({ parent: parentAt(t.clock.now, 5000), timeoutMs: 2000 });
  await t.call({ timeoutMs: 2500 });
  assert.deepEqual(t.transport.sent.map((s) => [s.frame.deadlineMs, s.timeoutMs]), [[300, 300], [100, 100], [2000, 2000], [2500, 2500]]);
});

test('a parent out of time fails the call at once, without sending, and reports it', async () => {
  const t = testClient([table({ a: 1 })]);
  await assert.rejects(t.call({ parent: parentAt(t.clock.now, 0) }), (e: { code: number }) => e.code === RpcErrorCode.CLIENT_TIMEOUT);
  await assert.rejects(t.call({ parent: parentAt(t.clock.now, -50) }), (e: { code: number }) => e.code === RpcErrorCode.CLIENT_TIMEOUT);
  assert.equal(t.transport.sent.length, 0);
  assert.deepEqual(t.reporter.records.map((r) => r.err), [RpcErrorCode.CLIENT_TIMEOUT, RpcErrorCode.CLIENT_TIMEOUT]);
});

test('time spent waiting shrinks what the next hop gets', async () => {
  const t = testClient([table({ a: 1 })]);
  const parent = parentAt(t.clock.now, 600);
  t.clock.advance(250);
  await t.call({ parent });
  assert.equal(t.transport.sent[0]!.frame.deadlineMs, 350);
});

test('planCall: a parent without a request id gets a new one; an empty caller is not stacked', () => {
  const parent = { ...parentAt(1000, 100), requestId: '', caller: '', callerStack: [] };
  const plan = planCall({ parent }, 'x', 1000);
  assert.match(plan.meta.requestId, /^[1-9][0-9]*$/);
  assert.deepEqual(plan.meta.callerStack, []);
  assert.equal(plan.deadline, 1100);
});
