/**
 * The Flight walkthrough over RPC, as the issue tells it: the service, its hosts, config and
 * the seed's IDL in the console; the dev package generated, the seed's queryFlight filled in;
 * two instances as separate processes, both enabled (scale out); a client calling by name
 * gets the seed's answers and spreads the load; one instance killed with SIGKILL: no
 * idempotent call fails and its share falls to the probe share; restarted: its weight comes
 * back step by step. The calls' reports are visible with `msec events tail --topic`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, exited, msec, startUp } from './support.ts';
import { apiToken, Children, flightProject, flightProto, kill, startService } from './devpack-support.ts';
import { freePort } from '../services/zookeeper.ts';
import { consoleRoutes, createClient } from '../../apps/rpc/index.ts';
import { MemoryCallReporter } from '../../apps/rpc/reports/simple-reporters.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-flight-rpc-'));
const children = new Children();
let tailing: ChildProcess | undefined;
after(() => {
  children.killAll();
  if (tailing && tailing.exitCode === null && tailing.signalCode === null) tailing.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

type Answer = { errcode: number; errmsg: string; flightsInfo: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Flight.mod_flight over RPC: two instances, load spread, kill -9 with no failed call, recovery', { timeout: 600_000 }, async (t) => {
  const up = await startUp(join(home, 'console'));
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: up.adminPassword!, MSEC_CONFIG_DIR: join(home, 'cli') };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const client = createClient({
    name: 'Flight.client',
    routes: consoleRoutes({ url: up.url, token: await apiToken(up.url, up.adminPassword!), waitSeconds: 5 }),
    reporter: new MemoryCallReporter(),
    nlb: { windowMs: 500 },
  });
  try {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = `127.0.0.1:${portA}`;
    const b = `127.0.0.1:${portB}`;
    ok(['service', 'create', 'Flight.mod_flight', '--reason', 'flight search']);
    ok(['host', 'add', 'Flight.mod_flight', a, '--proto', 'tcp']);
    ok(['host', 'add', 'Flight.mod_flight', b, '--proto', 'tcp']);
    const config = join(home, 'config.ini');
    writeFileSync(config, '[LOG]\nLevel=INFO\n\n[SRPC]\ntimeout=800\n');
    ok(['config', 'put', 'Flight.mod_flight', 'v1', config]);
    ok(['idl', 'put', 'Flight.mod_flight', 'v1', flightProto]);

    const project = await flightProject(children, env, join(home, 'flight'));
    // As msec runs an instance: its service name, its config version, reports to the control plane's bus.
    const instanceEnv = (port: number) => ({
      MSEC_SERVICE: 'Flight.mod_flight', MSEC_LISTEN: `127.0.0.1:${port}`, MSEC_CONFIG: config,
      MSEC_HOME: join(home, 'console'), MSEC_REPORT_FLUSH_MS: '300',
    });
    await startService(children, project, instanceEnv(portA));
    let serverB = await startService(children, project, instanceEnv(portB));
    ok(['host', 'enable', 'Flight.mod_flight', a, '--reason', 'scale out']);
    ok(['host', 'enable', 'Flight.mod_flight', b, '--reason', 'scale out']);

    const flight = client.stub<{ queryFlight(r: object, o?: object): Promise<Answer> }>('Flight.mod_flight', flightProto, 'flight.flight_service');
    const bison = { name: 'bison', password: '123456', departureCity: 'sz', destinationCity: 'xz' };
    assert.deepEqual(await flight.queryFlight(bison), { errcode: 0, errmsg: 'success', flightsInfo: '{春秋航空;c8835;RMB1230}' });
    assert.deepEqual(await flight.queryFlight({ ...bison, password: 'guess' }), { errcode: -1, errmsg: 'invalid user', flightsInfo: '' });

    // Calls from 4 callers at once; every attempt (retries included) lands in the reporter.
    const attempts = (client as unknown as { reporter: MemoryCallReporter }).reporter.records;
    let failures = 0;
    let calls = 0;
    const load = async (ms: number) => {
      const until = Date.now() + ms;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          try {
            const answer = await flight.queryFlight(bison, { idempotent: true, timeoutMs: 800 });
            assert.equal(answer.errmsg, 'success');
          } catch (err) {
            // The first few in full; a loop of fast failures must not flood the report.
            if (++failures <= 10) t.diagnostic(`failed call: ${(err as Error).message}`);
          }
          calls++;
        }
      }));
    };
    const shareOf = (instance: string, since: number) => {
      const recent = attempts.filter((r) => r.at >= since);
      return { share: recent.filter((r) => `${r.instance.ip}:${r.instance.port}` === instance).length / Math.max(1, recent.length), n: recent.length };
    };

    // Both enabled: the load spreads over both.
    const mark = Date.now();
    await load(2000);
    const spread = shareOf(a, mark);
    t.diagnostic(`spread: ${(spread.share * 100).toFixed(1)} % of ${spread.n} calls on ${a}`);
    assert.ok(spread.share > 0.25 && spread.share < 0.75, `both instances serve (${a} had ${spread.share})`);
    assert.equal(failures, 0, 'no call failed while both ran');

    // SIGKILL one instance in the middle of the load.
    const killedAt = Date.now();
    const during = load(5000);
    await sleep(500);
    kill(serverB.proc, 'SIGKILL');
    await during;
    const after = shareOf(b, killedAt + 3000);
    const weights = client.routeState('Flight.mod_flight')!;
    t.diagnostic(`after kill -9: ${calls} calls, ${failures} failed; ${b} took ${(after.share * 100).toFixed(2)} % of ${after.n} attempts in the last 2.5 s; weights ${JSON.stringify(weights.weights)} dead ${JSON.stringify(weights.dead)}`);
    assert.equal(failures, 0, 'no idempotent call failed: each was retried on the live instance');
    assert.ok(after.share <= 0.03, `the dead instance gets at most the probe share (${after.share})`);
    // Dead, or (MSEC's shaping: ⌊weight × s²⌋ in the window of the kill, where a few calls still
    // succeeded) shaped down to at most 1 % and carrying its rare failures until it counts 10.
    assert.ok(weights.dead.includes(b) || (weights.weights[b] ?? 0) <= 1, `${b} is marked dead or shaped to almost nothing (${JSON.stringify(weights)})`);

    // Restart it on the same port: its weight comes back step by step.
    serverB = await startService(children, project, instanceEnv(portB));
    const seen: number[] = [];
    const recovery = load(15_000);
    for (let i = 0; i < 150; i++) {
      await sleep(100);
      const w = client.routeState('Flight.mod_flight')!.weights[b] ?? 0;
      if (seen[seen.length - 1] !== w) seen.push(w);
    }
    await recovery;
    t.diagnostic(`weights of ${b} while recovering: ${seen.join(' → ')}`);
    // From the probe share to the revival at 10 %, then +5 % of the static weight per window
    // (two windows may pass between two samples on a busy machine).
    const rising = seen.filter((w) => w > 0);
    assert.ok(rising.length >= 5, `the weight rose in several steps (${seen.join(', ')})`);
    assert.ok(rising[0]! <= 15, `it comes back at about 10 % (${seen.join(', ')})`);
    const steps = rising.slice(1).map((w, i) => w - rising[i]!);
    assert.ok(steps.every((d) => d > 0 && d <= 10 + 1e-9), `never down, never more than two 5 % steps at once (${seen.join(', ')})`);
    assert.ok(steps.filter((d) => Math.abs(d - 5) < 1e-9).length >= steps.length / 2, `mostly single 5 % steps (${seen.join(', ')})`);
    assert.equal(failures, 0, 'no call failed during the recovery');

    // The instances' reports reached the control plane's bus: call edges by the server side.
    const tail = spawn(process.execPath, [bin, 'events', 'tail', '--topic', 'msec.reports.calls', '--json', '--follow'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    tailing = tail;
    let tailed = '';
    tail.stdout!.on('data', (d) => (tailed += d));
    await sleep(1000);
    await load(1500);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !/"side":"server"/.test(tailed)) await sleep(200);
    tail.kill('SIGTERM');
    await exited(tail);
    const edges = tailed.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { value: { calls?: { side: string; caller: string; callee: string; method: string }[] } });
    const serverEdges = edges.flatMap((m) => m.value.calls ?? []).filter((e) => e.side === 'server');
    assert.ok(serverEdges.some((e) => e.caller === 'Flight.client' && e.callee === 'Flight.mod_flight' && e.method === 'flight.flight_service.queryFlight'),
      `msec events tail --topic msec.reports.calls shows the call edges:\n${tailed.slice(0, 2000)}`);
  } finally {
    await client.close();
    const stopping = performance.now();
    up.proc.kill('SIGTERM');
    await exited(up.proc, 60_000, up.output);
    const slowParts = up.output().split('\n').filter((l) => /"stopping"|still busy/.test(l));
    t.diagnostic(`the console stopped ${Math.round(performance.now() - stopping)} ms after SIGTERM${slowParts.length ? `:\n${slowParts.join('\n')}` : ''}`);
  }
});
