/**
 * Host agents end to end under `msec up`, as the issue asks: two agents on 127.0.0.2 and
 * 127.0.0.3, each a separate process, enrol with one-time tokens and appear alive with their
 * load; `msec exec` prints the remote output and exits with the remote code; the audit shows
 * who ran what. A service with an instance on each host, called by name: `kill -9` of one
 * agent marks its host down within three intervals and its instance stops getting calls;
 * restarted, the agent is alive again with the same key and its instance comes back.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, msec, msecJson, startUp, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { freePort } from '../services/processes.ts';
import { consoleRoutes, createClient, serve, type RpcServer } from '../../apps/rpc/index.ts';
import { MemoryCallReporter } from '../../apps/rpc/reports/simple-reporters.ts';
import { pino } from 'pino';
import { spawnSync } from 'node:child_process';

const routeLookupPy = fileURLToPath(new URL('../interop/python/route_lookup.py', import.meta.url));

const home = mkdtempSync(join(tmpdir(), 'msec-agents-'));
const flightProto = fileURLToPath(new URL('../fixtures/flight.proto', import.meta.url));
const agents: RunningAgent[] = [];
let up: Started | undefined;
after(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  up?.proc.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

type AgentView = { ip: string; state: string; agentKeyId: string; load: { cpus: number; memTotalBytes: number; processes: number } | null };
type Route = { instances: { ip: string; port: number; down?: boolean }[] };

test('two agents under msec up: enrol, alive with load, exec, audit, kill -9 and come back', { timeout: 300_000 }, async () => {
  up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: 'agents-admin-pass' });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'agents-admin-pass', MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const view = () => msecJson<{ agents: AgentView[] }>(['agents'], env).agents;

  const routePort = await freePort();
  for (const ip of ['127.0.0.2', '127.0.0.3']) {
    const token = ok(['agent', 'token', '--ip', ip]).stdout.trim();
    assert.match(token, /^msec-agent\.[0-9a-f]{16}\./);
    agents.push(await startAgent(ip, join(home, `agent-${ip}`), { MSEC_CONSOLE: up.url, MSEC_AGENT_METRICS_MS: '1000' }, { token, routePort: ip === '127.0.0.2' ? routePort : 0 }));
    const keyFile = join(home, `agent-${ip}`, 'agent', 'key.pem');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the agent key is readable by the agent alone');
  }
  const alive = await eventually('both agents alive with load', () => {
    const all = view();
    return all.length === 2 && all.every((a) => a.state === 'alive' && a.load && a.load.cpus > 0 && a.load.memTotalBytes > 0 && a.load.processes > 0) && all;
  }, 20_000);
  const keyOf3 = alive.find((a) => a.ip === '127.0.0.3')!.agentKeyId;

  // A used token is refused.
  const again = msec(['agent', 'token', '--ip', '127.0.0.2'], env);
  assert.notEqual(again.code, 0, 'no token for a host whose agent is enrolled (revoke first)');

  const hi = msec(['exec', '127.0.0.2', '--', 'sh', '-c', 'echo hi'], env);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  const three = msec(['exec', '127.0.0.3', '--', 'sh', '-c', 'echo bye; exit 3'], env);
  assert.equal(three.code, 3, 'the remote exit code');
  assert.equal(three.stdout, 'bye\n');
  const audit = msecJson<{ entries: { actor: string; type: string; summary: string }[] }>(['audit', '--stream', 'host-127.0.0.2'], env).entries;
  const issued = audit.find((e) => e.type === 'AgentCommandIssued');
  assert.equal(issued?.actor, 'admin');
  assert.match(issued!.summary, /exec #1 sent to 127\.0\.0\.2: sh -c 'echo hi'/);
  assert.ok(audit.some((e) => e.type === 'AgentCommandCompleted' && /exit 0/.test(e.summary)));

  // One instance per host, called by name through the console's routes.
  const served: Record<string, number> = { '127.0.0.2': 0, '127.0.0.3': 0 };
  const servers: RpcServer[] = [];
  const port = await freePort();
  for (const ip of ['127.0.0.2', '127.0.0.3']) {
    servers.push(await serve({
      proto: flightProto, name: 'Flight.mod_flight', listen: { host: ip, port }, logger: pino({ level: 'silent' }),
      handlers: { queryFlight: async () => { served[ip]! += 1; return { errcode: 0, errmsg: 'success', flightsInfo: ip }; } },
    }));
  }
  ok(['service', 'create', 'Flight.mod_flight']);
  for (const ip of ['127.0.0.2', '127.0.0.3']) {
    ok(['host', 'add', 'Flight.mod_flight', `${ip}:${port}`, '--proto', 'tcp']);
    ok(['host', 'enable', 'Flight.mod_flight', `${ip}:${port}`]);
  }
  const routeToken = ok(['token', 'create', '--routes', '--label', 'agents e2e']).stdout.trim();
  const client = createClient({
    name: 'Flight.client', routes: consoleRoutes({ url: up.url, token: routeToken, waitSeconds: 5 }),
    reporter: new MemoryCallReporter(), nlb: { windowMs: 300 },
  });
  const flight = client.stub<{ queryFlight(r: object): Promise<{ flightsInfo: string }> }>('Flight.mod_flight', flightProto, 'flight.flight_service');
  const callMany = async (n: number) => {
    const before = { ...served };
    for (let i = 0; i < n; i++) await flight.queryFlight({ name: 'bison', password: '123456', departureCity: 'a', destinationCity: 'b' });
    return { '127.0.0.2': served['127.0.0.2']! - before['127.0.0.2']!, '127.0.0.3': served['127.0.0.3']! - before['127.0.0.3']! };
  };
  // A Python caller resolving by name through the agent's UDP route lookup (no ZooKeeper client, no SDK).
  const pyLookup = (service: string, count: number) => {
    const r = spawnSync('python3', [routeLookupPy, '127.0.0.2', String(routePort), service, String(count)], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n');
  };
  const tally = (lines: string[]) => lines.reduce<Record<string, number>>((t, l) => ({ ...t, [l]: (t[l] ?? 0) + 1 }), {});
  const byName = tally(pyLookup('Flight.mod_flight', 200));
  console.log(`# python route lookups: ${JSON.stringify(byName)}`);
  assert.deepEqual(Object.keys(byName).sort(), [`127.0.0.2:${port} tcp`, `127.0.0.3:${port} tcp`]);
  assert.deepEqual(pyLookup('Flight.no_such', 1), ['error -2']);
  // Host metrics: sys.* of each agent under RESERVED.monitor, shown in every service on that ip (MSEC's sysmon).
  const sys = await eventually('host metrics in the monitor views', () => {
    const list = msecJson<{ names: string[]; ips: string[] }>(['metrics', 'Flight.mod_flight', '--list'], env);
    return list.names.includes('sys.cpu_percent') && list.names.includes('sys.mem_free_mb') && list.ips.includes('127.0.0.2') && list;
  }, 30_000);
  console.log(`# host metrics of Flight.mod_flight's hosts: ${sys.names.filter((n) => n.startsWith('sys.')).join(' ')}`);
  try {
    const spread = await callMany(200);
    assert.ok(spread['127.0.0.3'] > 40 && spread['127.0.0.2'] > 40, `both instances take calls: ${JSON.stringify(spread)}`);

    // kill -9 the agent of 127.0.0.3 (the service instance itself keeps running: only its host's agent is silent).
    const killedAt = Date.now();
    await agents[1]!.stop('SIGKILL');
    await eventually('127.0.0.3 is down', () => view().find((a) => a.ip === '127.0.0.3')?.state === 'down', 15_000);
    const downAfterMs = Date.now() - killedAt;
    console.log(`# 127.0.0.3 marked down ${downAfterMs} ms after its agent was killed (heartbeat 1 s, down after 3 missed)`);
    assert.ok(downAfterMs < 3 * 1000 + 3000, 'down within three intervals (plus one check)');
    await eventually('the route marks it down', () => msecJson<Route>(['route', 'Flight.mod_flight'], env).instances.find((i) => i.ip === '127.0.0.3')?.down === true);
    await new Promise((r) => setTimeout(r, 1500)); // the client's long-poll brings the table
    const whileDown = await callMany(200);
    console.log(`# calls while 127.0.0.3 is down: ${JSON.stringify(whileDown)}`);
    assert.equal(whileDown['127.0.0.3'], 0, 'no call reaches the host whose agent is down');
    await eventually('the route lookup leaves the down host out', () => Object.keys(tally(pyLookup('Flight.mod_flight', 50))).join() === `127.0.0.2:${port} tcp`, 10_000);

    // Restarted (no token needed): alive again, same key, its instance comes back gradually.
    agents[1] = await startAgent('127.0.0.3', join(home, 'agent-127.0.0.3'), { MSEC_CONSOLE: up.url });
    await eventually('127.0.0.3 alive again', () => view().find((a) => a.ip === '127.0.0.3')?.state === 'alive', 15_000);
    assert.equal(view().find((a) => a.ip === '127.0.0.3')!.agentKeyId, keyOf3, 'the agent kept its key');
    await eventually('the route takes it back', () => msecJson<Route>(['route', 'Flight.mod_flight'], env).instances.every((i) => !i.down));
    await new Promise((r) => setTimeout(r, 1500));
    const back = await eventually('calls reach 127.0.0.3 again', async () => {
      const n = await callMany(200);
      return n['127.0.0.3'] > 0 && n;
    }, 20_000);
    console.log(`# calls after it came back: ${JSON.stringify(back)}`);
    const hostAudit = msecJson<{ entries: { type: string }[] }>(['audit', '--stream', 'host-127.0.0.3'], env).entries.map((e) => e.type);
    assert.ok(hostAudit.includes('AgentDown') && hostAudit.includes('AgentUp'));
  } finally {
    await client.close();
    for (const s of servers) await s.close();
  }
});
