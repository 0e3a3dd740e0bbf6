/**
 * Distributed mode end to end, on real servers: a console process and a projector process
 * sharing one event store, with the Kafka-protocol broker (librdkafka's mock cluster),
 * ClickHouse 18.16 and ZooKeeper 3.8 started here on loopback.
 * The route is read back with a plain ZooKeeper client and the audit with clickhouse-client;
 * the projector is killed with SIGKILL in the middle of a stream of commands and restarted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zookeeper from 'node-zookeeper-client';
import { eventually, exited, msec, msecJson, startRole, type Started } from './support.ts';
import { startZooKeeper, zooKeeperUnavailable, type ZooKeeperServer } from '../services/zookeeper.ts';
import { clickHouseServerUnavailable, startClickHouse, type ClickHouseServer } from '../services/clickhouse.ts';
import { mockBusUrl, startKafkaMock, type KafkaMock } from '../services/kafka-mock.ts';
import { projectionKey } from '../../adapters/views/port.ts';
import { auditProjection } from '../../projections/audit.ts';

const unavailable = zooKeeperUnavailable() ?? clickHouseServerUnavailable();
const home = mkdtempSync(join(tmpdir(), 'msec-split-'));
const files = mkdtempSync(join(tmpdir(), 'msec-split-cli-'));
let zk: ZooKeeperServer;
let ch: ClickHouseServer;
let kafka: KafkaMock;
const running: Started[] = [];

before(async () => {
  if (unavailable) return;
  [zk, ch, kafka] = await Promise.all([
    startZooKeeper(), startClickHouse(),
    startKafkaMock({ brokers: 1, topics: [{ name: 'msec.events', partitions: 3 }] }),
  ]);
});
after(async () => {
  for (const r of running) r.proc.kill('SIGKILL');
  await Promise.all(running.map((r) => exited(r.proc)));
  await Promise.allSettled([zk?.stop(), ch?.stop(), kafka?.stop()]);
  rmSync(home, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

function readZNode(connectString: string, path: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const client = zookeeper.createClient(connectString, { sessionTimeout: 4000 });
    const timer = setTimeout(() => { client.close(); reject(new Error('ZooKeeper did not answer')); }, 5000);
    client.once('connected', () => {
      client.getData(path, (err, data) => {
        clearTimeout(timer);
        client.close();
        if (err && 'getCode' in err && err.getCode() === zookeeper.Exception.NO_NODE) return resolve(null);
        if (err) return reject(err);
        resolve(data ? data.toString('utf8') : '');
      });
    });
    client.connect();
  });
}

function clickhouseClient(query: string): string {
  return execFileSync('clickhouse-client', ['--host', '127.0.0.1', '--port', String(ch.tcpPort), '--query', query], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** Audit rows as the ClickHouse server holds them, deduplicated as the view's queries do. */
function auditRowsInClickHouse(): { eventId: string; type: string; stream: string; actor: string }[] {
  const generation = `(SELECT generation FROM msec.view_keys FINAL WHERE projection_key = '${projectionKey(auditProjection.name, auditProjection.version)}')`;
  const text = clickhouseClient(`SELECT event_id, type, stream, actor FROM msec.view_rows WHERE generation = ${generation} AND event_id != '' ORDER BY position LIMIT 1 BY event_id FORMAT JSONEachRow`);
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const r = JSON.parse(line) as { event_id: string; type: string; stream: string; actor: string };
    return { eventId: r.event_id, type: r.type, stream: r.stream, actor: r.actor };
  });
}

type Route = { service: string; version: number; instances: { ip: string; port: number; protocol: string; weight: number }[] };

