/**
 * The metric API of services: ctx.metrics in handlers and createMetrics outside them, buffered per
 * minute in the process (Add sums, the first Set of a minute wins), flushed with the call reports,
 * each report with an id that stays the same when the bus refused it and it is sent again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import { createMetrics, metricsFor } from '../../../apps/rpc/metrics.ts';
import { BusCallReporter } from '../../../apps/rpc/reports/bus-reporter.ts';
import { MemoryCallReporter } from '../../../apps/rpc/reports/simple-reporters.ts';
import { decodeReport, type MetricsReport } from '../../../schemas/reports.ts';
import { bison, callFlight, createTransport, serveFlight } from './server-harness.ts';

const minute = 1_700_000_040_000;
const metricsOf = (bus: MemoryMessageBus) =>
  (bus.broker.topics.get('msec.reports.metrics') ?? []).map((m) => decodeReport('msec.reports.metrics', m.value) as MetricsReport);

test('ctx.metrics in a handler reports usr.<name> for its service and the address it was reached on', async () => {
  const reporter = new MemoryCallReporter();
  const server = await serveFlight({
    reporter,
    handlers: {
      async queryFlight(_req, ctx) {
        ctx.metrics.add('searches');
        ctx.metrics.add('usr.seats', 3);
        ctx.metrics.set('queue', 7);
        return { errcode: 0, errmsg: 'success', flightsInfo: '' };
      },
    },
  });
  const transport = createTransport();
  try {
    await callFlight(transport, server.address.port, 'tcp', bison);
    assert.deepEqual(reporter.metrics.map((p) => [p.service, p.name, p.ip, p.kind, p.value]), [
      ['Flight.mod_flight', 'usr.searches', '127.0.0.1', 'add', 1],
      ['Flight.mod_flight', 'usr.seats', '127.0.0.1', 'add', 3],
      ['Flight.mod_flight', 'usr.queue', '127.0.0.1', 'set', 7],
    ]);
  } finally {
    await transport.close();
    await server.close();
  }
});

test('a bad name or value throws at once in the caller (a bug), and nothing is reported', () => {
  const reporter = new MemoryCallReporter();
  const m = metricsFor({ service: 'Flight.mod_flight', ip: '10.0.0.1', reporter });
  assert.throws(() => m.add('frm.requests'), /reserved/);
  assert.throws(() => m.add('a\nb'), /control character/);
  assert.throws(() => m.add('orders', Number.NaN), /finite number/);
  assert.throws(() => m.set('queue', '3' as unknown as number), /finite number, got string/);
  assert.equal(reporter.metrics.length, 0);
  assert.throws(() => createMetrics({ reporter }), /MSEC_SERVICE/);
});

test('buffered per minute: Add sums, the first Set of a minute wins, each ip and minute apart; one report per service', async () => {
  const bus = new MemoryMessageBus();
  const reporter = new BusCallReporter({ bus, reporter: 'Flight.mod_flight', flushEveryMs: 0 });
  let now = minute + 1000;
  const m = metricsFor({ service: 'Flight.mod_flight', ip: '10.0.0.1', reporter, clock: () => now });
  const other = metricsFor({ service: 'Flight.mod_flight', ip: '::ffff:10.0.0.2', reporter, clock: () => now });
  m.add('orders');
  m.add('orders', 4);
  m.set('queue', 5);
  now += 10_000;
  m.set('queue', 9); // later in the same minute: the first wins
  other.add('orders', 10);
  now = minute + 61_000;
  m.add('orders', 2);
  m.set('queue', 1);
  await reporter.flush();
  const [report, ...more] = metricsOf(bus);
  assert.equal(more.length, 0);
  assert.match(report!.reportId!, /^[0-9a-f-]{36}$/);
  const got = report!.metrics.map((x) => [x.attr, x.ip, x.minute - minute / 1000, x.kind, x.value, x.kind === 'set' ? x.atMs! - minute : 0]).sort();
  assert.deepEqual(got, [
    ['usr.orders', '10.0.0.1', 0, 'add', 5, 0],
    ['usr.orders', '10.0.0.1', 60, 'add', 2, 0],
    ['usr.orders', '10.0.0.2', 0, 'add', 10, 0],
    ['usr.queue', '10.0.0.1', 0, 'set', 5, 1000],
    ['usr.queue', '10.0.0.1', 60, 'set', 1, 61_000],
  ].sort());
  await reporter.close();
});

test('too many distinct series in one flush: the rest are dropped and counted, never blocking', async () => {
  const bus = new MemoryMessageBus();
  const reporter = new BusCallReporter({ bus, flushEveryMs: 0, maxMetricSeries: 10 });
  const m = metricsFor({ service: 'Flight.mod_flight', ip: '', reporter, clock: () => minute });
  for (let i = 0; i < 25; i++) m.add(`made_up_${i}`);
  m.add('made_up_3', 5); // a known series still adds
  assert.equal(reporter.stats().droppedMetrics, 15);
  await reporter.close();
  const [report] = metricsOf(bus);
  assert.equal(report!.metrics.length, 10);
  assert.equal(report!.droppedMetrics, 15);
  assert.equal(report!.metrics.find((x) => x.attr === 'usr.made_up_3')!.value, 6);
});

/** A bus that refuses the metrics topic while `metricsDown`. */
class MetricsDownBus implements MessageBus {
  metricsDown = true;
  readonly inner = new MemoryMessageBus();
  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    if (this.metricsDown && topic === 'msec.reports.metrics') throw new Error('broker refused');
    await this.inner.publish(topic, messages);
  }
  subscribe: MessageBus['subscribe'] = (o, h) => this.inner.subscribe(o, h);
  lag: MessageBus['lag'] = (t, g) => this.inner.lag(t, g);
  close = () => this.inner.close();
}

