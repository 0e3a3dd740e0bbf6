/** Per-instance circuit breakers in the client: skip an open instance, probe it after the cool-down. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { addr, RpcErrorCode, table, testClient } from './client-support.ts';

const hasCode = (code: number) => (e: { code?: number }) => e.code === code;
const breaker = { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 8000 };

test('an address that fails repeatedly is refused locally until the cool-down ends, then tried once', async () => {
  const t = testClient([], { breaker });
  const target = '10.9.9.9:7000';
  t.transport.behaviour.set(target, { throws: RpcErrorCode.CONNECT_FAILED });
  for (let i = 0; i < 3; i++) await assert.rejects(t.call({}, target), hasCode(RpcErrorCode.CONNECT_FAILED));
  await assert.rejects(t.call({}, target), hasCode(RpcErrorCode.CIRCUIT_OPEN));
  assert.equal(t.transport.sent.length, 3);
  t.clock.advance(999);
  await assert.rejects(t.call({}, target), hasCode(RpcErrorCode.CIRCUIT_OPEN));
  t.clock.advance(1);
  t.transport.behaviour.delete(target);
  assert.equal((await t.call({}, target)).flightsInfo, target);
  assert.equal((await t.call({}, target)).flightsInfo, target);
  assert.equal(t.transport.sent.length, 5);
});

test('a failed trial opens the breaker again for twice as long', async () => {
  const t = testClient([], { breaker });
  const target = '10.9.9.9:7000';
  t.transport.behaviour.set(target, { throws: RpcErrorCode.CONNECT_FAILED });
  for (let i = 0; i < 3; i++) await t.call({}, target).catch(() => undefined);
  t.clock.advance(1000);
  await assert.rejects(t.call({}, target), hasCode(RpcErrorCode.CONNECT_FAILED)); // the trial
  t.clock.advance(1999);
  await assert.rejects(t.call({}, target), hasCode(RpcErrorCode.CIRCUIT_OPEN));
  t.clock.advance(1);
  await assert.rejects(t.call({}, target), hasCode(RpcErrorCode.CONNECT_FAILED));
  assert.equal(t.transport.sent.length, 5);
});

test('selection skips an instance whose breaker is open; after the cool-down one call probes it', async () => {
  const t = testClient([table({ a: 100, b: 100 })], { breaker });
  t.transport.behaviour.set(addr('a'), { err: RpcErrorCode.HANDLER_ERROR });
  let failures = 0;
  while (failures < 3) failures += await t.calls(1);
  const from = t.transport.sent.length;
  assert.equal(await t.calls(50), 0);
  assert.deepEqual(t.transport.counts(from), { b: 50 });
  t.clock.advance(1000);
  t.transport.behaviour.delete(addr('a'));
  const before = t.transport.sent.length;
  await t.calls(200);
  const after = t.transport.counts(before);
  assert.ok(after.a! > 50, `a is back in rotation: ${JSON.stringify(after)}`);
});

test('when every instance\'s breaker is open the call fails with CIRCUIT_OPEN without sending', async () => {
  const t = testClient([table({ a: 100, b: 100 })], { breaker });
  for (const n of 'ab') t.transport.behaviour.set(addr(n), { throws: RpcErrorCode.CONNECT_FAILED });
  await t.calls(10);
  const sent = t.transport.sent.length;
  await assert.rejects(t.call(), hasCode(RpcErrorCode.CIRCUIT_OPEN));
  assert.equal(t.transport.sent.length, sent);
});

test('a caller mistake (METHOD_NOT_FOUND) does not count against the instance', async () => {
  const t = testClient([table({ a: 100 })], { breaker });
  t.transport.behaviour.set(addr('a'), { err: RpcErrorCode.METHOD_NOT_FOUND });
  for (let i = 0; i < 10; i++) await assert.rejects(t.call(), hasCode(RpcErrorCode.METHOD_NOT_FOUND));
  assert.equal(t.transport.sent.length, 10);
});

test('an instance the breaker holds off because it cannot be reached goes dead in the NLB; one held off for failing handlers keeps its weight', async () => {
  const unreachable = testClient([table({ a: 100, b: 100 })], { breaker });
  unreachable.transport.behaviour.set(addr('a'), { throws: RpcErrorCode.CONNECT_FAILED });
  await unreachable.calls(200, { idempotent: true });
  unreachable.clock.advance(5000);
  await unreachable.calls(1, { idempotent: true });
  const dead = unreachable.client.routeState('Flight.mod_flight')!;
  assert.ok(dead.dead.includes(addr('a')), `the refused picks count as failures: ${JSON.stringify(dead)}`);

  const failing = testClient([table({ a: 100, b: 100 })], { breaker });
  failing.transport.behaviour.set(addr('a'), { err: RpcErrorCode.HANDLER_ERROR });
  await failing.calls(200, { idempotent: true });
  failing.clock.advance(5000);
  await failing.calls(1, { idempotent: true });
  const kept = failing.client.routeState('Flight.mod_flight')!;
  assert.deepEqual(kept.dead, [], 'three real failures are fewer than the shaping minimum: nothing to judge yet');
  assert.equal(kept.weights[addr('a')], 100, `only calls that ran move the weight: ${JSON.stringify(kept.weights)}`);
});
