/** Route sources: the console's long poll (a tiny HTTP server), the embedded registry, static tables, env. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { MemoryRegistry } from '../../../adapters/registry/memory.ts';
import type { RouteTable } from '../../../schemas/route-table.ts';
import { createClient } from '../../../apps/rpc/client/client.ts';
import { consoleRoutes, routesFromEnvironment, routeTableOf, staticRoutes } from '../../../apps/rpc/client/route-sources.ts';
import { FakeTransport, flightProto, flightRequest, queryFlight, table } from './client-support.ts';

const silent = pino({ level: 'silent' });
const service = 'Flight.mod_flight';
const tick = () => new Promise((r) => setImmediate(r));

/** The console's GET /api/routes/:name, long poll and all (apps/console/routes/routing.ts). */
async function fakeConsole(initial: RouteTable) {
  let route: object = initial;
  const held = new Set<() => void>();
  const seen: { url: string; auth?: string; ifNoneMatch?: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url!, 'http://x');
    seen.push({ url: u.pathname + u.search, auth: req.headers.authorization, ifNoneMatch: req.headers['if-none-match'] as string | undefined });
    if (req.headers.authorization !== 'Bearer tok') return void res.writeHead(401).end('{"detail":"who?"}');
    if (decodeURIComponent(u.pathname) !== `/api/routes/${service}`) return void res.writeHead(404).end('{}');
    const known = req.headers['if-none-match'];
    const answer = () => {
      const etag = `"${(route as RouteTable).version}"`;
      if (known === etag) return void res.writeHead(304, { etag }).end();
      res.writeHead(200, { etag, 'content-type': 'application/json' }).end(JSON.stringify(route));
    };
    if (known === `"${(route as RouteTable).version}"` && u.searchParams.get('wait')) {
      const wake = () => {
        held.delete(wake);
        answer();
      };
      held.add(wake);
      return;
    }
    answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    /** What the console answers next: a table, or (to test the client) anything else. */
    publish(t: object) {
      route = t;
      for (const wake of [...held]) wake();
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

test('console routes: the first table, then a long poll with If-None-Match that wakes on a change', async () => {
  const c = await fakeConsole(table({ a: 100 }));
  const source = consoleRoutes({ url: c.url + '/', token: 'tok', logger: silent });
  try {
    const tables: (RouteTable | null)[] = [];
    const sub = source.watch(service, (t) => tables.push(t));
    while (tables.length < 1) await tick();
    assert.deepEqual(tables[0], table({ a: 100 }));
    while (c.seen.length < 2) await tick(); // the poll is waiting
    c.publish(table({ a: 100, b: 50 }, { version: 7 }));
    while (tables.length < 2) await tick();
    assert.deepEqual(tables[1], table({ a: 100, b: 50 }, { version: 7 }));
    assert.deepEqual(await routeTableOf(source, service), tables[1]);
    assert.equal(source.current(service), tables[1], 'one shared copy');
    assert.deepEqual(c.seen.slice(0, 2), [
      { url: `/api/routes/${service}`, auth: 'Bearer tok', ifNoneMatch: undefined },
      { url: `/api/routes/${service}?wait=30`, auth: 'Bearer tok', ifNoneMatch: '"1"' },
    ]);
    await sub.close();
  } finally {
    await source.close();
    await c.close();
  }
});

test('console routes: while the console is unreachable the last table stays and polls back off', async () => {
  const delays: number[] = [];
  let n = 0;
  const answers: (() => Response)[] = [
    () => Response.json(table({ a: 1 }), { headers: { etag: '"1"' } }),
    () => { throw new TypeError('fetch failed'); },
    () => { throw new TypeError('fetch failed'); },
    () => new Response('oops', { status: 500 }),
    () => { throw new TypeError('fetch failed'); },
    () => { throw new TypeError('fetch failed'); },
    () => Response.json({ ...table({ b: 1 }, { version: 2, policy: 'odd' }), tuning: { dead_retry_ratio: 0.02 } }, { headers: { etag: '"2"' } }),
  ];
  // After the scripted answers, polls wait like a long poll with no change, until stopped.
  const fetch = (async (_url: string, init: RequestInit) => {
    const next = answers[n++];
    if (next) return next();
    return new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(new Error('aborted'))));
  }) as unknown as typeof globalThis.fetch;
  let outageChecked = false;
  const sleep = async (ms: number) => {
    delays.push(ms);
    if (delays.length === 3) {
      assert.deepEqual(source.current(service), table({ a: 1 })); // still served mid-outage
      outageChecked = true;
    }
  };
  const source = consoleRoutes({ url: 'http://console', token: 'tok', fetch, sleep, logger: silent, backoff: { initialMs: 20, maxMs: 80 } });
  const tables: (RouteTable | null)[] = [];
  const sub = source.watch(service, (t) => tables.push(t));
  while (tables.length < 2) await tick();
  await sub.close();
  assert.deepEqual(delays, [20, 40, 80, 80, 80]);
  assert.ok(outageChecked, 'the table was read during the outage');
  assert.deepEqual(tables, [table({ a: 1 }), { ...table({ b: 1 }, { version: 2, policy: 'odd' }), tuning: { dead_retry_ratio: 0.02 } }]);
  await source.close();
});

