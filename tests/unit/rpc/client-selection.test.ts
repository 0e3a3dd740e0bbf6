/** The client's NLB end to end (fake transport, moved clock): spread, a failing instance's fall, recovery. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { addr, RpcErrorCode, table, testClient } from './client-support.ts';

test('calls spread over the instances by weight (seeded random)', async () => {
  const t = testClient([table({ a: 100, b: 300 })]);
  await t.calls(4000);
  const { a = 0, b = 0 } = t.transport.counts();
  assert.equal(a + b, 4000);
  assert.ok(a > 850 && a < 1150, `a: ${a}`);
  assert.ok(b > 2850 && b < 3150, `b: ${b}`);
  await t.client.close();
});

test('each call answers with the instance\'s response, decoded', async () => {
  const t = testClient([table({ a: 1 })]);
  assert.deepEqual(await t.call(), { errcode: 0, errmsg: '', flightsInfo: addr('a') });
});

test('a failing instance\'s share falls to the probe share after a window', async () => {
  const t = testClient([table({ a: 100, b: 100, c: 100 })], { breaker: { failureThreshold: 1e9 } });
  t.transport.behaviour.set(addr('c'), { err: RpcErrorCode.HANDLER_ERROR });
  await t.calls(300);
  // Within the window already, once c has 10 outcomes at 0 %, its picks become uniform picks
  // (success_ratio_min), so it gets about a ninth of the rest instead of a third.
  const first = t.transport.counts();
  assert.ok(first.c! >= 10 && first.c! < 60, `c got ${first.c} of the first window`);
  t.clock.advance(5000);
  assert.deepEqual(t.client.routeState('Flight.mod_flight')!.dead, [addr('c')]);
  const budget = t.client.routeState('Flight.mod_flight')!.probesLeft;
  assert.equal(budget, 3); // 1 % of the 300 requests the window counted
  // 2000 calls would put ~20 points in the dead slice (≈1 %): the budget caps the probes at 3.
  const from = t.transport.sent.length;
  await t.calls(2000);
  const second = t.transport.counts(from);
  assert.ok((second.c ?? 0) <= budget, `c got ${second.c} probes, budget ${budget}`);
  assert.ok((second.c ?? 0) >= 1, 'the dead instance is still probed');
  assert.equal((second.a ?? 0) + (second.b ?? 0) + (second.c ?? 0), 2000);
  await t.client.close();
});

test('recovery step by step: probes revive it at 10 %, then +5 % a window', async () => {
  const t = testClient([table({ a: 100, b: 100, c: 100 })], { breaker: { failureThreshold: 1e9 } });
  t.transport.behaviour.set(addr('c'), { err: RpcErrorCode.HANDLER_ERROR });
  await t.calls(600);
  t.clock.advance(5000);
  assert.equal(t.client.routeState('Flight.mod_flight')!.weights[addr('c')], 0);
  t.transport.behaviour.delete(addr('c')); // c works again
  const seen: number[] = [];
  for (let window = 0; window < 6; window++) {
    await t.calls(600);
    t.clock.advance(5000);
    seen.push(t.client.routeState('Flight.mod_flight')!.weights[addr('c')]!);
  }
  assert.deepEqual(seen, [10, 15, 20, 25, 30, 35]);
  const w = t.client.routeState('Flight.mod_flight')!.weights;
  assert.equal(w[addr('a')], 100);
  assert.equal(w[addr('b')], 100);
});

test('a routing-table change reaches the client; removed instances get nothing more', async () => {
  const t = testClient([table({ a: 100, b: 100 })]);
  await t.calls(20);
  t.routes.set(table({ b: 100, c: 100 }, { version: 2 }));
  await new Promise((r) => setImmediate(r));
  const from = t.transport.sent.length;
  await t.calls(200);
  const after = t.transport.counts(from);
  assert.equal(after.a, undefined);
  assert.ok(after.b! > 50 && after.c! > 50, JSON.stringify(after));
  assert.equal(t.client.routeState('Flight.mod_flight')!.version, 2);
});

test('NLB tuning in the routing table overrides the client\'s settings', async () => {
  const t = testClient([table({ a: 100 }, { tuning: { weight_incr_ratio: 0.2, bogus: 1 } })], { nlb: { weightIncrRatio: 0.1, windowMs: 1000 } });
  await t.call();
  const s = t.client.routeState('Flight.mod_flight')!.settings!;
  assert.equal(s.weightIncrRatio, 0.2);
  assert.equal(s.windowMs, 1000);
});

test('a service without instances fails with NO_ROUTE; an unknown one too', async () => {
  const t = testClient([table({})]);
  await assert.rejects(t.call(), (e: { code: number }) => e.code === RpcErrorCode.NO_ROUTE);
  await assert.rejects(t.call({}, 'Other.svc'), (e: { code: number; message: string }) => e.code === RpcErrorCode.NO_ROUTE);
  assert.equal(t.transport.sent.length, 0);
  assert.deepEqual(t.reporter.records.map((r) => [r.callee, r.err, r.instance.port]), [['Flight.mod_flight', 2001, 0], ['Other.svc', 2001, 0]]);
});
