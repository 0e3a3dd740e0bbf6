/**
 * `npm run bench`: throughput of the spine, each figure beside a baseline measured in the
 * same run on the same machine.
 *   commands/s  HTTP → decider → SQLite store → projections caught up (answer after read-your-writes),
 *               against `msec up` in its own process
 *               baseline: raw SqliteEventStore.append of the same events, no HTTP, no projections
 *   replay      events/s rebuilding projections from position 0 over 100 000 events
 *               baseline: raw readAll + protobuf decode of the same log
 * Suites (`npm run bench -- NAME…`): spine (the above), commands (the commands/s line alone;
 * BENCH_CPU_PROF=<folder> profiles the `msec up` process), replay (the replay alone), pipeline (relay → Kafka → projections
 * → ClickHouse: bench/pipeline.ts), rpc (echo against gRPC: bench/rpc.ts), bus (checking that
 * msec.events messages are the relay's: bench/bus-authenticity.ts), logs (ingestion, request
 * lookup among 1 000 000 records, the SDK's cost per record: bench/logs.ts), metrics (monitoring
 * views: ingest, curve query, alarm evaluation: bench/metrics.ts), agents (command latency
 * through an agent, embedded and on Kafka, and the agent's check rate: bench/agents.ts), release
 * (time to release to 2, 8 and 32 agent processes, beside unpack-start-wait without msec: bench/release.ts), scale
 * (1 000 services × 20 hosts: replay, publishing one routing change, memory, route propagation
 * to SDK clients over ZooKeeper and the console's long poll: bench/scale.ts), kv (the KV's
 * expansion by one set, time per 100 000 keys moved, beside `redis-cli --cluster rebalance` on the
 * same data; BENCH_KV_KEYS, default 300 000: bench/kv.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { pino } from 'pino';
import { exited, startRole } from '../tests/e2e/support.ts';
import { bareHttpFloor, postLoad } from './http-load.ts';
import { SqliteEventStore } from '../adapters/eventstore/sqlite.ts';
import { SqliteViewStore } from '../adapters/views/sqlite.ts';
import { ProjectionRunner } from '../apps/projector/runner.ts';
import { defaultProjections } from '../projections/index.ts';
import { eventIdFor } from '../domain/event-ids.ts';
import type { NewEvent } from '../domain/events.ts';

const silent = pino({ level: 'silent' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function commandsThroughHttp(total: number, concurrency: number) {
  const home = mkdtempSync(join(tmpdir(), 'msec-bench-'));
  // BENCH_CPU_PROF=<folder>: `msec up` writes a V8 CPU profile there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] : [];
  // The console runs as `msec up` in its own process, as users run it; this process is the client.
  const running = await startRole('up', home, { MSEC_ADMIN_PASSWORD: 'bench-password-1', MSEC_LOG_LEVEL: 'warn' }, [], profile);
  const basic = `Basic ${Buffer.from('admin:bench-password-1').toString('base64')}`;
  const token = ((await (await fetch(`${running.url}/api/tokens`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: '{"label":"bench"}' })).json()) as { token: string }).token;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (let s = 0; s < 100; s++) {
    const r = await fetch(`${running.url}/api/services`, { method: 'POST', headers, body: JSON.stringify({ name: `Bench.svc${s}` }) });
    if (r.status !== 201) throw new Error(`create failed: ${await r.text()}`);
  }
  const load = await postLoad(running.url, headers, total, concurrency, hostsPath, hostBody);
  running.proc.kill('SIGTERM');
  await exited(running.proc);
  rmSync(home, { recursive: true, force: true });
  if (load.failed) throw new Error(`${load.failed} commands failed`);
  return load.perSecond;
}

const hostsPath = (i: number) => `/api/services/Bench.svc${i % 100}/hosts`;
const hostBody = (i: number) => JSON.stringify({ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 7963 });

function hostEvents(count: number, streamsCount: number): { stream: string; event: NewEvent }[] {
  const at = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const service = `Bench.svc${i % streamsCount}`;
    return {
      stream: `service-${service}`,
      event: {
        type: 'HostAdded', data: { service, ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 7963, protocol: 'tcp', weight: 100 },
        id: eventIdFor(`bench-${i}`, 0), occurredAt: new Date(at).toISOString(), actor: 'bench', reason: '', correlationId: `bench-${i}`, causationId: `bench-${i}`,
      } as NewEvent,
    };
  });
}

async function rawAppends(total: number, streamsCount: number) {
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-raw-'));
  const store = SqliteEventStore.open(join(dir, 'msec.db'), { logger: silent });
  const events = hostEvents(total, streamsCount);
  const revisions = new Map<string, number>();
  const started = performance.now();
  for (const { stream, event } of events) {
    const rev = revisions.get(stream);
    const r = await store.append(stream, rev === undefined ? 'no_stream' : rev, [event]);
    revisions.set(stream, r.nextRevision);
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return total / seconds;
}

async function replay(total: number) {
  const dir = mkdtempSync(join(tmpdir(), 'msec-bench-replay-'));
  let store = SqliteEventStore.open(join(dir, 'msec.db'), { logger: silent });
  // Realistic mix: 1 000 services, each with hosts added and enabled and config versions.
  const events = hostEvents(total, 1000);
  const byStream = new Map<string, NewEvent[]>();
  for (const { stream, event } of events) byStream.set(stream, [...(byStream.get(stream) ?? []), event]);
  for (const [stream, list] of byStream) {
    for (let i = 0; i < list.length; i += 500) await store.append(stream, 'any', list.slice(i, i + 500));
  }
  const head = await store.headPosition();
  await store.close();
  // A fresh instance: a rebuild reads the database, not what this process just appended.
  store = SqliteEventStore.open(join(dir, 'msec.db'), { logger: silent });

  let started = performance.now();
  let read = 0;
  for (let after = 0; ;) {
    const batch = await store.readAll(after, 1000);
    if (!batch.length) break;
    read += batch.length;
    after = batch[batch.length - 1]!.position;
  }
  const decodeRate = read / ((performance.now() - started) / 1000);

  const runner = new ProjectionRunner({ store, views: SqliteViewStore.open(join(dir, 'views.db')), projections: defaultProjections, logger: silent });
  started = performance.now();
  await runner.start();
  await runner.waitFor(head, 600_000);
  const replayRate = head / ((performance.now() - started) / 1000);
  await runner.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { head, decodeRate, replayRate };
}

async function commands() {
  const total = Number(process.env.BENCH_COMMANDS ?? 5000);
  const raw = await rawAppends(total, 100);
  const http = await commandsThroughHttp(total, 16);
  const floor = await bareHttpFloor(total, 16, hostsPath, hostBody);
  console.log(`commands.http.per_s=${fmt(http)} baseline.raw_append.per_s=${fmt(raw)} ratio=${(http / raw).toFixed(3)}  (${total} HostAdded commands, 16 in flight, 100 services)`);
  console.log(`  http.floor.per_s=${fmt(floor)} ratio=${(http / floor).toFixed(3)}  (the same requests to a bare node:http server answering at once, same client)`);
}

async function spine() {
  await commands();
  await replaySuite();
}

async function replaySuite() {
  const r = await replay(Number(process.env.BENCH_EVENTS ?? 100_000));
  console.log(`replay.events_per_s=${fmt(r.replayRate)} baseline.read_decode.per_s=${fmt(r.decodeRate)} ratio=${(r.replayRate / r.decodeRate).toFixed(3)}  (${r.head} events, all ${defaultProjections.length} projections, views in SQLite)`);
}

/** `npm run bench` runs every suite; `npm run bench -- rpc pipeline` only those named. */
const suites: Record<string, () => Promise<void>> = {
  spine,
  commands,
  replay: replaySuite,
  pipeline: async () => (await import('./pipeline.ts')).benchPipeline(),
  bus: async () => (await import('./bus-authenticity.ts')).benchBusAuthenticity(),
  logs: async () => (await import('./logs.ts')).benchLogs(),
  agents: async () => (await import('./agents.ts')).benchAgents(),
  metrics: async () => (await import('./metrics.ts')).benchMetrics(),
  release: async () => (await import('./release.ts')).benchRelease(),
  scale: async () => (await import('./scale.ts')).benchScale(),
  kv: async () => (await import('./kv.ts')).benchKv(),
  rpc: async () => {
    const { benchRpc } = await import('./rpc.ts');
    await benchRpc();
    const { benchRoutePicks } = await import('./route-picks.ts');
    const r = benchRoutePicks();
    const ratio = (n: number) => (n / r.uniformPerSecond).toFixed(3);
    console.log(`rpc.route_picks_per_s=${fmt(r.sdkPerSecond)} baseline.uniform_random_index.per_s=${fmt(r.uniformPerSecond)} ratio=${ratio(r.sdkPerSecond)}  (the SDK's pick + outcome over 100 instances, one dead, vs a bare random index)`);
    console.log(`rpc.nlb_picks_per_s=${fmt(r.nlbPerSecond)} baseline.uniform_random_index.per_s=${fmt(r.uniformPerSecond)} ratio=${ratio(r.nlbPerSecond)}  (domain/nlb pickServer alone)`);
  },
};
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!suites[name]) {
    console.error(`msec bench: no suite "${name}"; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
}
/** Parts of another suite (spine): run on their own only when named. */
const partOfAnother = new Set(['commands', 'replay']);
for (const name of wanted.length ? wanted : Object.keys(suites).filter((n) => !partOfAnother.has(n))) {
  console.log(`# ${name}`);
  await suites[name]!();
}
