/**
 * The scale bench's split deployment: `msec projector` and `msec console` as two processes on
 * the seeded log (shared SQLite store, a ClickHouse server for the views, ZooKeeper for the
 * registry), as `npm run bench -- scale` describes. Measures:
 *   - each process's memory (VmRSS once caught up, VmHWM at the end), and how long the
 *     projector takes from its start to every table in ZooKeeper;
 *   - route propagation: 50 SDK clients on ZooKeeper watches and 50 on the console's long
 *     poll, each with the SDK's route cache (apps/rpc/client/route-cache.ts) following 10
 *     services. A weight change is sent to the console; each client's time is from sending
 *     the command (the event is appended while it runs: the figure is an upper bound) to its
 *     route source handing it the new table, which is when its balancer takes it.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ZooKeeperRegistry } from '../adapters/registry/zookeeper.ts';
import { ZooKeeperRouteWatcher } from '../adapters/registry/zookeeper-watcher.ts';
import type { RouteSource } from '../adapters/registry/port.ts';
import type { RouteTable } from '../schemas/route-table.ts';
import { InstanceBreakers } from '../apps/rpc/client/breakers.ts';
import { consoleRoutes } from '../apps/rpc/client/console-routes.ts';
import { RouteCache } from '../apps/rpc/client/route-cache.ts';
import { startClickHouse, clickHouseServerUnavailable } from '../tests/services/clickhouse.ts';
import type { ZooKeeperServer } from '../tests/services/zookeeper.ts';
import { exited, startRole, type Started } from '../tests/e2e/support.ts';
import type { SeededService } from './scale-seed.ts';
import { pct, zkWriter } from './scale-support.ts';

const silent = pino({ level: 'silent' });
const clientsPerSource = 50;
const watchedServices = 10;
const password = 'scale-admin-pass-1';

interface Memory {
  rssMb: number;
  peakMb: number;
}

/** VmRSS and VmHWM of a process (Linux). */
function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface Client {
  source: 'zookeeper' | 'console';
  routes: RouteSource;
  cache: RouteCache;
}

