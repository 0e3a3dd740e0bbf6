/** BusCallReporter: buffered call records flushed to the bus as route feedback, frm.* metrics and call edges. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import type { CallRecord } from '../../../apps/rpc/contracts.ts';
import { BusCallReporter } from '../../../apps/rpc/reports/bus-reporter.ts';
import { decodeReport, type CallsReport, type MetricsReport, type RoutesReport } from '../../../schemas/reports.ts';

const minute = 1_700_000_040_000; // a whole minute
const call = (o: Partial<CallRecord> = {}): CallRecord => ({
  side: 'client', caller: 'Web.front', callee: 'Flight.mod_flight', method: 'flight.flight_service.queryFlight',
  instance: { ip: '10.0.0.1', port: 7963 }, requestId: '42', err: 0, latencyMs: 3, at: minute + 1000, ...o,
});

function published<T>(bus: MemoryMessageBus, topic: string): { key: string; report: T }[] {
  return (bus.broker.topics.get(topic) ?? []).map((m) => ({ key: m.key, report: decodeReport(topic, m.value) as T }));
}

/** A logger that counts warnings. */
function countingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

test('a flush publishes route feedback per service and instance (client side only)', async () => {
  const bus = new MemoryMessageBus();
  const r = new BusCallReporter({ bus, reporter: 'Web.front', flushEveryMs: 0 });
  r.record(call());
  r.record(call({ err: 1005, latencyMs: 7, at: minute + 2000 }));
  r.record(call({ instance: { ip: '10.0.0.2', port: 7963 }, latencyMs: 1 }));
  r.record(call({ side: 'server' }));
  r.record(call({ instance: { ip: '', port: 0 }, err: 2001 }));
  await r.flush();
  const routes = published<RoutesReport>(bus, 'msec.reports.routes');
  assert.equal(routes.length, 1);
  assert.equal(routes[0]!.key, 'Flight.mod_flight');
  assert.deepEqual(routes[0]!.report, {
    reporter: 'Web.front', windowStartMs: minute + 1000, windowEndMs: minute + 2000,
    instances: [
      { service: 'Flight.mod_flight', ip: '10.0.0.1', port: 7963, requests: 2, failures: 1, latencyMsSum: 10 },
      { service: 'Flight.mod_flight', ip: '10.0.0.2', port: 7963, requests: 1, failures: 0, latencyMsSum: 1 },
    ],
  });
  await r.close();
});

test('frm.* metrics per side, service, method and minute, with cumulative latency buckets', async () => {
  const bus = new MemoryMessageBus();
  const r = new BusCallReporter({ bus, reporter: 'Web.front', flushEveryMs: 0 });
  r.record(call({ latencyMs: 0.5 }));
  r.record(call({ latencyMs: 7, err: 1003 }));
  r.record(call({ latencyMs: 2000 }));
  r.record(call({ latencyMs: 4, at: minute + 60_000 }));
  r.record(call({ side: 'server', latencyMs: 1 }));
  await r.flush();
  const [metrics] = published<MetricsReport>(bus, 'msec.reports.metrics');
  const value = (side: string, m: number, attr: string) =>
    metrics!.report.metrics.find((x) => x.side === side && x.minute === m && x.attr === attr)?.value;
  const first = minute / 1000;
  assert.equal(value('client', first, 'frm.requests'), 3);
  assert.equal(value('client', first, 'frm.failures'), 1);
  assert.equal(value('client', first, 'frm.latency.sum_ms'), 2007.5);
  assert.deepEqual(['1', '5', '10', '50', '100', '500', '1000', 'inf'].map((b) => value('client', first, b === 'inf' ? 'frm.latency.le_inf' : `frm.latency.le_${b}ms`)), [1, 1, 2, 2, 2, 2, 2, 3]);
  assert.equal(value('client', first + 60, 'frm.requests'), 1);
  assert.equal(value('client', first + 60, 'frm.latency.le_5ms'), 1);
  assert.equal(value('server', first, 'frm.requests'), 1);
  assert.ok(metrics!.report.metrics.every((x) => x.service === 'Flight.mod_flight' && x.method === 'flight.flight_service.queryFlight'), 'one service and method');
  assert.equal(metrics!.report.droppedRecords, 0);
  await r.close();
});

