/** Retries: on ANOTHER instance, for idempotent calls and for refused-unrun failures, within the deadline. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { addr, RpcErrorCode, table, testClient } from './client-support.ts';

const three = () => [table({ a: 100, b: 100, c: 100 })];
const hasCode = (code: number) => (e: { code?: number }) => e.code === code;

test('an idempotent call that fails on one instance is retried on another', async () => {
  const t = testClient(three());
  for (const n of ['a', 'b', 'c']) t.transport.behaviour.set(addr(n), { err: RpcErrorCode.HANDLER_ERROR });
  t.transport.behaviour.delete(addr('b'));
  let answered = 0;
  for (let i = 0; i < 20; i++) {
    const from = t.transport.sent.length;
    const r = await t.call({ idempotent: true });
    assert.equal(r.flightsInfo, addr('b'));
    const keys = t.transport.sent.slice(from).map((s) => s.key);
    assert.equal(new Set(keys).size, keys.length, `an instance was tried twice: ${keys}`);
    assert.equal(keys.at(-1), addr('b'));
    answered++;
  }
  assert.equal(answered, 20);
  assert.ok(t.transport.sent.length > 20, 'some calls needed a retry');
});

test('a non-idempotent call that may have run is not retried', async () => {
  const t = testClient(three());
  t.transport.behaviour.set(addr('a'), { err: RpcErrorCode.HANDLER_ERROR });
  t.transport.behaviour.set(addr('b'), { throws: RpcErrorCode.CLIENT_TIMEOUT });
  t.transport.behaviour.set(addr('c'), { throws: RpcErrorCode.CONNECTION_LOST });
  for (let i = 0; i < 10; i++) {
    const from = t.transport.sent.length;
    await assert.rejects(t.call(), (e: { code: number }) => [1005, 2003, 2005].includes(e.code));
    assert.equal(t.transport.sent.length - from, 1);
  }
});

test('a refused-unrun failure is retried elsewhere even when the call is not idempotent', async () => {
  for (const refusal of [{ err: RpcErrorCode.OVERLOADED }, { err: RpcErrorCode.SHUTTING_DOWN }, { throws: RpcErrorCode.CONNECT_FAILED }]) {
    const t = testClient(three());
    t.transport.behaviour.set(addr('a'), refusal);
    t.transport.behaviour.set(addr('c'), refusal);
    for (let i = 0; i < 10; i++) assert.equal((await t.call()).flightsInfo, addr('b'));
  }
});

test('the caller\'s own mistakes are not retried, even for idempotent calls', async () => {
  const t = testClient(three());
  for (const n of ['a', 'b', 'c']) t.transport.behaviour.set(addr(n), { err: RpcErrorCode.METHOD_NOT_FOUND });
  await assert.rejects(t.call({ idempotent: true }), hasCode(RpcErrorCode.METHOD_NOT_FOUND));
  assert.equal(t.transport.sent.length, 1);
});

test('attempts stop at maxAttempts, and at the instances there are; the last error is thrown', async () => {
  const t = testClient([table({ a: 1, b: 1, c: 1, d: 1, e: 1 })], { maxAttempts: 3 });
  for (const n of 'abcde') t.transport.behaviour.set(addr(n), { err: RpcErrorCode.OVERLOADED });
  await assert.rejects(t.call(), hasCode(RpcErrorCode.OVERLOADED));
  assert.equal(t.transport.sent.length, 3);
  const two = testClient([table({ a: 1, b: 1 })], { maxAttempts: 5 });
  for (const n of 'ab') two.transport.behaviour.set(addr(n), { err: RpcErrorCode.OVERLOADED });
  await assert.rejects(two.call(), hasCode(RpcErrorCode.OVERLOADED));
  assert.deepEqual(two.transport.sent.map((s) => s.key).sort(), [addr('a'), addr('b')]);
});

test('retries share the call\'s deadline: each attempt gets what is left, none starts after it', async () => {
  const t = testClient(three());
  for (const n of 'abc') t.transport.behaviour.set(addr(n), { err: RpcErrorCode.OVERLOADED });
  t.transport.onRequest = () => t.clock.advance(500);
  await assert.rejects(t.call({ timeoutMs: 800 }), hasCode(RpcErrorCode.OVERLOADED));
  assert.deepEqual(t.transport.sent.map((s) => [s.frame.deadlineMs, s.timeoutMs]), [[800, 800], [300, 300]]);
});

test('a call by address is never retried elsewhere', async () => {
  const t = testClient();
  t.transport.behaviour.set('10.9.9.9:7000', { throws: RpcErrorCode.CONNECT_FAILED });
  await assert.rejects(t.call({ idempotent: true }, '10.9.9.9:7000'), hasCode(RpcErrorCode.CONNECT_FAILED));
  assert.equal(t.transport.sent.length, 1);
});

test('every attempt is reported with its instance and error, one request id for the call', async () => {
  const t = testClient(three());
  t.transport.behaviour.set(addr('a'), { err: RpcErrorCode.OVERLOADED });
  t.transport.behaviour.set(addr('c'), { err: RpcErrorCode.OVERLOADED });
  t.transport.onRequest = () => t.clock.advance(3);
  await t.calls(10);
  const ids = new Set(t.reporter.records.map((r) => r.requestId));
  assert.equal(ids.size, 10);
  for (const r of t.reporter.records) {
    assert.equal(r.side, 'client');
    assert.equal(r.caller, 'tester');
    assert.equal(r.callee, 'Flight.mod_flight');
    assert.equal(r.method, 'flight.flight_service.queryFlight');
    assert.equal(r.latencyMs, 3);
    assert.equal(r.err, `${r.instance.ip}:${r.instance.port}` === addr('b') ? 0 : RpcErrorCode.OVERLOADED);
  }
  assert.equal(t.reporter.records.filter((r) => r.err === 0).length, 10);
});
