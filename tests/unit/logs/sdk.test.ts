/**
 * ctx.log and createLogger: what a record carries when it is shipped (MSEC's headers, the
 * custom fields), which records are kept (level, colored request, [COLOR] rules on headers and
 * custom fields, coloring passed downstream), and that logging never waits for the bus nor
 * holds more than its bounds.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { ServeOptions } from '../../../apps/rpc/server/serve.ts';
import type { Handler, HandlerContext } from '../../../apps/rpc/server/handler-context.ts';
import { MemoryMessageBus } from '../../../adapters/bus/memory.ts';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import type { CallOptions, RpcCaller } from '../../../apps/rpc/contracts.ts';
import { createLogger } from '../../../apps/rpc/logs/index.ts';
import { LogShipper } from '../../../apps/rpc/logs/log-shipper.ts';
import { decodeReport, type LogRecord, type LogsReport } from '../../../schemas/reports.ts';
import { bison, callFlight, createTransport, postJson, serveFlight } from '../rpc/server-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'msec-logs-sdk-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The reports a shipper published on a memory bus. */
function published(bus: MemoryMessageBus): LogsReport[] {
  return (bus.broker.topics.get('msec.reports.logs') ?? []).map((m) => decodeReport('msec.reports.logs', m.value));
}
const records = (bus: MemoryMessageBus): LogRecord[] => published(bus).flatMap((r) => r.records);

/** A pino logger whose lines land in an array: what the process writes locally. */
function localLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { logger: pino({ level }, stream), lines };
}

async function withService(o: { log?: ServeOptions['log']; client?: RpcCaller; configFile?: string; level?: string }, handler: Handler,
  run: (port: number, bus: MemoryMessageBus, shipper: LogShipper) => Promise<void>) {
  const bus = new MemoryMessageBus();
  const shipper = new LogShipper({ bus, flushEveryMs: 0, reporter: 'Flight.mod_flight' });
  const { logger } = localLogger(o.level);
  const server = await serveFlight({
    logger, handlers: { queryFlight: handler }, ...(o.client ? { client: o.client } : {}), ...(o.configFile ? { configFile: o.configFile } : {}),
    log: { shipper, console: null, ...o.log },
  });
  try {
    await run(server.address.port, bus, shipper);
  } finally {
    await server.close();
  }
}

const ok = { errcode: 0, errmsg: '', flightsInfo: '' };

describe('ctx.log ships records with MSEC\'s headers', () => {
  test('request id, client and server IP, RPC name, caller, service, level, coloring, custom fields; the rest stays in the message', async () => {
    await withService({ log: { fields: { orderId: 'int', user: 'string' } } }, async (_req: unknown, ctx: HandlerContext) => {
      ctx.log.info({ orderId: '0042', user: 'bison', cart: { items: 2 }, amount: 12.5 }, 'order %s taken', 'A-1');
      ctx.log.child({ user: 'from-binding' }).error(new Error('stock low'), 'checking stock');
      return ok;
    }, async (port, bus, shipper) => {
      const transport = createTransport();
      await callFlight(transport, port, 'tcp', bison, { requestId: '4242', caller: 'Flight.web' });
      await transport.close();
      await shipper.flush();
      const [info, error] = records(bus);
      assert.deepEqual({ ...info, timeMs: 0 }, {
        timeMs: 0, level: 3, service: 'Flight.mod_flight', requestId: '4242', clientIp: '127.0.0.1', serverIp: '127.0.0.1',
        rpcName: 'flight.flight_service.queryFlight', caller: 'Flight.web', coloring: 0,
        message: 'order A-1 taken {"cart":{"items":2},"amount":12.5}', fieldNames: ['orderId', 'user'], fieldValues: ['42', 'bison'],
      });
      assert.ok(Math.abs(info!.timeMs - Date.now()) < 10_000);
      assert.equal(error!.level, 4);
      assert.deepEqual([error!.fieldNames, error!.fieldValues], [['user'], ['from-binding']], 'a child\'s bindings are fields too');
      assert.match(error!.message, /^checking stock\nError: stock low\n {4}at /, 'an error\'s stack follows the message');
      assert.equal(published(bus)[0]!.reporter, 'Flight.mod_flight');
    });
  });

  test('over HTTP/JSON too: the client IP is the peer, the caller the x-msec-caller header with its controls defused', async () => {
    await withService({}, async (_req: unknown, ctx: HandlerContext) => {
      ctx.log.info('line one\nline two');
      return ok;
    }, async (port, bus, shipper) => {
      await postJson(port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '77', 'x-msec-caller': 'web\tgate' });
      await shipper.flush();
      const [r] = records(bus);
      assert.deepEqual([r!.requestId, r!.clientIp, r!.caller, r!.message], ['77', '127.0.0.1', 'web\uFFFDgate', 'line one\nline two']);
    });
  });

  test('pino\'s levels map to MSEC\'s: trace 1, debug 2, info 3, warn and error 4 (MSEC has no WARN), fatal 5', async () => {
    await withService({ log: { level: 'TRACE' } }, async (_req: unknown, ctx: HandlerContext) => {
      for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) ctx.log[level](level);
      return ok;
    }, async (port, bus, shipper) => {
      await postJson(port, '/flight.flight_service.queryFlight', bison);
      await shipper.flush();
      assert.deepEqual(records(bus).map((r) => [r.message, r.level]), [['trace', 1], ['debug', 2], ['info', 3], ['warn', 4], ['error', 4], ['fatal', 5]]);
    });
  });

  test('a long message is cut to 8 KiB', async () => {
    await withService({}, async (_req: unknown, ctx: HandlerContext) => {
      ctx.log.info('x'.repeat(100_000));
      return ok;
    }, async (port, bus, shipper) => {
      await postJson(port, '/flight.flight_service.queryFlight', bison);
      await shipper.flush();
      assert.equal(records(bus)[0]!.message.length, 8192);
    });
  });
});

