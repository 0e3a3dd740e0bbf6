/**
 * The Flight service called 1 000 times, as the monitoring issue tells it, on `msec up` (embedded:
 * SQLite bus, chdb views) in its own process: two instances on two loopback ips report their
 * calls and their business metrics to the control plane's bus, as a service on the `msec up`
 * machine does (MSEC_HOME); `msec metrics` shows frm.requests of queryFlight summing to 1 000,
 * per minute and per ip, and the handler's usr. Add and Set follow MSEC's rules.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { BusCallReporter } from '../../apps/rpc/reports/bus-reporter.ts';
import { MemoryCallReporter } from '../../apps/rpc/reports/simple-reporters.ts';
import { createClient, serve, staticRoutes, type RpcServer } from '../../apps/rpc/index.ts';
import { eventually, exited, msec, msecJson, startUp } from './support.ts';
import { flightProto } from './devpack-support.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-monitoring-flight-'));
after(() => rmSync(home, { recursive: true, force: true }));
const silent = pino({ level: 'silent' });
const SERVICE = 'Flight.mod_flight';

interface Series { name: string; ip?: string; day: string; from: number; values: (number | null)[] }
const sum = (values: (number | null)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0);

test('Flight called 1 000 times: frm.requests per minute and per ip, usr. Add and Set, read back with msec metrics', { timeout: 240_000 }, async () => {
  const up = await startUp(join(home, 'console'));
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: up.adminPassword!, MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const servers: RpcServer[] = [];
  const reporters: BusCallReporter[] = [];
  const bus = SqliteMessageBus.open(join(home, 'console', 'msec.db'));
  /** The first Set of each minute on each ip, as the handlers made them: what the views must show. */
  const firstSets = new Map<string, number>();
  try {
    ok(['service', 'create', SERVICE]);
    let sets = 0;
    for (const ip of ['127.0.0.1', '127.0.0.2']) {
      // Each instance reports as its own process does (flushes every 200 ms here instead of 10 s).
      const reporter = new BusCallReporter({ bus, reporter: SERVICE, flushEveryMs: 200, logger: silent });
      reporters.push(reporter);
      servers.push(await serve({
        proto: flightProto, name: SERVICE, listen: { host: ip, port: 0 }, logger: silent, reporter,
        handlers: {
          async queryFlight(request: { name: string; password: string }, ctx) {
            ctx.metrics.add('searches');
            if (request.name !== 'bison') ctx.metrics.add('refused_logins');
            const value = ++sets;
            const key = `${ip} ${Math.floor(Date.now() / 60_000) * 60}`;
            if (!firstSets.has(key)) firstSets.set(key, value);
            ctx.metrics.set('queue_length', value);
            return request.name === 'bison' ? { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' } : { errcode: -1, errmsg: 'invalid user', flightsInfo: '' };
          },
        },
      }));
    }
    for (const s of servers) ok(['host', 'add', SERVICE, `${s.address.host}:${s.address.port}`, '--proto', 'tcp']);
    const client = createClient({
      name: 'Flight.client', reporter: new MemoryCallReporter(),
      routes: staticRoutes([{ service: SERVICE, policy: 'standard', version: 1, instances: servers.map((s) => ({ ip: s.address.host, port: s.address.port, protocol: 'tcp' as const, weight: 100 })) }]),
    });
    const flight = client.stub<{ queryFlight(r: object): Promise<{ errcode: number }> }>(SERVICE, flightProto, 'flight.flight_service');
    let refused = 0;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 50 }, async (_, i) => {
        const bad = (batch * 50 + i) % 10 === 0;
        if (bad) refused++;
        const answer = await flight.queryFlight({ name: bad ? 'mallory' : 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' });
        assert.equal(answer.errcode, bad ? -1 : 0);
      }));
    }
    await client.close();
    for (const s of servers) await s.close(); // flushes what is left

    const curves = (args: string[]) => msecJson<{ days: string[]; series: Series[] }>(['metrics', SERVICE, ...args], env).series;
    const requests = await eventually('frm.requests of queryFlight sums to 1 000', () => {
      const series = curves(['--name', '^frm\\.requests queryFlight$']);
      return series.length === 1 && sum(series[0]!.values) === 1000 ? series[0]! : undefined;
    }, 60_000);
    const byIp = curves(['--name', '^frm\\.requests queryFlight$', '--by-ip']);
    assert.deepEqual(byIp.map((s) => s.ip), ['127.0.0.1', '127.0.0.2']);
    assert.ok(byIp.every((s) => sum(s.values) > 100), `the client spread the calls (${byIp.map((s) => sum(s.values)).join(', ')})`);
    requests.values.forEach((v, minute) => {
      const ips = byIp.map((s) => s.values[minute] ?? 0);
      assert.equal(ips[0]! + ips[1]!, v ?? 0, `minute ${minute}: the service's value is the sum of its ips`);
    });
    for (const ip of ['127.0.0.1', '127.0.0.2']) {
      const one = curves(['--name', '^frm\\.requests queryFlight$', '--ip', ip]);
      assert.equal(sum(one[0]!.values), sum(byIp.find((s) => s.ip === ip)!.values), `--ip ${ip} is that ip's view`);
    }

    // Business metrics: Add sums (searches on every call, refused logins on one in ten), Set keeps the first of each minute per ip.
    const usr = curves(['--name', '^usr\\.']);
    assert.equal(sum(usr.find((s) => s.name === 'usr.searches')!.values), 1000);
    assert.equal(sum(usr.find((s) => s.name === 'usr.refused_logins')!.values), refused);
    const queue = curves(['--name', '^usr\\.queue_length$', '--by-ip']);
    let checked = 0;
    for (const s of queue) {
      s.values.forEach((v, i) => {
        if (v === null) return;
        assert.equal(v, firstSets.get(`${s.ip} ${s.from + i * 60}`), `the first Set of minute ${i} at ${s.ip} wins`);
        checked++;
      });
    }
    assert.equal(checked, firstSets.size, 'a value for every minute and ip that was set');
    const service = curves(['--name', '^usr\\.queue_length$'])[0]!;
    service.values.forEach((v, i) => {
      if (v === null) return;
      const expected = ['127.0.0.1', '127.0.0.2'].reduce((a, ip) => a + (firstSets.get(`${ip} ${service.from + i * 60}`) ?? 0), 0);
      assert.equal(v, expected, 'the whole service sums its ips\' gauges (MSEC)');
    });

    // The text a person reads, and the latency percentiles from the buckets.
    const text = ok(['metrics', SERVICE, '--name', '^frm\\.requests queryFlight$']).stdout;
    assert.match(text, /frm\.requests queryFlight\s+1000\b/);
    const latency = msecJson<{ methods: { method: string; side: string; overall: { calls: number; p50: number | null; p99: number | null } }[] }>(['metrics', SERVICE, '--latency'], env);
    const server = latency.methods.find((m) => m.method === 'queryFlight' && m.side === 'server')!;
    assert.equal(server.overall.calls, 1000);
    assert.ok(server.overall.p50 !== null && server.overall.p99! >= server.overall.p50, JSON.stringify(server.overall));
    const listing = msecJson<{ names: string[]; ips: string[] }>(['metrics', SERVICE, '--list'], env);
    assert.deepEqual(listing.ips, ['127.0.0.1', '127.0.0.2']);
    assert.ok(listing.names.includes('frm.requests queryFlight') && listing.names.includes('usr.searches'));
  } finally {
    for (const s of servers) await s.close();
    for (const r of reporters) await r.close();
    await bus.close();
    up.proc.kill('SIGTERM');
    await exited(up.proc);
  }
});