test('call edges carry caller → callee.method, request id, error, latency and the instance', async () => {
  const bus = new MemoryMessageBus();
  const r = new BusCallReporter({ bus, reporter: 'Web.front', flushEveryMs: 0 });
  r.record(call({ requestId: '18446744073709551615', err: 1004 }));
  r.record(call({ instance: { ip: '', port: 0 }, err: 2004 }));
  await r.close();
  const [edges] = published<CallsReport>(bus, 'msec.reports.calls');
  assert.equal(edges!.key, 'Flight.mod_flight');
  assert.deepEqual(edges!.report.calls, [
    { side: 'client', caller: 'Web.front', callee: 'Flight.mod_flight', method: 'flight.flight_service.queryFlight', requestId: '18446744073709551615', err: 1004, latencyMs: 3, atMs: minute + 1000, instance: '10.0.0.1:7963' },
    { side: 'client', caller: 'Web.front', callee: 'Flight.mod_flight', method: 'flight.flight_service.queryFlight', requestId: '42', err: 2004, latencyMs: 3, atMs: minute + 1000, instance: '' },
  ]);
});

test('reaching flushEveryRecords flushes without waiting for the timer; close flushes the rest', async () => {
  const bus = new MemoryMessageBus();
  const r = new BusCallReporter({ bus, flushEveryMs: 0, flushEveryRecords: 3 });
  r.record(call());
  r.record(call());
  assert.equal(bus.broker.topics.get('msec.reports.calls'), undefined);
  r.record(call());
  await r.flush();
  assert.equal(published<CallsReport>(bus, 'msec.reports.calls')[0]!.report.calls.length, 3);
  r.record(call());
  await r.close();
  assert.equal(published<CallsReport>(bus, 'msec.reports.calls').length, 2);
  r.record(call()); // after close: ignored, never thrown
  assert.equal(r.stats().buffered, 0);
});

/** A bus that refuses while `down` is set. */
class FlakyBus implements MessageBus {
  down = true;
  attempts = 0;
  constructor(readonly inner = new MemoryMessageBus()) {}
  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error('broker unreachable');
    await this.inner.publish(topic, messages);
  }
  subscribe: MessageBus['subscribe'] = (o, h) => this.inner.subscribe(o, h);
  lag: MessageBus['lag'] = (t, g) => this.inner.lag(t, g);
  close = () => this.inner.close();
}

test('a bus failure never fails a call: records wait, the oldest are dropped when full, counted, logged once', async () => {
  const bus = new FlakyBus();
  const { logger, lines } = countingLogger();
  const r = new BusCallReporter({ bus, reporter: 'x', flushEveryMs: 0, flushEveryRecords: 10, maxBuffered: 100, logger });
  for (let i = 0; i < 250; i++) r.record(call({ requestId: String(i + 1) }));
  await r.flush();
  await r.flush();
  assert.ok(r.stats().buffered <= 100, `buffered ${r.stats().buffered}`);
  assert.ok(r.stats().dropped >= 150, `dropped ${r.stats().dropped}`);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /cannot publish call reports/);
  const attemptsWhileDown = bus.attempts;
  r.record(call()); // no flush storm while the bus is down
  assert.equal(bus.attempts, attemptsWhileDown);

  bus.down = false;
  await r.flush();
  assert.equal(r.stats().buffered, 0);
  const edges = published<CallsReport>(bus.inner, 'msec.reports.calls').flatMap((m) => m.report.calls);
  const ids = edges.map((e) => Number(e.requestId));
  assert.equal(ids.length, r.stats().buffered + 251 - r.stats().dropped);
  assert.ok(!ids.includes(1), 'the oldest were dropped');
  assert.ok(ids.includes(250), 'the newest were kept');
  const metrics = published<MetricsReport>(bus.inner, 'msec.reports.metrics');
  assert.equal(metrics.reduce((n, m) => n + m.report.droppedRecords, 0), r.stats().dropped);
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /reach the bus again/);
  await r.close();
});

test('a client with a BusCallReporter reports its calls to the bus', async () => {
  const { testClient, table } = await import('./client-support.ts');
  const bus = new MemoryMessageBus();
  const reporter = new BusCallReporter({ bus, reporter: 'tester', flushEveryMs: 0 });
  const t = testClient([table({ a: 1 })], { reporter });
  await t.calls(3);
  await t.client.close();
  const edges = published<CallsReport>(bus, 'msec.reports.calls').flatMap((m) => m.report.calls);
  assert.deepEqual(edges.map((e) => [e.caller, e.callee, e.instance, e.err]), Array(3).fill(['tester', 'Flight.mod_flight', '10.0.0.1:7963', 0]));
  assert.equal(published<RoutesReport>(bus, 'msec.reports.routes')[0]!.report.instances[0]!.requests, 3);
  await reporter.close();
});
