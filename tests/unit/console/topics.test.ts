/** GET /api/topics/:topic/tail (report topics, decoded) and `msec events tail --topic`. */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import { topicRoutes } from '../../../apps/console/routes/topics.ts';
import type { CallRecord } from '../../../apps/rpc/contracts.ts';
import { BusCallReporter } from '../../../apps/rpc/reports/bus-reporter.ts';
import { runCli, withConsole } from '../cli/helpers.ts';
import { consoleHarness } from './harness.ts';

const at = Date.UTC(2024, 4, 1, 10, 0, 5);
const record = (o: Partial<CallRecord> = {}): CallRecord => ({
  side: 'client', caller: 'Web.front', callee: 'Flight.mod_flight', method: 'flight.flight_service.queryFlight',
  instance: { ip: '10.0.0.1', port: 7963 }, requestId: '42', err: 0, latencyMs: 2.5, at, ...o,
});

async function withTopics(body: (h: Awaited<ReturnType<typeof consoleHarness>>, bus: MemoryMessageBus, report: (...r: CallRecord[]) => Promise<void>) => Promise<void>) {
  const h = await consoleHarness();
  const bus = new MemoryMessageBus();
  await h.app.register(topicRoutes(h.ctx, bus));
  const reporter = new BusCallReporter({ bus, reporter: 'Web.front', flushEveryMs: 0 });
  try {
    await body(h, bus, async (...records) => {
      for (const r of records) reporter.record(r);
      await reporter.flush();
    });
  } finally {
    await reporter.close();
    await h.close();
    await bus.close();
  }
}

test('a tail answers its group and the messages published after it started, decoded', async () => {
  await withTopics(async (h, _bus, report) => {
    await report(record({ requestId: '1' }));
    const first = await h.call({ method: 'GET', url: '/api/topics/msec.reports.calls/tail' });
    assert.equal(first.statusCode, 200, first.body);
    const { group, messages } = first.json();
    assert.match(group, /^tail-/);
    assert.deepEqual(messages, []);
    await report(record({ requestId: '2', err: 1005 }));
    const next = (await h.call({ method: 'GET', url: `/api/topics/msec.reports.calls/tail?group=${group}` })).json();
    assert.equal(next.group, group);
    assert.equal(next.messages.length, 1);
    assert.equal(next.messages[0].key, 'Flight.mod_flight');
    assert.deepEqual(next.messages[0].value.calls.map((c: { requestId: string; err: number }) => [c.requestId, c.err]), [['2', 1005]]);
    const again = (await h.call({ method: 'GET', url: `/api/topics/msec.reports.calls/tail?group=${group}` })).json();
    assert.deepEqual(again.messages, []);
  });
});

test('?wait= holds the request until something is published', async () => {
  await withTopics(async (h, _bus, report) => {
    const { group } = (await h.call({ method: 'GET', url: '/api/topics/msec.reports.routes/tail' })).json();
    const pending = h.call({ method: 'GET', url: `/api/topics/msec.reports.routes/tail?group=${group}&wait=30` });
    await new Promise((r) => setTimeout(r, 20));
    await report(record());
    const page = (await pending).json();
    assert.deepEqual(page.messages[0].value.instances, [{ service: 'Flight.mod_flight', ip: '10.0.0.1', port: 7963, requests: 1, failures: 0, latencyMsSum: 2.5 }]);
  });
});

test('only report topics and tail groups; authentication like every route', async () => {
  await withTopics(async (h, bus) => {
    for (const url of ['/api/topics/msec.events/tail', '/api/topics/msec.commands/tail', '/api/topics/msec.reports.calls/tail?group=projector', '/api/topics/msec.reports.calls/tail?wait=500']) {
      assert.equal((await h.call({ method: 'GET', url })).statusCode, 400, url);
    }
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/topics/msec.reports.calls/tail' })).statusCode, 401);
    // other report topics: JSON when they are, else base64
    const { group } = (await h.call({ method: 'GET', url: '/api/topics/msec.reports.heartbeat/tail' })).json();
    await bus.publish('msec.reports.heartbeat', [{ key: 'h1', value: Buffer.from('{"cpu":3}') }, { key: 'h2', value: Uint8Array.from([0xff, 0]) }]);
    const page = (await h.call({ method: 'GET', url: `/api/topics/msec.reports.heartbeat/tail?group=${group}` })).json();
    assert.deepEqual(page.messages.map((m: { value: unknown }) => m.value), [{ cpu: 3 }, { undecoded: '/wA=' }]);
  });
});

test('msec events tail --topic: long-polls the tail with its group, one line per edge', async () => {
  const edge = { side: 'client', caller: 'Web.front', callee: 'Flight.mod_flight', method: 'flight.flight_service.queryFlight', requestId: '7', err: 0, latencyMs: 2.5, atMs: at, instance: '10.0.0.1:7963' };
  const stop = new AbortController();
  await withConsole({
    'GET /api/topics/msec.reports.calls/tail': (_req, n) => {
      if (n === 1) return { body: { topic: 'msec.reports.calls', group: 'tail-1', messages: [{ offset: 0, key: 'Flight.mod_flight', timestamp: at, value: { reporter: 'x', calls: [edge, { ...edge, err: 1005, requestId: '8' }] } }] } };
      stop.abort();
      return { body: { topic: 'msec.reports.calls', group: 'tail-1', messages: [] } };
    },
  }, async (c, env) => {
    const r = await runCli(['events', 'tail', '--topic', 'msec.reports.calls', '--follow'], { env, stop: stop.signal });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      '2024-05-01 10:00:05Z  client  Web.front -> Flight.mod_flight flight.flight_service.queryFlight  ok  2.5 ms  req 7  10.0.0.1:7963',
      '2024-05-01 10:00:05Z  client  Web.front -> Flight.mod_flight flight.flight_service.queryFlight  err 1005  2.5 ms  req 8  10.0.0.1:7963',
    ]);
    assert.deepEqual(c.requests.map((q) => [q.query.get('group'), q.query.get('wait')]), [[null, '30'], ['tail-1', '30']]);
    assert.equal((await runCli(['events', 'tail', '--topic', 'msec.reports.calls', '--after', '3'], { env })).code, 2);
  });
});

test('end to end: a reporter publishes, the console tails, the CLI prints JSON lines', async () => {
  await withTopics(async (h, _bus, report) => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    const env = { MSEC_CONSOLE: url, MSEC_USER: 'admin', MSEC_PASSWORD: 'correct horse battery' };
    const running = runCli(['events', 'tail', '--topic', 'msec.reports.calls', '--json'], { env });
    // The CLI's first request starts the tail; publish until it has seen something.
    let r: Awaited<typeof running> | undefined;
    void running.then((x) => (r = x));
    while (!r) {
      await report(record({ requestId: '99' }));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(r.code, 0, r.stderr);
    const first = JSON.parse(r.stdout.split('\n')[0]!);
    assert.equal(first.value.calls[0].requestId, '99');
    assert.equal(first.value.reporter, 'Web.front');
  });
});