test('a report the bus refused is sent again as it was (same id, same values); what got through is not sent twice', async () => {
  const bus = new MetricsDownBus();
  const reporter = new BusCallReporter({ bus, reporter: 'x', flushEveryMs: 0 });
  const m = metricsFor({ service: 'Flight.mod_flight', ip: '10.0.0.1', reporter, clock: () => minute });
  reporter.record({ side: 'server', caller: 'c', callee: 'Flight.mod_flight', method: 'a.B.c', instance: { ip: '10.0.0.1', port: 1 }, requestId: '1', err: 0, latencyMs: 1, at: minute });
  m.add('orders', 3);
  await reporter.flush();
  assert.equal(metricsOf(bus.inner).length, 0);
  assert.equal((bus.inner.broker.topics.get('msec.reports.calls') ?? []).length, 1);
  m.add('orders', 4); // after the failed flush: a new report, not merged into the refused one
  bus.metricsDown = false;
  await reporter.flush();
  const reports = metricsOf(bus.inner);
  assert.equal(reports.length, 2);
  const first = reports[0]!;
  assert.equal(first.metrics.find((x) => x.attr === 'usr.orders')!.value, 3);
  assert.equal(first.metrics.find((x) => x.attr === 'frm.requests')!.value, 1);
  assert.equal(reports[1]!.metrics.find((x) => x.attr === 'usr.orders')!.value, 4);
  assert.notEqual(first.reportId, reports[1]!.reportId);
  assert.equal((bus.inner.broker.topics.get('msec.reports.calls') ?? []).length, 1, 'the call edges that got through are not published again');
  assert.equal(reporter.stats().buffered, 0);
  await reporter.close();
});

test('frm.* metrics carry the instance ip (per-ip views)', async () => {
  const bus = new MemoryMessageBus();
  const reporter = new BusCallReporter({ bus, reporter: 'x', flushEveryMs: 0 });
  for (const ip of ['10.0.0.1', '10.0.0.1', '10.0.0.2', '::ffff:10.0.0.3', 'fe80::1']) {
    reporter.record({ side: 'server', caller: 'c', callee: 'Flight.mod_flight', method: 'a.B.c', instance: { ip, port: 1 }, requestId: '1', err: 0, latencyMs: 1, at: minute });
  }
  await reporter.close();
  const requests = metricsOf(bus).flatMap((r) => r.metrics).filter((x) => x.attr === 'frm.requests').map((x) => [x.ip, x.value]).sort();
  assert.deepEqual(requests, [['', 1], ['10.0.0.1', 2], ['10.0.0.2', 1], ['10.0.0.3', 1]]);
});
