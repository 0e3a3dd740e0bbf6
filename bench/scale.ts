/**
 * `npm run bench -- scale`: an installation of 1 000 services × 20 enabled hosts
 * (BENCH_SCALE_SERVICES, BENCH_SCALE_HOSTS), on a real ZooKeeper 3.8 (tests/services).
 *   replay      all projections folded from position 0 over the whole log, in this process;
 *               baseline: reading and decoding the same log
 *   publish     one routing change (HostWeightSet) folded and published to ZooKeeper by the
 *               registry publisher, while it holds all 1 000 tables; baseline: one bare
 *               ZooKeeper publish of the same table (the floor). And the publisher's own CPU
 *               per change, on the embedded registry; baseline: folding the change alone
 *   split       `msec projector` and `msec console` as two processes on that log (shared
 *               SQLite store, ClickHouse server views, ZooKeeper registry): their memory, and
 *               route propagation to 50 SDK clients per route source (ZooKeeper watch, the
 *               console's long poll): bench/scale-propagation.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteEventStore } from '../adapters/eventstore/sqlite.ts';
import { msecDatabaseFile } from '../adapters/sqlite/open.ts';
import { SqliteViewStore } from '../adapters/views/sqlite.ts';
import { MemoryRegistry } from '../adapters/registry/memory.ts';
import { ZooKeeperRegistry } from '../adapters/registry/zookeeper.ts';
import { RegistryPublisher } from '../apps/projector/registry-publisher.ts';
import { ProjectionRunner } from '../apps/projector/runner.ts';
import { defaultProjections } from '../projections/index.ts';
import { routeFor, routingProjection, type RoutingState } from '../projections/routing.ts';
import type { RecordedEvent } from '../domain/events.ts';
import { startZooKeeper, zooKeeperUnavailable, type ZooKeeperServer } from '../tests/services/zookeeper.ts';
import { scaleServices, seedScaleLog, type ScaleShape, type SeededService } from './scale-seed.ts';
import { benchPropagation } from './scale-propagation.ts';
import { pct, zkWriter } from './scale-support.ts';

const silent = pino({ level: 'silent' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function replay(home: string): Promise<{ events: number; seconds: number; decodePerSecond: number }> {
  const store = SqliteEventStore.open(msecDatabaseFile(home), { logger: silent });
  const head = await store.headPosition();
  let started = performance.now();
  for (let after = 0; ;) {
    const batch = await store.readAll(after, 1000);
    if (!batch.length) break;
    after = batch[batch.length - 1]!.position;
  }
  const decodePerSecond = head / ((performance.now() - started) / 1000);
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-scale-replay-'));
  const runner = new ProjectionRunner({ store, views: SqliteViewStore.open(join(dir, 'views.db')), projections: defaultProjections, logger: silent });
  started = performance.now();
  await runner.start();
  await runner.waitFor(head, 600_000);
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { events: head, seconds, decodePerSecond };
}

/** The routing state of the log, folded here (what the projector's routing projection holds). */
async function routingStateOf(home: string): Promise<{ state: RoutingState; head: number }> {
  const store = SqliteEventStore.open(msecDatabaseFile(home), { logger: silent });
  let state = routingProjection.initialState();
  let head = 0;
  for (;;) {
    const batch = await store.readAll(head, 1000);
    if (!batch.length) break;
    for (const event of batch) if (routingProjection.handles.includes(event.type)) state = routingProjection.apply(state, event);
    head = batch[batch.length - 1]!.position;
  }
  await store.close();
  return { state, head };
}

function weightSet(service: SeededService, host: number, weight: number, position: number): RecordedEvent {
  const [ip, port] = service.hosts[host]!.split(':') as [string, string];
  return {
    type: 'HostWeightSet', data: { service: service.service, ip, port: Number(port), weight },
    id: `scale-weight-${position}`, stream: `service-${service.service}`, revision: 0, position,
    occurredAt: new Date().toISOString(), actor: 'bench', reason: '', correlationId: 'bench', causationId: 'bench', schemaVersion: 1,
  } as RecordedEvent;
}