export async function benchPropagation(o: { zk: ZooKeeperServer; home: string; services: SeededService[]; trials: number; about: string }): Promise<void> {
  const why = clickHouseServerUnavailable();
  if (why) {
    console.log(`scale.split skipped: the split deployment needs a ClickHouse server for its views (${why})`);
    return;
  }
  const ch = await startClickHouse();
  const env = { MSEC_REGISTRY: zkWriter(o.zk), MSEC_VIEWS: ch.url, MSEC_EVENTSTORE: 'embedded', MSEC_ADMIN_PASSWORD: password };
  const running: Started[] = [];
  const clients: Client[] = [];
  const lister = ZooKeeperRegistry.fromUrl(zkWriter(o.zk), { logger: silent });
  try {
    const started = performance.now();
    // BENCH_PROFILE_DIR=…: both processes write a CPU profile there when they stop.
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const projector = await startRole('projector', o.home, env, [], profile);
    running.push(projector);
    const console_ = await startRole('console', o.home, env, [], profile);
    running.push(console_);
    await until('every table in ZooKeeper', async () => ((await lister.list()).length >= o.services.length ? true : undefined), 600_000, 200);
    const publishedAllSeconds = (performance.now() - started) / 1000;
    const basic = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, 'content-type': 'application/json' };
    const { token } = (await (await fetch(`${console_.url}/api/tokens`, { method: 'POST', headers: basic, body: '{"label":"scale bench"}' })).json()) as { token: string };
    const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const caughtUp = { projector: memoryOf(projector.proc.pid!), console: memoryOf(console_.proc.pid!) };

    // The clients, each following the same services (spread over the first levels).
    const watched = Array.from({ length: watchedServices }, (_, i) => o.services[(i * 97) % o.services.length]!);
    const waiting = new Map<string, { weight: number; host: string; sentAt: number; seen: Map<number, number> }>();
    const heard = (client: number, service: string, table: RouteTable | null) => {
      const w = waiting.get(service);
      if (!w || !table || w.seen.has(client)) return;
      if (table.instances.some((i) => `${i.ip}:${i.port}` === w.host && i.weight === w.weight)) w.seen.set(client, performance.now() - w.sentAt);
    };
    const deps = () => ({ settings: {}, random: Math.random, clock: Date.now, breakers: new InstanceBreakers(), logger: silent });
    for (let i = 0; i < clientsPerSource * 2; i++) {
      const source = i < clientsPerSource ? 'zookeeper' : 'console';
      const routes = source === 'zookeeper'
        ? ZooKeeperRouteWatcher.fromUrl(`zk://${o.zk.connectString}`, { logger: silent })
        : consoleRoutes({ url: console_.url, token, logger: silent });
      const cache = new RouteCache(() => routes, deps());
      clients.push({ source, routes, cache });
      for (const w of watched) routes.watch(w.service, (table) => heard(i, w.service, table));
    }
    await Promise.all(clients.flatMap((c) => watched.map((w) => c.cache.balancer(w.service, Date.now() + 120_000))));

    const latencies = { zookeeper: [] as number[], console: [] as number[] };
    const answered: number[] = [];
    const verbose = process.env.BENCH_SCALE_VERBOSE === '1';
    let missed = 0;
    for (let k = 0; k < o.trials; k++) {
      const service = watched[k % watched.length]!;
      const host = service.hosts[k % service.hosts.length]!;
      const wait = { weight: 300 + k, host, sentAt: performance.now(), seen: new Map<number, number>() };
      waiting.set(service.service, wait);
      const answer = await fetch(`${console_.url}/api/services/${service.service}/hosts/${host}/weight`, { method: 'PUT', headers: bearer, body: JSON.stringify({ weight: wait.weight }) });
      if (!answer.ok) throw new Error(`the weight change was refused: ${answer.status} ${await answer.text()}`);
      answered.push(performance.now() - wait.sentAt);
      await until('every client sees the change', async () => (wait.seen.size === clients.length ? true : undefined), 10_000, 5).catch(() => undefined);
      waiting.delete(service.service);
      missed += clients.length - wait.seen.size;
      for (const [client, ms] of wait.seen) latencies[clients[client]!.source].push(ms);
      if (verbose) {
        const of = (source: Client['source']) => [...wait.seen].filter(([c]) => clients[c]!.source === source).map(([, ms]) => ms);
        const span = (ms: number[]) => (ms.length ? `${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}` : '-');
        console.log(`  change ${k}: ${service.service} ${host} → ${wait.weight}: answered ${answered[answered.length - 1]!.toFixed(0)} ms, zookeeper ${span(of('zookeeper'))} ms, console ${span(of('console'))} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const end = { projector: memoryOf(projector.proc.pid!), console: memoryOf(console_.proc.pid!) };

    const mb = (m: Memory) => `rss=${m.rssMb.toFixed(0)}MB`;
    console.log(`scale.projector ${mb(caughtUp.projector)} peak=${end.projector.peakMb.toFixed(0)}MB start_to_every_table_in_zookeeper_s=${publishedAllSeconds.toFixed(1)}  (${o.about}; routing, agents and audit projections, audit rows in ClickHouse)`);
    console.log(`scale.console ${mb(caughtUp.console)} peak=${end.console.peakMb.toFixed(0)}MB  (caught up; peak while serving ${clientsPerSource * watchedServices} long polls)`);
    for (const source of ['zookeeper', 'console'] as const) {
      const l = latencies[source].sort((a, b) => a - b);
      console.log(`scale.propagation.${source}_ms p50=${pct(l, 50).toFixed(0)} p99=${pct(l, 99).toFixed(0)} max=${l[l.length - 1]!.toFixed(0)}  (${clientsPerSource} SDK clients × ${watchedServices} services, ${o.trials} weight changes: command sent → the client's route source has the table; goal p99 < 1000)`);
    }
    answered.sort((a, b) => a - b);
    console.log(`scale.command_answered_ms p50=${pct(answered, 50).toFixed(0)} p99=${pct(answered, 99).toFixed(0)}  (the weight change's HTTP answer, after its append and the console's read-your-writes: the event was appended before this)`);
    if (missed) console.log(`scale.propagation.missed=${missed}  (client × change pairs not seen within 10 s)`);
  } finally {
    await Promise.allSettled(clients.map(async (c) => {
      await c.cache.close();
      await c.routes.close();
    }));
    await lister.close();
    for (const r of running) r.proc.kill('SIGTERM');
    await Promise.all(running.map((r) => exited(r.proc)));
    await ch.stop();
  }
}