describe('the coloring rule decides what is kept', () => {
  const handler = async (_req: unknown, ctx: { log: Logger }) => {
    ctx.log.debug('debug before');
    ctx.log.info('info');
    ctx.log.debug({ orderId: 42 }, 'debug with the field');
    ctx.log.debug('debug after');
    return ok;
  };

  test('at the service level (INFO by default) DEBUG is dropped; a colored request keeps every level', async () => {
    await withService({ log: { fields: { orderId: 'int' } } }, handler, async (port, bus, shipper) => {
      await postJson(port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '1' });
      await postJson(port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '2', 'x-msec-coloring': '1' });
      await shipper.flush();
      assert.deepEqual(records(bus).map((r) => [r.requestId, r.message, r.coloring]), [
        ['1', 'info', 0],
        ['2', 'debug before', 1], ['2', 'info', 1], ['2', 'debug with the field', 1], ['2', 'debug after', 1],
      ]);
    });
  });

  test('a [COLOR] rule on a custom field keeps that record and the request\'s records after it, and colors its calls downstream', async () => {
    const downstream: number[] = [];
    const client: RpcCaller = {
      async call<Res>(_t: string, _m: string, _r: object, options?: CallOptions) {
        downstream.push(options!.parent!.coloring);
        return {} as Res;
      },
    };
    await withService({ client, log: { fields: { orderId: 'int' }, colorRules: [{ field: 'orderId', value: '42' }] } }, async (req: unknown, ctx: HandlerContext) => {
      await ctx.call('Other.svc', 'x.Y.z', {});
      await handler(req, ctx);
      await ctx.call('Other.svc', 'x.Y.z', {});
      return ok;
    }, async (port, bus, shipper) => {
      await postJson(port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '5' });
      await shipper.flush();
      assert.deepEqual(records(bus).map((r) => [r.message, r.coloring]), [['info', 0], ['debug with the field', 1], ['debug after', 1]]);
      assert.deepEqual(downstream, [0, 1], 'calls after the match carry coloring = 1');
    });
  });

  test('a rule on a header (Caller) keeps the whole request; a rule that does not match keeps nothing more', async () => {
    await withService({ log: { fields: { orderId: 'int' }, colorRules: [{ field: 'caller', value: 'Flight.web' }] } }, handler, async (port, bus, shipper) => {
      const transport = createTransport();
      await callFlight(transport, port, 'tcp', bison, { requestId: '8', caller: 'Flight.web' });
      await callFlight(transport, port, 'tcp', bison, { requestId: '9', caller: 'Flight.app' });
      await transport.close();
      await shipper.flush();
      assert.deepEqual(records(bus).map((r) => [r.requestId, r.message]), [
        ['8', 'debug before'], ['8', 'info'], ['8', 'debug with the field'], ['8', 'debug after'], ['9', 'info'],
      ]);
    });
  });

  test('the config file\'s [LOG] Level and [COLOR] pairs apply; the console\'s level wins over them', async () => {
    const configFile = join(dir, 'color.ini');
    writeFileSync(configFile, '[LOG]\nLevel = ERROR\n[COLOR]\nFieldName1 = ReqID\nFieldValue1 = 11\n');
    await withService({ configFile }, async (_req: unknown, ctx: HandlerContext) => {
      ctx.log.info('info');
      ctx.log.error('error');
      return ok;
    }, async (port, bus, shipper) => {
      await postJson(port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '10' });
      await postJson(port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '11' });
      await shipper.flush();
      assert.deepEqual(records(bus).map((r) => [r.requestId, r.message]), [['10', 'error'], ['11', 'info'], ['11', 'error']]);
    });
  });

  test('what is written locally is unchanged: the local level, every level for a colored request', async () => {
    const { logger, lines } = localLogger('info');
    const bus = new MemoryMessageBus();
    const server = await serveFlight({
      logger, log: { shipper: new LogShipper({ bus, flushEveryMs: 0 }), console: null, level: 'TRACE' },
      handlers: { queryFlight: async (_r: unknown, ctx: HandlerContext) => { ctx.log.debug('d'); ctx.log.info('i'); return ok; } },
    });
    await postJson(server.address.port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '3' });
    await postJson(server.address.port, '/flight.flight_service.queryFlight', bison, { 'x-msec-request-id': '4', 'x-msec-coloring': '1' });
    await server.close();
    const written = lines.filter((l) => l.requestId).map((l) => [l.requestId, l.msg]);
    assert.deepEqual(written, [['3', 'i'], ['4', 'd'], ['4', 'i']]);
  });
});