test('split deployment: console + projector on Kafka, ClickHouse and ZooKeeper', { skip: unavailable ?? false, timeout: 900_000 }, async () => {
  const env = {
    MSEC_BUS: mockBusUrl(kafka), MSEC_VIEWS: ch.url, MSEC_REGISTRY: `zk://msec:zk-secret@${zk.connectString}`,
    MSEC_EVENTSTORE: 'embedded', MSEC_ADMIN_PASSWORD: 'split-admin-pass',
  };
  let projector = await startRole('projector', home, env);
  running.push(projector);
  const consoleProc = await startRole('console', home, env);
  running.push(consoleProc);
  const cli = { MSEC_CONSOLE: consoleProc.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'split-admin-pass', MSEC_CONFIG_DIR: files };
  const ok = (args: string[]) => {
    const r = msec(args, cli);
    assert.equal(r.code, 0, `msec ${args.join(' ')} failed: ${r.stderr}`);
  };

  ok(['service', 'create', 'Flight.mod_flight', '--reason', 'split walkthrough']);
  ok(['host', 'add', 'Flight.mod_flight', '127.0.0.11:7963', '--proto', 'both']);
  ok(['host', 'add', 'Flight.mod_flight', '127.0.0.12:7963']);
  ok(['host', 'enable', 'Flight.mod_flight', '127.0.0.11:7963', '--reason', 'scale out']);
  ok(['host', 'enable', 'Flight.mod_flight', '127.0.0.12:7963', '--reason', 'scale out']);

  // The route, read back with a plain ZooKeeper client: MSEC's JSON, enabled hosts only.
  const node = await eventually('the route in ZooKeeper lists both enabled hosts', async () => {
    const text = await readZNode(zk.connectString, '/msec/nameservice/Flight/mod_flight');
    if (!text) return undefined;
    const json = JSON.parse(text) as { Policy: string; IPInfo: { IP: string; t: string; ports: number[]; w: number }[] };
    return json.IPInfo.length === 2 ? json : undefined;
  }, 60_000);
  assert.equal(node.Policy, 'standard');
  assert.deepEqual(node.IPInfo.map((i) => [i.IP, i.t, i.ports, i.w]).sort(), [['127.0.0.11', 'all', [7963], 100], ['127.0.0.12', 'tcp', [7963], 100]]);

  // The audit rows, read back with clickhouse-client.
  const rows = await eventually('the audit rows in ClickHouse', () => {
    const r = auditRowsInClickHouse();
    return r.filter((x) => x.stream === 'service-Flight.mod_flight').length >= 5 ? r : undefined;
  }, 60_000);
  const flight = rows.filter((x) => x.stream === 'service-Flight.mod_flight');
  assert.deepEqual(flight.map((x) => x.type), ['ServiceCreated', 'HostAdded', 'HostAdded', 'HostEnabled', 'HostEnabled']);
  assert.ok(flight.every((x) => x.actor === 'admin'));
  // The console serves that same audit from ClickHouse.
  const viaConsole = msecJson<{ entries: { type: string; stream: string }[] }>(['audit', '--stream', 'service-Flight.mod_flight'], cli).entries;
  assert.equal(viaConsole.length, 5);

  // msec status: every component, its backend, checkpoints and lag.
  const status = await eventually('the projector status reaches the console', () => {
    const s = msecJson<{ components?: { backends: Record<string, string>; projector: { relay?: { checkpoint: number }; projections: { name: string; checkpoint: number; busLag?: number }[] } | null } }>(['status'], cli);
    return s.components?.projector?.relay ? s : undefined;
  });
  assert.match(status.components!.backends.bus, /^kafka:\/\//);
  assert.match(status.components!.backends.views, /^http:\/\/127\.0\.0\.1:/);
  assert.match(status.components!.backends.registry, /^zk:\/\/msec:\*\*\*@/, 'the ZooKeeper password never shows');
  assert.ok(status.components!.projector!.projections.some((p) => p.name === 'audit' && typeof p.busLag === 'number'));
  const text = msec(['status'], cli);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /kafka:\/\//);

  // Faults in the middle of 10 000 commands: every broker down for several seconds, and later
  // the projector killed with SIGKILL and started again.
  // An API token, as scripts should use (Basic auth costs a password hash per request).
  const basic = { authorization: `Basic ${Buffer.from('admin:split-admin-pass').toString('base64')}`, 'content-type': 'application/json' };
  const { token } = await (await fetch(`${consoleProc.url}/api/tokens`, { method: 'POST', headers: basic, body: '{"label":"split e2e"}' })).json() as { token: string };
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const services = 20;
  for (let k = 0; k < services; k++) {
    const r = await fetch(`${consoleProc.url}/api/services`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `Load.s${k}` }) });
    assert.equal(r.status, 201, await r.text());
  }
  const total = Number(process.env.MSEC_E2E_COMMANDS ?? 10_000);
  let sent = 0;
  let failed = 0;
  const started = Date.now();
  const progress = setInterval(() => console.log(`# ${Math.round((Date.now() - started) / 1000)} s: ${sent} commands answered`), 10_000);
  const stream = (async () => {
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const r = await fetch(`${consoleProc.url}/api/services/Load.s${i % services}/hosts`, { method: 'POST', headers: auth, body: JSON.stringify({ ip: `10.1.${i >> 8}.${i & 255}`, port: 7963 }) });
        await r.arrayBuffer();
        if (r.status === 201) sent++;
        else failed++;
      }
    }));
  })();
  await eventually('a fifth of the commands went through', () => sent >= total / 5, 120_000);
  await kafka.brokerDown('all');
  const downAt = sent;
  await new Promise((r) => setTimeout(r, 4000));
  await kafka.brokerUp('all');
  console.log(`# brokers down for 4 s after command ${downAt}, up again after command ${sent}`);
  await eventually('three fifths of the commands went through', () => sent >= (3 * total) / 5, 120_000);
  projector.proc.kill('SIGKILL');
  await exited(projector.proc);
  console.log(`# projector killed with SIGKILL after command ${sent}`);
  projector = await startRole('projector', home, env);
  running.push(projector);
  await stream;
  clearInterval(progress);
  assert.equal(failed, 0, 'the console never depends on the broker or the projector');
  console.log(`# commands sent ${sent}, failed ${failed}`);

  // Views equal a fresh fold of the log: every event exactly once in the audit, and the route.
  const head = (await (await fetch(`${consoleProc.url}/api/projections`, { headers: auth })).json() as { head: number }).head;
  const audit = await eventually(`the audit view reaches position ${head}`, () => {
    const r = auditRowsInClickHouse();
    return r.length >= head ? r : undefined;
  }, 180_000);
  const ids = new Set(audit.map((r) => r.eventId));
  console.log(`# events in the store ${head}, audit rows visible ${audit.length}, distinct ${ids.size}`);
  assert.equal(audit.length, head, 'one audit row per event');
  assert.equal(ids.size, head, 'no event duplicated in the audit view');
  assert.equal(audit.filter((r) => r.type === 'HostAdded' && r.stream.startsWith('service-Load.s')).length, total);
  const viaApi = msecJson<{ entries: { type: string }[] }>(['audit', '--stream', 'service-Load.s0', '--type', 'ServiceCreated'], cli).entries;
  assert.equal(viaApi.length, 1, 'the console reads the same view');
  const route = msecJson<Route>(['route', 'Flight.mod_flight'], cli);
  const zkNode = JSON.parse((await readZNode(zk.connectString, '/msec/nameservice/Flight/mod_flight'))!) as { version: number };
  assert.equal(zkNode.version, route.version, 'ZooKeeper holds the route the console folds from the log');

  // The restarted projector's routing projection follows new changes into ZooKeeper (its stored
  // snapshot may be older than what its consumer group had committed before the kill).
  for (const i of [0, services, 2 * services]) ok(['host', 'enable', 'Load.s0', `10.1.${i >> 8}.${i & 255}:7963`]);
  const loadRoute = msecJson<Route>(['route', 'Load.s0'], cli);
  assert.equal(loadRoute.instances.length, 3);
  const loadNode = await eventually('ZooKeeper has the three enabled Load.s0 instances', async () => {
    const text = await readZNode(zk.connectString, '/msec/nameservice/Load/s0');
    const json = text ? JSON.parse(text) as { version: number; IPInfo: { IP: string }[] } : undefined;
    return json && json.version === loadRoute.version ? json : undefined;
  }, 60_000);
  assert.deepEqual(loadNode.IPInfo.map((i) => i.IP).sort(), ['10.1.0.0', `10.1.0.${services}`, `10.1.0.${2 * services}`]);
});