test('console routes: a service without a table reads as null, and is asked about again later', async () => {
  const c = await fakeConsole(table({ a: 1 }));
  const sleeps: number[] = [];
  const source = consoleRoutes({ url: c.url, token: 'tok', logger: silent, missingRetryMs: 1234, sleep: async (ms) => void sleeps.push(ms) });
  try {
    assert.equal(await routeTableOf(source, 'Other.svc'), null);
    const seen: (RouteTable | null)[] = [];
    const sub = source.watch('Other.svc', (t) => seen.push(t));
    while (sleeps.length < 2) await tick();
    assert.deepEqual(sleeps, [1234, 1234]);
    assert.ok(c.seen.filter((r) => r.url === '/api/routes/Other.svc').length >= 2, 'asked again');
    await sub.close();
  } finally {
    await source.close();
    await c.close();
  }
});

test('a client fed by the console routes its calls to the console\'s instances', async () => {
  const c = await fakeConsole(table({ a: 1 }));
  const transport = new FakeTransport();
  const client = createClient({ routes: consoleRoutes({ url: c.url, token: 'tok', logger: silent }), transport, logger: silent });
  try {
    client.load(flightProto);
    assert.equal((await client.call<{ flightsInfo: string }>(service, queryFlight, flightRequest)).flightsInfo, '10.0.0.1:7963');
    c.publish(table({ b: 1 }, { version: 2 }));
    while (client.routeState(service)!.version !== 2) await tick();
    assert.equal((await client.call<{ flightsInfo: string }>(service, queryFlight, flightRequest)).flightsInfo, '10.0.0.2:7963');
  } finally {
    await client.close();
    await c.close();
  }
});

test('console routes: an answer that is not a route table is an error; the last table stays', async () => {
  const c = await fakeConsole(table({ a: 1 }));
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const source = consoleRoutes({ url: c.url, token: 'tok', logger, backoff: { initialMs: 5, maxMs: 5 } });
  try {
    const seen: (RouteTable | null)[] = [];
    const sub = source.watch(service, (t) => seen.push(t));
    while (c.seen.length < 2) await tick(); // the first table, then a long poll
    // A console of before the one route contract: `kind` where the table has `policy`.
    c.publish({ service, kind: 'standard', version: 2, instances: table({ b: 1 }).instances });
    for (const deadline = Date.now() + 5_000; !warnings.some((w) => /policy/.test(w));) {
      assert.ok(Date.now() < deadline, 'the bad answer is reported');
      await tick();
    }
    assert.deepEqual(seen, [table({ a: 1 })]);
    assert.deepEqual(source.current(service), table({ a: 1 }));
    c.publish(table({ b: 1 }, { version: 3 }));
    while (seen.length < 2) await tick();
    assert.deepEqual(seen[1], table({ b: 1 }, { version: 3 }));
    await sub.close();
  } finally {
    await source.close();
    await c.close();
  }
});