describe('shipping never blocks a call and stays within its bounds', () => {
  test('a bus that never answers: calls still answer, ship() returns at once', async () => {
    const stuck: MessageBus = {
      publish: () => new Promise(() => {}), subscribe: () => assert.fail(), lag: async () => ({ committed: -1, end: 0 }), close: async () => {},
    };
    const shipper = new LogShipper({ bus: stuck, flushEveryMs: 0, flushEveryRecords: 10 });
    const server = await serveFlight({
      log: { shipper, console: null },
      handlers: { queryFlight: async (_r: unknown, ctx: HandlerContext) => { for (let i = 0; i < 100; i++) ctx.log.info(`record ${i}`); return ok; } },
    });
    for (let i = 0; i < 5; i++) assert.equal((await postJson(server.address.port, '/flight.flight_service.queryFlight', bison)).json.ret, 0);
    await Promise.race([server.close(), new Promise((r) => setTimeout(r, 5000))]);
    assert.equal(shipper.stats().kept, 500);
  });

  test('a failing bus: the oldest records are dropped past the bound, counted, and the count is reported once the bus is back', async () => {
    let failing = true;
    const sent: BusMessage[] = [];
    const flaky: MessageBus = {
      publish: async (_topic, messages) => {
        if (failing) throw new Error('broker away');
        sent.push(...messages);
      },
      subscribe: () => assert.fail(), lag: async () => ({ committed: -1, end: 0 }), close: async () => {},
    };
    const shipper = new LogShipper({ bus: flaky, flushEveryMs: 0, flushEveryRecords: 100, maxBuffered: 1000, logger: pino({ level: 'silent' }) });
    const logger = createLogger({ service: 'Shop.jobs', logger: pino({ level: 'silent' }), shipper, console: null });
    for (let i = 0; i < 5000; i++) logger.info(`record ${i}`);
    await shipper.flush();
    const stats = shipper.stats();
    assert.ok(stats.buffered <= 1000, `buffered ${stats.buffered}`);
    assert.equal(stats.kept, 5000);
    assert.equal(stats.dropped, 5000 - stats.buffered);
    failing = false;
    await shipper.flush();
    const reports = sent.map((m) => decodeReport('msec.reports.logs', m.value));
    const shipped = reports.flatMap((r) => r.records.map((x) => x.message));
    assert.equal(shipped.length, stats.buffered);
    assert.equal(shipped.at(-1), 'record 4999', 'the newest are kept');
    assert.equal(reports.reduce((n, r) => n + r.droppedRecords, 0), stats.dropped, 'the drops are reported');
    assert.ok(reports.every((r) => r.records.length <= 500), 'at most 500 records a message');
  });

  test('the byte bound holds too: huge records are dropped sooner', async () => {
    const shipper = new LogShipper({ bus: { publish: async () => { throw new Error('away'); }, subscribe: () => assert.fail(), lag: async () => ({ committed: -1, end: 0 }), close: async () => {} },
      flushEveryMs: 0, maxBuffered: 100_000, maxBufferedBytes: 1024 * 1024, logger: pino({ level: 'silent' }) });
    const logger = createLogger({ service: 'Shop.jobs', logger: pino({ level: 'silent' }), shipper, console: null });
    for (let i = 0; i < 1000; i++) logger.info('y'.repeat(8000));
    assert.ok(shipper.stats().buffered * 8000 <= 1024 * 1024, `buffered ${shipper.stats().buffered} records of 8000 bytes`);
    assert.ok(shipper.stats().dropped > 800);
  });
});

describe('createLogger: for code outside handlers', () => {
  test('ServiceName and ServerIP filled, no request; custom fields declared in code', async () => {
    const bus = new MemoryMessageBus();
    const shipper = new LogShipper({ bus, flushEveryMs: 0 });
    const logger = createLogger({ service: 'Shop.jobs', logger: pino({ level: 'silent' }), shipper, console: null, fields: { batch: 'int' } });
    logger.info({ batch: 7 }, 'export started');
    logger.debug('not kept');
    await shipper.flush();
    const [r] = records(bus);
    assert.deepEqual([r!.service, r!.requestId, r!.rpcName, r!.caller, r!.fieldNames, r!.fieldValues, r!.message], ['Shop.jobs', '', '', '', ['batch'], ['7'], 'export started']);
    assert.match(r!.serverIp, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(records(bus).length, 1);
  });

  test('needs a First.Second service', () => {
    const env = process.env.MSEC_SERVICE;
    delete process.env.MSEC_SERVICE;
    try {
      assert.throws(() => createLogger({ console: null, shipper: null }), /needs the service it logs for/);
      assert.throws(() => createLogger({ service: 'Shop', console: null, shipper: null }), /only a first level/);
    } finally {
      if (env !== undefined) process.env.MSEC_SERVICE = env;
    }
  });
});
