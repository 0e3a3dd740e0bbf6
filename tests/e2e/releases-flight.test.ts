/**
 * Releases end to end, the Flight walkthrough all through msec (issue "Releases"): IDL v1 → the
 * dev package with the seed's logic → its artifact (`npm run artifact`) → config v1 → a release
 * to agents on 127.0.0.2 and 127.0.0.3 → both instances run, are routed, and a caller by name
 * gets `success` from both; config v2 released only_config (the file on each host has it, with
 * the listen line); rollback restores v1 on every host. Then a rolling release with --enable
 * under a steady stream of idempotent calls: zero failed calls.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, msec, msecJson, msecAsync, startUp, type Started } from './support.ts';
import { startAgent, type RunningAgent } from './agent-support.ts';
import { apiToken, Children, flightProject, flightProto } from './devpack-support.ts';
import { killProcessesUnder } from './release-support.ts';
import { freePort } from '../services/processes.ts';
import { consoleRoutes, createClient } from '../../apps/rpc/index.ts';
import { MemoryCallReporter } from '../../apps/rpc/reports/simple-reporters.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-releases-'));
const children = new Children();
const agents: RunningAgent[] = [];
let up: Started | undefined;
const ips = ['127.0.0.2', '127.0.0.3'];
const agentRoot = (ip: string) => join(home, `agent-${ip}`);
after(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  for (const ip of ips) killProcessesUnder(agentRoot(ip));
  up?.proc.kill('SIGKILL');
  children.killAll();
  rmSync(home, { recursive: true, force: true });
});

type Plan = { planId: string; status: string; detail: string; hosts: { ip: string; state: string; steps: { step: string; ok: boolean; operation: string }[]; error: string; output: string }[] };
type Route = { instances: { ip: string; port: number }[] };
type HostsView = { hosts: { ip: string; installed: { config: string; artifact: string; state: string } | null; behind: string[] }[] };
type Answer = { errcode: number; errmsg: string; flightsInfo: string };
const bison = { name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' };

test('Flight.mod_flight released by msec: artifact, config v1 to two agents, only_config v2, rollback, a rolling release with no failed call', { timeout: 900_000 }, async () => {
  up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: 'releases-admin-pass' });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: 'releases-admin-pass', MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const refused = (args: string[], pattern: RegExp) => {
    const r = msec(args, env);
    assert.notEqual(r.code, 0, `msec ${args.join(' ')} must fail`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('usage: ')).length, 1, `one line on stderr (besides the usage line of a usage error): ${r.stderr}`);
  };
  const auditCount = () => msecJson<{ entries: unknown[] }>(['audit', '--limit', '1000'], env).entries.length;

  // The service, its two hosts (not routed yet), its IDL and config v1.
  const port = await freePort();
  ok(['service', 'create', 'Flight.mod_flight']);
  for (const ip of ips) ok(['host', 'add', 'Flight.mod_flight', `${ip}:${port}`, '--proto', 'both']);
  ok(['idl', 'put', 'Flight.mod_flight', 'v1', flightProto, '--memo', 'seed IDL']);
  writeFileSync(join(home, 'v1.ini'), '[LOG]\nLevel=INFO\n');
  writeFileSync(join(home, 'v2.ini'), '[LOG]\nLevel=DEBUG\n\n[SRPC]\nlisten=1/tcp\n');
  ok(['config', 'put', 'Flight.mod_flight', 'v1', join(home, 'v1.ini')]);
  ok(['config', 'put', 'Flight.mod_flight', 'v2', join(home, 'v2.ini')]);
  for (const ip of ips) {
    const token = ok(['agent', 'token', '--ip', ip]).stdout.trim();
    agents.push(await startAgent(ip, agentRoot(ip), { MSEC_CONSOLE: up.url }, { token }));
  }

  // The dev package with the seed's logic, built into an artifact a host with only Node runs.
  const project = await flightProject(children, env, join(home, 'flight'));
  const built = await children.run('npm', ['run', '-s', 'artifact'], { cwd: project, timeoutMs: 300_000 });
  assert.equal(built.code, 0, built.out);
  const tgz = built.out.trim().split('\n').pop()!;
  const artifactFile = tgz.startsWith('/') ? tgz : join(project, tgz);
  assert.ok(existsSync(artifactFile), `npm run artifact printed the file's path: ${built.out}`);
  ok(['artifact', 'put', 'Flight.mod_flight', 'v1', artifactFile, '--memo', 'seed logic']);
  const listed = msecJson<{ artifacts: { tag: string; sha256: string; addedBy: string }[] }>(['artifact', 'list', 'Flight.mod_flight'], env).artifacts;
  assert.deepEqual(listed.map((a) => [a.tag, a.addedBy]), [['v1', 'admin']]);

  // Bad input: one line, non-zero exit, nothing written.
  const before = auditCount();
  writeFileSync(join(home, 'not-a-tgz'), 'hello');
  refused(['artifact', 'put', 'Flight.mod_flight', 'v2', join(home, 'not-a-tgz')], /gzip tar/);
  refused(['artifact', 'put', 'Flight.mod_flight', 'v1', join(home, 'v1.ini')], /gzip tar|immutable/);
  refused(['release', 'create', 'Flight.mod_flight', '--hosts', '127.0.0.9', '--config', 'v1', '--artifact', 'v1'], /127\.0\.0\.9 is not a host of Flight\.mod_flight/);
  refused(['release', 'create', 'Flight.mod_flight', '--hosts', ips.join(','), '--config', 'v9', '--artifact', 'v1'], /no config version v9/);
  refused(['release', 'create', 'Flight.mod_flight', '--hosts', ips.join(','), '--config', 'v1', '--artifact', 'v1', '--canary', 'x'], /--canary/);
  refused(['release', 'start', '20260101000000_nosuch'], /no release plan/);
  assert.equal(auditCount(), before, 'refused requests write nothing');

  // Release v1 to both hosts, routing following the health checks.
  const first = ok(['release', 'create', 'Flight.mod_flight', '--hosts', ips.join(','), '--config', 'v1', '--idl', 'v1', '--artifact', 'v1', '--enable', '--memo', 'first release']).stdout.trim();
  const started = await msecAsync(['release', 'start', first, '--wait'], env, 300_000);
  assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
  console.log(`# release ${first}:\n${started.stdout.split('\n').map((l) => `#   ${l}`).join('\n')}`);
  for (const ip of ips) assert.match(started.stdout, new RegExp(`${ip.replaceAll('.', '\\.')}  install healthy`), 'each host\'s steps are printed as they are recorded');
  const plan1 = msecJson<Plan>(['release', 'show', first], env);
  assert.equal(plan1.status, 'succeeded');
  for (const h of plan1.hosts) {
    assert.deepEqual(h.steps.filter((s) => s.operation === 'install').map((s) => s.step), ['pushed', 'backed-up', 'stopped', 'installed', 'started', 'healthy'], `${h.ip}'s steps`);
  }
  const route = msecJson<Route>(['route', 'Flight.mod_flight'], env);
  assert.deepEqual(route.instances.map((i) => `${i.ip}:${i.port}`).sort(), ips.map((ip) => `${ip}:${port}`), 'both hosts are routed once healthy');

  // A caller by name gets success from both instances.
  const reporter = new MemoryCallReporter();
  const client = createClient({ name: 'Flight.client', routes: consoleRoutes({ url: up.url, token: await apiToken(up.url, 'releases-admin-pass'), waitSeconds: 1 }), reporter, nlb: { windowMs: 300 } });
  try {
    const flight = client.stub<{ queryFlight(r: object, o?: object): Promise<Answer> }>('Flight.mod_flight', flightProto, 'flight.flight_service');
    for (let i = 0; i < 100; i++) assert.equal((await flight.queryFlight(bison)).errmsg, 'success');
    const servedBy = new Set(reporter.records.filter((r) => r.err === 0).map((r) => r.instance.ip));
    assert.deepEqual([...servedBy].sort(), ips, 'both released instances answer');

    await eventually('both hosts report what they run', () => {
      const v = msecJson<HostsView>(['release', 'hosts', 'Flight.mod_flight'], env);
      return v.hosts.every((h) => h.installed?.config === 'v1' && h.installed.artifact === 'v1' && h.installed.state === 'running') && v;
    }, 15_000);
    // config v2 is newer than what runs: the hosts are behind on config.
    const behind = msecJson<HostsView>(['release', 'hosts', 'Flight.mod_flight'], env);
    assert.ok(behind.hosts.every((h) => h.behind.includes('config')), JSON.stringify(behind));

    // Config v2, only_config: the file on each host has it, the listen line set to the host's port.
    const second = ok(['release', 'create', 'Flight.mod_flight', '--hosts', ips.join(','), '--config', 'v2', '--type', 'only_config', '--enable', '--batch', '1']).stdout.trim();
    const done2 = await msecAsync(['release', 'start', second, '--wait'], env, 300_000);
    assert.equal(done2.code, 0, `${done2.stdout}\n${done2.stderr}`);
    const configOf = (ip: string) => readFileSync(join(agentRoot(ip), 'msec', 'Flight', 'mod_flight', 'etc', 'config.ini'), 'utf8');
    for (const ip of ips) {
      assert.match(configOf(ip), /Level=DEBUG/);
      assert.match(configOf(ip), new RegExp(`^listen=${port}/tcp ${port}/udp$`, 'm'));
      assert.doesNotMatch(configOf(ip), /listen=1\/tcp/, 'the version\'s own listen line is replaced by the host\'s port');
    }
    assert.equal((await flight.queryFlight(bison)).errmsg, 'success');

    // Rollback restores v1 on every host.
    const rolled = await msecAsync(['release', 'rollback', second, '--wait', '--reason', 'debug logs too loud'], env, 300_000);
    assert.equal(rolled.code, 0, `${rolled.stdout}\n${rolled.stderr}`);
    assert.equal(msecJson<Plan>(['release', 'show', second], env).status, 'rolled_back');
    for (const ip of ips) {
      assert.match(configOf(ip), /Level=INFO/, `${ip} is back on config v1`);
      assert.match(configOf(ip), new RegExp(`^listen=${port}/tcp ${port}/udp$`, 'm'));
    }
    assert.equal((await flight.queryFlight(bison)).errmsg, 'success');

    // One plan at a time per service.
    const third = ok(['release', 'create', 'Flight.mod_flight', '--hosts', ips.join(','), '--config', 'v1', '--artifact', 'v1', '--enable', '--batch', '1', '--drain', '2']).stdout.trim();
    const blocked = ok(['release', 'create', 'Flight.mod_flight', '--hosts', ips[0]!, '--config', 'v1', '--type', 'only_config']).stdout.trim();

    // A rolling release with --enable under a steady stream of idempotent calls: none fails.
    let calls = 0;
    let failures = 0;
    const errors: string[] = [];
    let stop = false;
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        calls++;
        try {
          // 5 s, not MSEC's 800 ms: what is measured is routing during the release, not a CI box's CPU starvation.
          const a = await flight.queryFlight(bison, { idempotent: true, timeoutMs: 5000 });
          if (a.errmsg !== 'success') throw new Error(a.errmsg);
        } catch (err) {
          failures++;
          errors.push((err as Error).message);
        }
      }
    }));
    await new Promise((r) => setTimeout(r, 500));
    ok(['release', 'start', third]);
    const refusedStart = msec(['release', 'start', blocked], env);
    assert.notEqual(refusedStart.code, 0);
    assert.match(refusedStart.stderr, new RegExp(`release plan ${third} of Flight\\.mod_flight is under way`));
    const rolling = await msecAsync(['release', 'wait', third], env, 300_000);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await load;
    console.log(`# rolling release ${third} (--batch 1 --enable --drain 2) under load: ${calls} calls, ${failures} failed${errors.length ? ` (${[...new Set(errors)].slice(0, 3).join('; ')})` : ''}`);
    assert.equal(rolling.code, 0, `${rolling.stdout}\n${rolling.stderr}`);
    assert.equal(failures, 0, `no call fails during a rolling release with --enable (${[...new Set(errors)].slice(0, 5).join('; ')})`);
    assert.ok(calls > 200, `the load ran throughout (${calls} calls)`);
    // The routes are whole again and the pace rule lets the next plan start.
    assert.equal(msecJson<Route>(['route', 'Flight.mod_flight'], env).instances.length, 2);
    const next = await msecAsync(['release', 'start', blocked, '--wait'], env, 300_000);
    assert.equal(next.code, 0, next.stderr);
  } finally {
    await client.close();
  }
});
