/**
 * The projector on a hostile bus, end to end on real servers (the Kafka-protocol mock broker,
 * ZooKeeper 3.8 with a digest credential, ClickHouse 18.16): a console and a projector process,
 * and an attacker who produces to `msec.events` directly with kafkajs (tests/e2e/bus-attacker.ts)
 * between real console commands, also while the projector is down and after its restart.
 * Throughout, no route in ZooKeeper may name the forged host and no projector checkpoint may
 * pass the store's head; at the end every real command is in ZooKeeper and in the audit, each
 * forgery was refused for its reason, and the projector still runs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import zookeeper from 'node-zookeeper-client';
import { execFileSync } from 'node:child_process';
import { SqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.ts';
import { SqliteViewStore } from '../../adapters/views/sqlite.ts';
import { BusAttacker, forgedIp, type BurstResult } from './bus-attacker.ts';
import { eventually, exited, startRole, type Started } from './support.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { mockBusUrl, startKafkaMock, type KafkaMock } from '../services/kafka-mock.ts';
import { startZooKeeper, zooKeeperUnavailable, type ZooKeeperServer } from '../services/zookeeper.ts';
import { projectionKey } from '../../adapters/views/port.ts';
import { auditProjection } from '../../projections/audit.ts';

const unavailable = zooKeeperUnavailable() ?? clickHouseServerUnavailable();
const home = mkdtempSync(join(tmpdir(), 'msec-hostile-'));
let zk: ZooKeeperServer;
let ch: ClickHouseServer;
let kafka: KafkaMock;
const running: Started[] = [];

before(async () => {
  if (unavailable) return;
  [zk, ch, kafka] = await Promise.all([startZooKeeper(), startClickHouse(), startKafkaMock({ brokers: 1, topics: [{ name: 'msec.events', partitions: 3 }] })]);
});
after(async () => {
  for (const r of running) r.proc.kill('SIGKILL');
  await Promise.all(running.map((r) => exited(r.proc)));
  await Promise.allSettled([zk?.stop(), ch?.stop(), kafka?.stop()]);
  rmSync(home, { recursive: true, force: true });
});

const noNode = (err: Error | zookeeper.Exception) => 'getCode' in err && err.getCode() === zookeeper.Exception.NO_NODE;

/** Reads every node under the name service every 100 ms; remembers any that ever named the forged host. */
function watchNameService(connectString: string) {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 4000 });
  const seen = { polls: 0, forged: [] as string[], nodes: new Map<string, string>() };
  const children = (path: string) => new Promise<string[]>((resolve, reject) =>
    client.getChildren(path, (err, names) => (err ? (noNode(err) ? resolve([]) : reject(err)) : resolve(names))));
  const data = (path: string) => new Promise<string>((resolve, reject) =>
    client.getData(path, (err, bytes) => (err ? (noNode(err) ? resolve('') : reject(err)) : resolve(bytes?.toString('utf8') ?? ''))));
  const walk = async (path: string): Promise<void> => {
    const text = await data(path);
    seen.nodes.set(path, text);
    if (text.includes(forgedIp)) seen.forged.push(`${path}: ${text}`);
    for (const name of await children(path)) await walk(`${path}/${name}`);
  };
  let stopped = false;
  const loop = (async () => {
    await new Promise<void>((resolve) => { client.once('connected', () => resolve()); client.connect(); });
    while (!stopped) {
      await walk('/msec').catch(() => undefined);
      seen.polls += 1;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let closed: Promise<void> | undefined;
  return { seen, stop: () => (closed ??= (async () => { stopped = true; await loop; client.close(); })()) };
}

type ProjectorStatus = {
  at: string;
  head: number;
  busKey?: { id: string; source: string };
  projections: { name: string; checkpoint: number; busLag?: number; refused?: { total: number; byReason: Record<string, number> } }[];
};

function clickhouse(query: string): string {
  return execFileSync('clickhouse-client', ['--host', '127.0.0.1', '--port', String(ch.tcpPort), '--query', query], { encoding: 'utf8' });
}

test('forgeries on msec.events never reach ZooKeeper or the audit; real commands do; the projector keeps running', { skip: unavailable ?? false, timeout: 600_000 }, async () => {
  const env = {
    MSEC_BUS: mockBusUrl(kafka), MSEC_VIEWS: ch.url, MSEC_REGISTRY: `zk://msec:zk-secret@${zk.connectString}`,
    MSEC_EVENTSTORE: 'embedded', MSEC_ADMIN_PASSWORD: 'hostile-admin-pass',
  };
  let projector = await startRole('projector', home, env);
  running.push(projector);
  const consoleProc = await startRole('console', home, env);
  running.push(consoleProc);
  const basic = { authorization: `Basic ${Buffer.from('admin:hostile-admin-pass').toString('base64')}`, 'content-type': 'application/json' };
  const { token } = await (await fetch(`${consoleProc.url}/api/tokens`, { method: 'POST', headers: basic, body: '{"label":"hostile e2e"}' })).json() as { token: string };
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${consoleProc.url}${path}`, { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.text();
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const projections = async () => api('GET', '/api/projections') as Promise<{ head: number; components?: { projector: ProjectorStatus | null } }>;

  const names = watchNameService(zk.connectString);
  // The projector's stored status, every 300 ms: no checkpoint above the head it was taken at.
  const statusSeen = { polls: 0, aboveHead: [] as string[], last: undefined as ProjectorStatus | undefined };
  let watching = true;
  const statusLoop = (async () => {
    while (watching) {
      const p = (await projections().catch(() => undefined))?.components?.projector;
      if (p) {
        statusSeen.polls += 1;
        statusSeen.last = p;
        for (const x of p.projections) if (x.checkpoint > p.head) statusSeen.aboveHead.push(`${x.name} at ${x.checkpoint} > head ${p.head} (${p.at})`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const attacker = await BusAttacker.connect(kafka.bootstrap);
  try {
    const service = 'Hostile.svc';
    await api('POST', '/api/services', { name: service, reason: 'hostile bus test' });
    await eventually('the attacker copied genuine messages', () => attacker.genuine.length >= 3, 60_000);

    const refusable: Record<string, number> = {};
    let copies = 0;
    const tally = (b: BurstResult) => {
      for (const [reason, n] of Object.entries(b.refusable)) refusable[reason] = (refusable[reason] ?? 0) + n!;
      copies += b.copies;
    };
    const attack = async (round: number) => tally(await attacker.burst(service, (await projections()).head, round));
    const refusedTotal = (refused: Record<string, number>) => Object.values(refused).reduce((a, b) => a + b, 0);
    const hosts: string[] = [];
    const round = async (r: number) => {
      const ip = `10.9.0.${r + 1}`;
      await attack(r);
      await api('POST', `/api/services/${service}/hosts`, { ip, port: 7963, reason: `round ${r}` });
      await attack(r);
      await api('POST', `/api/services/${service}/hosts/${ip}:7963/enable`, { reason: `round ${r}` });
      hosts.push(ip);
    };

    for (let r = 0; r < 3; r++) await round(r);
    // Before the restart: each projection refused exactly what was forged, for the reason forged.
    const before = await eventually('each projection refused every forgery so far', async () => {
      const p = (await projections()).components?.projector;
      // The split projector runs routing, agents and audit.
      if (p && p.projections.length === 3 && p.projections.every((x) => x.refused?.total === refusedTotal(refusable) && x.busLag === 0)) return p;
      throw new Error(`forged ${JSON.stringify(refusable)}; routes naming the forged host: ${JSON.stringify(names.seen.forged.slice(0, 2))}; projector status ${JSON.stringify(p)}`);
    }, 120_000);
    for (const x of before.projections) assert.deepEqual(x.refused!.byReason, refusable, `${x.name} refused by reason`);
    const forgedBefore = refusedTotal(refusable);

    projector.proc.kill('SIGKILL');
    await exited(projector.proc);
    await attack(3); // while no projector runs
    projector = await startRole('projector', home, env);
    running.push(projector);
    for (let r = 3; r < 6; r++) await round(r);

    // Every real command reached ZooKeeper (the route lists the six enabled hosts) ...
    const route = await eventually('ZooKeeper routes Hostile.svc to the six real hosts', () => {
      const text = names.seen.nodes.get('/msec/nameservice/Hostile/svc');
      const json = text ? JSON.parse(text) as { IPInfo: { IP: string }[] } : undefined;
      return json && json.IPInfo.length === hosts.length ? json : undefined;
    }, 120_000);
    assert.deepEqual(route.IPInfo.map((i) => i.IP).sort(), [...hosts].sort());
    // ... and the audit, in ClickHouse, once each.
    const head = (await projections()).head;
    const audit = await eventually('the audit holds every event of the store', () => {
      const generation = `(SELECT generation FROM msec.view_keys FINAL WHERE projection_key = '${projectionKey(auditProjection.name, auditProjection.version)}')`;
      const rows = clickhouse(`SELECT event_id, type, stream, row FROM msec.view_rows WHERE generation = ${generation} AND event_id != '' ORDER BY position LIMIT 1 BY event_id FORMAT JSONEachRow`)
        .trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event_id: string; type: string; stream: string; row: string });
      return rows.length === head ? rows : undefined;
    }, 120_000);
    const ours = audit.filter((r) => r.stream === `service-${service}`);
    assert.deepEqual(ours.map((r) => r.type), ['ServiceCreated', ...hosts.flatMap(() => ['HostAdded', 'HostEnabled'])]);
    assert.equal(audit.filter((r) => r.row.includes(forgedIp)).length, 0, 'no audit row of the forged host');

    // The restarted projector refused what came after its restart (what was not committed before the kill may be counted again).
    const after = await eventually('the restarted projector caught up on the bus', async () => {
      const p = (await projections()).components?.projector;
      if (p && p.at > before.at && p.projections.every((x) => x.busLag === 0 && (x.refused?.total ?? 0) >= refusedTotal(refusable) - forgedBefore)) return p;
      throw new Error(`forged ${JSON.stringify(refusable)}, ${forgedBefore} before the restart; projector status ${JSON.stringify(p)}`);
    }, 120_000);
    for (const x of after.projections) assert.ok(x.refused!.total <= refusedTotal(refusable), `${x.name} refused no more than was forged`);
    assert.equal(projector.proc.exitCode, null, 'the projector still runs');

    watching = false;
    await statusLoop;
    await names.stop();
    assert.deepEqual(names.seen.forged, [], 'no route in ZooKeeper ever named the forged host');
    assert.deepEqual(statusSeen.aboveHead, [], 'no checkpoint in the projector status above the head');
    // Every checkpoint the projector ever stored (ClickHouse keeps superseded versions until merges) and its local ones.
    const stored = Number(clickhouse('SELECT max(c) FROM (SELECT max(checkpoint) AS c FROM msec.view_checkpoints UNION ALL SELECT max(checkpoint) AS c FROM msec.view_states)').trim());
    assert.ok(stored <= head, `ClickHouse checkpoints ${stored} <= head ${head}`);
    projector.proc.kill('SIGTERM');
    await exited(projector.proc);
    const views = SqliteViewStore.open(join(home, 'projector-views.db'));
    const routing = await views.loadState('routing_v1');
    await views.close();
    const checkpoints = SqliteCheckpointStore.open(join(home, 'checkpoints.db'));
    const local = { routing: routing?.checkpoint ?? 0, relay: (await checkpoints.load('outbox-relay')) ?? 0, registry: (await checkpoints.load('registry-publisher')) ?? 0 };
    checkpoints.close();
    for (const [name, at] of Object.entries(local)) assert.ok(at <= head, `${name} checkpoint ${at} <= head ${head}`);

    console.log(`hostile bus: attacker sent ${attacker.sent} messages (${refusedTotal(refusable)} forged, ${copies} genuine copies reordered onto other partitions)`);
    console.log(`hostile bus: forged by reason ${JSON.stringify(refusable)}`);
    console.log(`hostile bus: before the restart each projection refused ${JSON.stringify(before.projections.map((x) => [x.name, x.refused]))}`);
    console.log(`hostile bus: after the restart ${JSON.stringify(after.projections.map((x) => [x.name, x.refused?.total]))} (${refusedTotal(refusable) - forgedBefore} forged since)`);
    console.log(`hostile bus: real applied: ${hosts.length} hosts added and enabled, ${ours.length} events of ${service} in the audit, route ${JSON.stringify(route.IPInfo.map((i) => i.IP))}; store head ${head}; checkpoints ${JSON.stringify({ ...local, clickhouse: stored })}`);
    console.log(`hostile bus: ZooKeeper read ${names.seen.polls} times, status ${statusSeen.polls} times; bus key ${after.busKey?.id} from ${after.busKey?.source}`);
  } finally {
    watching = false;
    await statusLoop;
    await names.stop().catch(() => undefined);
    await attacker.close();
  }
});