test('the embedded registry is a route source itself; a client that was given it leaves it open', async () => {
  const registry = new MemoryRegistry();
  await registry.publish(table({ a: 1 }));
  assert.deepEqual(await routeTableOf(registry, service), table({ a: 1 }));
  const client = createClient({ routes: registry, transport: new FakeTransport(), logger: silent });
  client.load(flightProto);
  assert.equal((await client.call<{ flightsInfo: string }>(service, queryFlight, flightRequest)).flightsInfo, '10.0.0.1:7963');
  await client.close();
  assert.deepEqual(await registry.read(service), table({ a: 1 })); // not the client's: still open
  await registry.close();
});

test('registry routes: a client follows its table down in version, as when the control plane repairs a hijack', async () => {
  const registry = new MemoryRegistry();
  const transport = new FakeTransport();
  const client = createClient({ routes: registry, transport, logger: silent });
  try {
    client.load(flightProto);
    const hijacked = table({ a: 100 }, { version: Number.MAX_SAFE_INTEGER, instances: [{ ip: '6.6.6.6', port: 7963, protocol: 'both', weight: 100 }] });
    await registry.publish(hijacked);
    assert.equal((await client.call<{ flightsInfo: string }>(service, queryFlight, flightRequest)).flightsInfo, '6.6.6.6:7963');
    await registry.publish(table({ b: 100 }, { version: 7 }));
    for (const deadline = Date.now() + 5_000; client.routeState(service)!.version !== 7;) {
      assert.ok(Date.now() < deadline, `the client still routes with version ${client.routeState(service)!.version}`);
      await tick();
    }
    assert.equal((await client.call<{ flightsInfo: string }>(service, queryFlight, flightRequest)).flightsInfo, '10.0.0.2:7963');
  } finally {
    await client.close();
  }
});

test('static routes: set and remove tell the watchers', async () => {
  const source = staticRoutes([table({ a: 1 })]);
  const seen: (number | null)[] = [];
  source.watch(service, (t) => seen.push(t ? t.version : null));
  await tick();
  source.set(table({ a: 1 }, { version: 3 }));
  await tick();
  source.remove(service);
  await tick();
  assert.deepEqual(seen, [1, 3, null]);
  assert.equal(source.current(service), null);
});

test('routes from the environment: ZooKeeper first, then the console, else none', async () => {
  assert.equal(routesFromEnvironment({}), null);
  assert.equal(routesFromEnvironment({ MSEC_CONSOLE_URL: 'http://c:8080' }), null);
  const fromConsole = routesFromEnvironment({ MSEC_CONSOLE_URL: 'http://c:8080', MSEC_TOKEN: 't' });
  assert.ok(fromConsole, 'a console source');
  await fromConsole.close();
  // made lazily: nothing connects until a table is asked for
  const fromZk = routesFromEnvironment({ MSEC_REGISTRY: 'zk://127.0.0.1:1/', MSEC_CONSOLE_URL: 'http://c:8080', MSEC_TOKEN: 't' });
  assert.ok(fromZk, 'a ZooKeeper source');
  await fromZk.close();
});

test('a client without any route source says how to give it one', async () => {
  const saved = { ...process.env };
  delete process.env.MSEC_REGISTRY;
  delete process.env.MSEC_CONSOLE_URL;
  const client = createClient({ transport: new FakeTransport(), logger: silent });
  try {
    client.load(flightProto);
    await assert.rejects(client.call(service, queryFlight, flightRequest), (e: { code: number; message: string }) => e.code === 2001 && /MSEC_REGISTRY/.test(e.message));
  } finally {
    process.env.MSEC_REGISTRY = saved.MSEC_REGISTRY;
    process.env.MSEC_CONSOLE_URL = saved.MSEC_CONSOLE_URL;
    if (saved.MSEC_REGISTRY === undefined) delete process.env.MSEC_REGISTRY;
    if (saved.MSEC_CONSOLE_URL === undefined) delete process.env.MSEC_CONSOLE_URL;
    await client.close();
  }
});
