/**
 * The spine end to end, as a user drives it: `msec up` on a fresh home, then the CLI.
 * Covers the Flight.mod_flight walkthrough (service, hosts, scale out, config and IDL
 * versions), the audit trail, crash safety (kill -9 and restart) and replay.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, msec, msecJson, startUp } from './support.ts';

const home = mkdtempSync(join(tmpdir(), 'msec-e2e-'));
const files = mkdtempSync(join(tmpdir(), 'msec-e2e-files-'));
const flightProto = fileURLToPath(new URL('../fixtures/flight.proto', import.meta.url));
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

type Route = { service: string; version: number; instances: { ip: string; port: number; protocol: string; weight: number }[] };
type AuditEntry = { actor: string; type: string; stream: string; summary: string; reason: string; position: number };

/** Modes of everything under `dir` that anyone but the owner could read, write or enter. */
function openToOthers(dir: string): string[] {
  const open: string[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) open.push(`${path} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return open;
}

test('Flight.mod_flight: create, hosts, scale out, versions, audit, kill -9, replay', async () => {
  // A home left world-readable by an earlier version (or by hand) is closed at start.
  chmodSync(home, 0o755);
  writeFileSync(join(home, 'notes.txt'), 'left by hand', { mode: 0o644 });
  const first = await startUp(home);
  assert.deepEqual(openToOthers(home), [], 'the home folder and everything in it is private to the owner (0700/0600)');
  assert.ok(first.adminPassword, `the first start prints the generated admin password:\n${first.output()}`);
  const env = { MSEC_CONSOLE: first.url, MSEC_USER: 'admin', MSEC_PASSWORD: first.adminPassword!, MSEC_CONFIG_DIR: files };
  const ok = (args: string[]) => {
    const r = msec(args, env);
    assert.equal(r.code, 0, `msec ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  };

  try {
    ok(['service', 'create', 'Flight.mod_flight', '--reason', 'flight search walkthrough']);
    ok(['host', 'add', 'Flight.mod_flight', '127.0.0.11:7963', '--proto', 'both']);
    ok(['host', 'add', 'Flight.mod_flight', '127.0.0.12:7963']);
    ok(['host', 'enable', 'Flight.mod_flight', '127.0.0.11:7963', '--reason', 'scale out']);
    writeFileSync(join(files, 'v1.ini'), '[LOG]\nLevel=INFO\n');
    writeFileSync(join(files, 'v2.ini'), '[LOG]\nLevel=DEBUG\n\n[COLOR]\nFieldName1=ReqID\nFieldValue1=42\n');
    ok(['config', 'put', 'Flight.mod_flight', 'v1', join(files, 'v1.ini'), '--memo', 'first']);
    ok(['config', 'put', 'Flight.mod_flight', 'v2', join(files, 'v2.ini'), '--memo', 'debug logs']);
    ok(['idl', 'put', 'Flight.mod_flight', 'v1', flightProto, '--memo', 'seed IDL']);

    // Bad input: one clear line, non-zero exit, nothing written.
    const before = msecJson<{ entries: AuditEntry[] }>(['audit'], env).entries.length;
    const dup = msec(['host', 'add', 'Flight.mod_flight', '127.0.0.12:7963'], env);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /127\.0\.0\.12:7963/);
    assert.equal(dup.stderr.trim().split('\n').length, 1, 'one line on stderr');
    const badName = msec(['service', 'create', 'Flight.mod-flight!'], env);
    assert.notEqual(badName.code, 0);
    const badProto = join(files, 'bad.proto');
    writeFileSync(badProto, 'message X { required string = 1; }');
    const badIdl = msec(['idl', 'put', 'Flight.mod_flight', 'v2', badProto], env);
    assert.notEqual(badIdl.code, 0);
    assert.match(badIdl.stderr, /line/i);
    assert.equal(msecJson<{ entries: AuditEntry[] }>(['audit'], env).entries.length, before, 'refused commands write nothing');

    // Routing: exactly the enabled host.
    const route = msecJson<Route>(['route', 'Flight.mod_flight'], env);
    assert.deepEqual(route.instances, [{ ip: '127.0.0.11', port: 7963, protocol: 'both', weight: 100 }]);

    // Config and IDL read back byte for byte.
    assert.equal(ok(['config', 'get', 'Flight.mod_flight', 'v2']).stdout, readFileSync(join(files, 'v2.ini'), 'utf8'));
    assert.equal(ok(['idl', 'get', 'Flight.mod_flight', 'v1']).stdout, readFileSync(flightProto, 'utf8'));

    // Audit: every action, by admin, with the reason where one was given.
    const audit = msecJson<{ entries: AuditEntry[] }>(['audit', '--actor', 'admin'], env).entries;
    const types = audit.map((e) => e.type).reverse();
    for (const t of ['ChildServiceLinked', 'ServiceCreated', 'HostAdded', 'HostEnabled', 'ConfigVersionAdded', 'IdlVersionAdded']) {
      assert.ok(types.includes(t), `audit has ${t}: ${types.join(',')}`);
    }
    assert.ok(audit.every((e) => e.actor === 'admin'));
    assert.equal(audit.filter((e) => e.type === 'HostAdded').length, 2);
    assert.equal(audit.filter((e) => e.type === 'ConfigVersionAdded').length, 2);
    assert.equal(audit.find((e) => e.type === 'HostEnabled')!.reason, 'scale out');
    assert.equal(audit.find((e) => e.type === 'ServiceCreated')!.reason, 'flight search walkthrough');
    const systemEntries = msecJson<{ entries: AuditEntry[] }>(['audit', '--actor', 'system'], env).entries;
    assert.ok(systemEntries.some((e) => e.stream === 'service-RESERVED.monitor'), 'RESERVED.monitor exists from the start');

    // Time travel: the routing table and the service as they were before a weight change,
    // and the audit saying what the change replaced.
    const weighted = msecJson<{ position: number }>(['host', 'weight', 'Flight.mod_flight', '127.0.0.11:7963', '300'], env).position;
    const routeThen = msecJson<Route & { at: { position: number; time: string } }>(['route', 'Flight.mod_flight', '--at', String(weighted - 1)], env);
    assert.deepEqual(routeThen.instances.map((i) => i.weight), [100]);
    assert.equal(routeThen.at.position, weighted - 1);
    assert.deepEqual(msecJson<Route>(['route', 'Flight.mod_flight'], env).instances.map((i) => i.weight), [300]);
    const byTime = msecJson<Route & { at: { position: number } }>(['route', 'Flight.mod_flight', '--at', routeThen.at.time], env);
    assert.ok(byTime.at.position <= weighted - 1 && byTime.instances[0]!.weight === 100, `--at ${routeThen.at.time} answered ${JSON.stringify(byTime)}`);
    assert.match(ok(['service', 'show', 'Flight.mod_flight', '--at', String(weighted - 1)]).stdout, /127\.0\.0\.11 +7963 +both +100 +enabled[\s\S]*as of position \d+ \(/);
    const [change] = msecJson<{ entries: AuditEntry[] }>(['audit', '--type', 'HostWeightSet'], env).entries;
    assert.equal(change!.summary, 'host 127.0.0.11:7963 weight set to 300 (was 100) on Flight.mod_flight');
    for (const bad of [['--at', 'tomorrow'], ['--at', String(weighted + 1000)], ['--at', '2999-01-01T00:00:00Z']]) {
      const r = msec(['route', 'Flight.mod_flight', ...bad], env);
      assert.equal(r.code, 1, `route ${bad.join(' ')}: ${r.stdout}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
      assert.match(r.stderr, /^msec: .*(neither a position nor a time|after the end of the log|in the future)/);
    }

    const snapshot = () => ({
      tree: msecJson(['service', 'list'], env),
      service: msecJson(['service', 'show', 'Flight.mod_flight'], env),
      route: msecJson(['route', 'Flight.mod_flight'], env),
      configs: msecJson(['config', 'list', 'Flight.mod_flight'], env),
      idls: msecJson(['idl', 'list', 'Flight.mod_flight'], env),
      audit: msecJson(['audit', '--limit', '1000'], env),
    });
    const state = snapshot();

    // kill -9, start again on the same home: identical state, no new admin password.
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    const second = await startUp(home);
    try {
      assert.equal(second.adminPassword, undefined, 'the admin password is printed on the first start only');
      const env2 = { ...env, MSEC_CONSOLE: second.url };
      const again = (() => {
        Object.assign(env, env2);
        return snapshot();
      })();
      assert.deepEqual(again, state);

      // Replay the routing projection from position 0: the same table.
      const replay = msecJson<{ identical: boolean; events: number }>(['replay', 'routing'], env);
      assert.equal(replay.identical, true);
      assert.ok(replay.events >= 10, `replayed ${replay.events} events`);
      assert.deepEqual(msecJson<Route>(['route', 'Flight.mod_flight'], env), state.route);
      const auditReplay = msecJson<{ identical: boolean }>(['replay', 'audit'], env);
      assert.equal(auditReplay.identical, true);
      assert.equal(msec(['replay', 'nosuch'], env).code, 1);

      // A lost admin password is reset on the console host, while the console runs.
      const reset = msec(['reset-password', 'admin', '--home', home, '--password', 'a-new-admin-pass'], {});
      assert.equal(reset.code, 0, reset.stderr);
      const withNew = { ...env, MSEC_PASSWORD: 'a-new-admin-pass' };
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = msec(['route', 'Flight.mod_flight'], withNew).code === 0;
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'the running console accepts the reset password');
      assert.equal(msec(['route', 'Flight.mod_flight'], env).code, 3, 'the old password no longer works');
      const resetAudit = msecJson<{ entries: AuditEntry[] }>(['audit', '--stream', 'user-admin'], withNew).entries[0]!;
      assert.equal(resetAudit.type, 'PasswordChanged');
      assert.equal(resetAudit.actor, 'system');
    } finally {
      second.proc.kill('SIGTERM');
      await exited(second.proc);
    }
  } finally {
    first.proc.kill('SIGKILL');
  }
});