async function publishOneChange(zk: ZooKeeperServer, home: string, services: SeededService[], trials: number) {
  let { state, head } = await routingStateOf(home);
  const registry = ZooKeeperRegistry.fromUrl(zkWriter(zk), { logger: silent, root: '/bench-publish' });
  const floor = ZooKeeperRegistry.fromUrl(zkWriter(zk), { logger: silent, root: '/bench-floor' });
  const publisher = new RegistryPublisher({ registry, logger: silent, verifyEveryMs: 0 });
  try {
    let started = performance.now();
    await publisher.sync(state, head);
    const fullSeconds = (performance.now() - started) / 1000;
    if (publisher.status().published !== services.length) throw new Error(`the first pass published ${publisher.status().published} of ${services.length} tables`);
    const changed = (k: number) => services[(k * 37) % services.length]!;
    for (let k = 0; k < trials; k++) await floor.publish(routeFor(state, changed(k).service)!);
    const times: number[] = [];
    const floors: number[] = [];
    for (let k = 0; k < trials; k++) {
      const service = changed(k);
      started = performance.now();
      state = routingProjection.apply(state, weightSet(service, k % service.hosts.length, 200 + k, ++head));
      await publisher.sync(state, head);
      times.push(performance.now() - started);
      const table = routeFor(state, service.service)!;
      if ((await registry.read(service.service))?.version !== head) throw new Error(`${service.service} was not published at version ${head}`);
      started = performance.now();
      await floor.publish(table);
      floors.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    floors.sort((a, b) => a - b);
    return { fullSeconds, p50: pct(times, 50), p99: pct(times, 99), floorP50: pct(floors, 50), floorP99: pct(floors, 99) };
  } finally {
    await publisher.close();
    await registry.close();
    await floor.close();
  }
}

/** Per change: fold + publish on the embedded registry, and the fold alone (ms). */
async function publisherCpu(home: string, services: SeededService[], changes: number) {
  const { state: start, head } = await routingStateOf(home);
  const registry = new MemoryRegistry({ logger: silent });
  const publisher = new RegistryPublisher({ registry, logger: silent, verifyEveryMs: 0 });
  await publisher.sync(start, head);
  const event = (k: number) => {
    const service = services[(k * 37) % services.length]!;
    return weightSet(service, k % service.hosts.length, 200 + (k % 50), head + 1 + k);
  };
  let state = start;
  let started = performance.now();
  for (let k = 0; k < changes; k++) state = routingProjection.apply(state, event(k));
  const foldMs = (performance.now() - started) / changes;
  state = start;
  started = performance.now();
  for (let k = 0; k < changes; k++) {
    state = routingProjection.apply(state, event(k));
    await publisher.sync(state, head + 1 + k);
  }
  const publishMs = (performance.now() - started) / changes;
  await publisher.close();
  await registry.close();
  return { foldMs, publishMs };
}

export async function benchScale(): Promise<void> {
  const why = zooKeeperUnavailable();
  if (why) throw new Error(`the scale bench needs a real ZooKeeper: ${why}`);
  const shape: ScaleShape = { services: Number(process.env.BENCH_SCALE_SERVICES ?? 1000), hosts: Number(process.env.BENCH_SCALE_HOSTS ?? 20) };
  const trials = Number(process.env.BENCH_SCALE_TRIALS ?? 40);
  const services = scaleServices(shape);
  const about = `${fmt(shape.services)} services × ${shape.hosts} enabled hosts`;
  const home = mkdtempSync(join(tmpdir(), 'msec-bench-scale-'));
  const zk = await startZooKeeper();
  try {
    const store = SqliteEventStore.open(msecDatabaseFile(home), { logger: silent });
    const events = await seedScaleLog(store, shape);
    await store.close();

    const r = await replay(home);
    console.log(`scale.replay_s=${r.seconds.toFixed(2)} events_per_s=${fmt(r.events / r.seconds)} baseline.read_decode.per_s=${fmt(r.decodePerSecond)} ratio=${(r.events / r.seconds / r.decodePerSecond).toFixed(3)}  (${fmt(events)} events, ${about}, all ${defaultProjections.length} projections, views in SQLite)`);

    const p = await publishOneChange(zk, home, services, trials);
    console.log(`scale.publish_one_change_ms p50=${p.p50.toFixed(1)} p99=${p.p99.toFixed(1)} baseline.zookeeper_publish_ms p50=${p.floorP50.toFixed(1)} p99=${p.floorP99.toFixed(1)} ratio=${(p.floorP50 / p.p50).toFixed(3)}  (HostWeightSet folded → registry publisher → ZooKeeper, ${about} held; ${trials} changes; first full pass ${p.fullSeconds.toFixed(1)} s)`);

    const c = await publisherCpu(home, services, 2000);
    console.log(`scale.publisher_cpu_per_change_ms=${c.publishMs.toFixed(3)} baseline.fold_only_ms=${c.foldMs.toFixed(3)} ratio=${(c.foldMs / c.publishMs).toFixed(3)}  (HostWeightSet folded and published to the embedded registry, ${about} held; 2 000 changes)`);

    await benchPropagation({ zk, home, services, trials, about });
  } finally {
    await zk.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchScale();
