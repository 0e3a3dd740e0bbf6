/**
 * Browser test of the console's host-agent pages (#/hosts, #/capacity, the agent column of a
 * service's hosts) against the real console started in-process with up(), and real agent
 * processes (`msec agent`) enrolled with tokens made on the page. Drives Debian's chromium.
 * Run: node --import tsx --test tests/browser/agents.test.ts   (screenshots: tests/artifacts/)
 *
 * Stable selectors (besides those listed in console.test.ts):
 *   nav         #nav-hosts #nav-capacity
 *   hosts       #hosts-summary #hosts-refresh  #agents-table  #agents-empty
 *               [data-testid=agent-row][data-ip][data-state] with td[data-col=ip|hostname|state|seen|cpu|mem|load|
 *               procs|disk|agent|actions], [data-testid=agent-state|agent-version|agent-key], agent-processes, agent-exec, agent-revoke
 *   enrol       #agent-token-form #agent-token-ip #agent-token-ttl #agent-token-reason #agent-token-submit
 *               #agent-token-result #agent-token-value (shown once) #agent-token-command #agent-token-done
 *   exec        #exec-panel[data-ip] #exec-form #exec-command #exec-timeout #exec-reason #exec-submit #exec-close
 *               #exec-sent #exec-output #exec-status[data-status=waiting|running|completed|refused|error]
 *               #exec-exit[data-exit-code]
 *   processes   #processes-panel[data-ip][data-loaded-ip] #processes-summary #processes-filter #processes-refresh
 *               #processes-table [data-testid=process-row][data-pid] with td[data-col=command]
 *   keys        #keys #keys-rotate #keys-table [data-testid=key-row][data-key-id] with [data-testid=key-current],
 *               [data-testid=key-agents]  #keys-behind
 *   capacity    #capacity-table [data-testid=capacity-row][data-service] with td[data-col=hosts|enabled|agents|alive|
 *               down|cpu|mem|detail], [data-testid=capacity-host][data-ip][data-state]
 *   service     [data-testid=host-row] [data-testid=host-agent][data-state=alive|down|revoked|unknown|no agent]
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { pino } from 'pino';
import { ARTIFACTS, launchChromium } from './chromium.ts';
import { up } from '../../apps/console/up.ts';

const PASSWORD = 'agents-browser-admin-pw';
const SERVICE = 'Flight.mod_flight';
const HOSTILE = '<img src=x onerror="window.__xss=1"><b>bold</b>';

const row = (testid: string, key: string, value: string) => `[data-testid="${testid}"][data-${key}="${value}"]`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('host agents in the console web UI, with real agent processes', { timeout: 240_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'msec-agents-browser-'));
  process.env.MSEC_ADMIN_PASSWORD = PASSWORD;
  process.env.MSEC_AGENT_HEARTBEAT_MS = '1000';
  const server = await up({ home, port: 0, logger: pino({ level: 'silent' }) });
  const agents = new Map<string, { child: ChildProcess; log: string[] }>();
  const extra: ChildProcess[] = [];
  const browser = await launchChromium().catch(async (err) => {
    await server.close();
    throw err;
  });
  t.after(async () => {
    await browser.close();
    for (const c of [...[...agents.values()].map((a) => a.child), ...extra]) await stopProcess(c);
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  const apiAs = (user: string, password: string) => async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
  };
  const apiCall = apiAs('admin', PASSWORD);

  /** `msec agent` as its own process, the way an operator starts it on a host. */
  const startAgent = (ip: string, token: string) => {
    const log: string[] = [];
    const child = spawn(process.execPath, ['apps/cli/bin.mjs', 'agent', '--ip', ip, '--root', join(home, `agent-${ip}`), '--token', token,
      '--heartbeat', '1', '--route-port', '0'], { env: { ...process.env, MSEC_CONSOLE: server.url, MSEC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    agents.set(ip, { child, log });
    return child;
  };
  const agentLog = (ip: string) => agents.get(ip)?.log.join('').slice(-2000) ?? '';

  const login = async (page: Page, user: string, password: string) => {
    await page.goto(`${server.url}/#/hosts`);
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.locator('#whoami', { hasText: user }).waitFor();
  };

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
  const agentRow = (ip: string) => page.locator(row('agent-row', 'ip', ip));
  const confirm = async () => {
    await page.locator('#confirm').waitFor();
    await page.click('#confirm-ok');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
  };
  /** Runs a line from the page; waits until it is sent, and for the exit code when one is given. */
  const runOnPage = async (line: string, exitCode?: number) => {
    await page.fill('#exec-command', line);
    await page.click('#exec-submit');
    await page.locator('#exec-sent', { hasText: `$ ${line}   (command ` }).waitFor();
    if (exitCode !== undefined) await page.locator(`#exec-exit[data-exit-code="${exitCode}"]`).waitFor();
  };

  await t.test('enrol from the page: the token is shown once with the command line, the agent appears alive with load by itself', async () => {
    await login(page, 'admin', PASSWORD);
    await page.click('#nav-hosts');
    await page.locator('#agents-empty').waitFor();
    await page.evaluate('window.__sameDocument = true');
    await page.fill('#agent-token-ip', '127.0.0.2');
    await page.fill('#agent-token-reason', 'browser test: new host');
    await page.click('#agent-token-submit');
    const token = await page.inputValue('#agent-token-value');
    assert.match(token, /^msec-agent\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    const line = await page.inputValue('#agent-token-command');
    assert.equal(line, `MSEC_CONSOLE='${server.url}' msec agent --ip '127.0.0.2' --root /var/lib/msec-agent --token '${token}'`);
    await shot('hosts-token.png');

    startAgent('127.0.0.2', token);
    const alive = agentRow('127.0.0.2').and(page.locator('[data-state="alive"]'));
    await alive.waitFor({ timeout: 30_000 }).catch((err) => assert.fail(`${err.message}\nagent log: ${agentLog('127.0.0.2')}`));
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the row appeared by the page refreshing itself, not by a reload');
    await alive.locator('td[data-col="procs"]', { hasText: /^\d+$/ }).waitFor();
    assert.match(await alive.locator('td[data-col="cpu"]').innerText(), /^\s*\d+\.\d %$/);
    assert.match(String(await alive.locator('td[data-col="cpu"]').getAttribute('title')), /^\d+ CPUs$/);
    assert.match(await alive.locator('td[data-col="mem"]').innerText(), /^\s*\d+\.\d %$/);
    assert.match(await alive.locator('td[data-col="load"]').innerText(), /^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    assert.ok(Number(await alive.locator('td[data-col="procs"]').innerText()) > 0, 'the heartbeat counts processes');
    assert.match(await alive.locator('td[data-col="seen"]').innerText(), /^\d+ s ago$/);
    await page.locator('#hosts-summary', { hasText: '1 agent: 1 alive' }).waitFor();

    // Shown once: gone from the page after leaving it, and the console will not take it again.
    await page.click('#nav-services');
    await page.click('#nav-hosts');
    await agentRow('127.0.0.2').waitFor();
    assert.equal(await page.locator('#agent-token-value').count(), 0);
    assert.ok(!(await page.content()).includes(token), 'the token is nowhere in the page any more');
    assert.ok(!(await apiCall('GET', '/api/agents')).text.includes(token), 'the API does not give it back');
    const reuse = await fetch(`${server.url}/api/agents/enrol`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ip: '127.0.0.2', token, publicKey: publicKeyB64(), hostname: 'thief' }),
    });
    assert.equal(reuse.status, 403, 'a used token is refused');
    await shot('hosts.png');
  });

  await t.test('run a command from the Hosts page: output streams, then the exit code', async () => {
    await agentRow('127.0.0.2').locator('[data-testid="agent-exec"]').click();
    await page.locator('#exec-panel[data-ip="127.0.0.2"]').waitFor();
    await runOnPage('echo hi', 0);
    assert.equal(await page.locator('#exec-output').textContent(), 'hi\n');
    assert.match(await page.locator('#exec-status').innerText(), /^finished in \d+ ms$/);
    assert.equal(await page.locator('#exec-exit').innerText(), 'exit code 0');

    await runOnPage('echo one; sleep 3; echo two');
    await page.locator('#exec-status[data-status="running"]').waitFor();
    assert.equal(await page.locator('#exec-output').textContent(), 'one\n', 'the first line shows while the command still runs');
    await page.locator('#exec-exit[data-exit-code="0"]').waitFor();
    assert.equal(await page.locator('#exec-output').textContent(), 'one\ntwo\n');

    // "你" (e4 bd a0) split across two chunks of output: shown whole, not as two broken halves.
    await runOnPage("printf '\\344\\275'; sleep 2; printf '\\240 ok\\n'", 0);
    assert.equal(await page.locator('#exec-output').textContent(), '你 ok\n');

    await runOnPage('echo failing >&2; exit 3', 3);
    assert.equal(await page.locator('#exec-output').textContent(), 'failing\n');

    await runOnPage(`printf '%s\\n' '${HOSTILE}'`, 0);
    assert.equal(await page.locator('#exec-output').textContent(), `${HOSTILE}\n`, 'command output is shown as text');
    assert.equal(await page.locator('#exec-panel img, #exec-panel b').count(), 0, 'and never parsed as markup');
    await shot('hosts-exec.png');
    const audit = await apiCall('GET', '/api/audit?stream=host-127.0.0.2&limit=20');
    assert.match(audit.text, /echo one; sleep 3; echo two/, 'the audit shows what was run');
  });

  await t.test('the process view lists the host\'s processes, command lines as text', async () => {
    const sleeper = spawn('sh', ['-c', 'sleep 120', HOSTILE], { stdio: 'ignore' });
    extra.push(sleeper);
    await agentRow('127.0.0.2').locator('[data-testid="agent-processes"]').click();
    await page.locator('#processes-panel[data-loaded-ip="127.0.0.2"]').waitFor();
    const agentPid = String(agents.get('127.0.0.2')!.child.pid);
    const agentProc = page.locator(row('process-row', 'pid', agentPid));
    assert.match(await agentProc.locator('td[data-col="command"]').innerText(), /agent --ip 127\.0\.0\.2/);
    assert.match(await page.locator('#processes-summary').innerText(), /^\d+ processes$/);
    const hostile = page.locator(row('process-row', 'pid', String(sleeper.pid)));
    assert.equal(await hostile.locator('td[data-col="command"]').innerText(), `sh -c sleep 120 ${HOSTILE}`);
    assert.equal(await page.locator('#processes-table img, #processes-table b').count(), 0);
    await page.fill('#processes-filter', 'agent --ip 127.0.0.2');
    await agentProc.waitFor();
    assert.equal(await hostile.count(), 0, 'the filter hides the rest');
    await page.fill('#processes-filter', '');
    await shot('hosts-processes.png');
  });

  await t.test('a hostile host name from an enrolment is kept as host-name characters and shown as text', async () => {
    const issued = await apiCall('POST', '/api/agents/tokens', { ip: '127.0.0.9' });
    assert.equal(issued.status, 201);
    const enrol = await fetch(`${server.url}/api/agents/enrol`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ip: '127.0.0.9', token: issued.json.token, publicKey: publicKeyB64(), hostname: HOSTILE, agentVersion: '<i>9</i>' }),
    });
    assert.equal(enrol.status, 200, await enrol.text());
    const fake = agentRow('127.0.0.9');
    await fake.waitFor();
    // The control plane keeps only host-name characters of what an agent says of itself.
    assert.equal(await fake.locator('td[data-col="hostname"]').innerText(), HOSTILE.replace(/[^A-Za-z0-9._:+-]/g, '?'));
    assert.equal(await fake.locator('[data-testid="agent-version"]').innerText(), '<i>9</i>'.replace(/[^A-Za-z0-9._:+-]/g, '?'));
    assert.equal(await page.locator('#agents-table img, #agents-table b, #agents-table i').count(), 0);
  });

  await t.test('capacity per service, and the agent state of each host on the service page', async () => {
    for (const [path, body] of [['/api/services', { name: 'Flight' }], ['/api/services', { name: SERVICE, kind: 'standard', lang: 'c++' }],
      [`/api/services/${SERVICE}/hosts`, { ip: '127.0.0.2', port: 7963 }], [`/api/services/${SERVICE}/hosts`, { ip: '127.0.0.1', port: 7963 }]] as const) {
      const res = await apiCall('POST', path, body);
      assert.equal(res.status, 201, `${path}: ${res.text}`);
    }
    await page.click('#nav-capacity');
    const cap = page.locator(row('capacity-row', 'service', SERVICE));
    await cap.waitFor();
    const col = async (name: string) => (await cap.locator(`td[data-col="${name}"]`).innerText()).trim();
    assert.deepEqual([await col('hosts'), await col('agents'), await col('alive'), await col('down')], ['2', '1', '1', '0']);
    assert.match(await col('cpu'), /^\d+(\.\d)? %$/);
    await cap.locator(row('capacity-host', 'ip', '127.0.0.2')).and(page.locator('[data-state="alive"]')).waitFor();
    await cap.locator(row('capacity-host', 'ip', '127.0.0.1')).and(page.locator('[data-state="no agent"]')).waitFor();
    await shot('capacity.png');

    await cap.locator('td[data-col="service"] a').click();
    await page.locator(`#service-page[data-name="${SERVICE}"]`).waitFor();
    await page.locator(`${row('host-row', 'addr', '127.0.0.2:7963')} [data-testid="host-agent"][data-state="alive"]`).waitFor();
    await page.locator(`${row('host-row', 'addr', '127.0.0.1:7963')} [data-testid="host-agent"][data-state="no agent"]`).waitFor();
    await shot('service-agents.png');
  });

  await t.test('keys: the current key and the agents that trust it; rotating moves the agent to the new key', async () => {
    await page.click('#nav-hosts');
    const keys = await apiCall('GET', '/api/keys');
    const first = String(keys.json.current);
    const firstRow = page.locator(row('key-row', 'key-id', first));
    await firstRow.locator('[data-testid="key-current"]').waitFor();
    assert.equal(await firstRow.locator('[data-testid="key-agents"]').innerText(), '127.0.0.2');
    // The fake host enrolled but never confirmed a key: it trusts none yet.
    assert.equal(await page.locator('#keys-behind').innerText(), 'Not yet on the current key: 127.0.0.9 (trusts no key yet).');
    await page.click('#keys-rotate');
    await confirm();
    await page.locator('#notice', { hasText: 'introduced' }).waitFor();
    const second = String((await apiCall('GET', '/api/keys')).json.current);
    assert.notEqual(second, first);
    const secondRow = page.locator(row('key-row', 'key-id', second));
    await secondRow.locator('[data-testid="key-current"]').waitFor();
    await secondRow.locator('[data-testid="key-agents"]', { hasText: '127.0.0.2' }).waitFor({ timeout: 30_000 });
    await agentRow('127.0.0.2').locator('[data-testid="agent-exec"]').click();
    await runOnPage('echo after rotation', 0);
    assert.equal(await page.locator('#exec-output').textContent(), 'after rotation\n');
  });

  await t.test('a killed agent turns down on the page by itself', async () => {
    const token = String((await apiCall('POST', '/api/agents/tokens', { ip: '127.0.0.3' })).json.token);
    const child = startAgent('127.0.0.3', token);
    const third = agentRow('127.0.0.3');
    await third.and(page.locator('[data-state="alive"]')).waitFor({ timeout: 30_000 })
      .catch((err) => assert.fail(`${err.message}\nagent log: ${agentLog('127.0.0.3')}`));
    child.kill('SIGKILL');
    await third.and(page.locator('[data-state="down"]')).waitFor({ timeout: 20_000 });
    await third.locator('[data-testid="agent-state"]', { hasText: 'down' }).waitFor();
  });

  await t.test('operators run commands but do not enrol or revoke; viewers only look', async () => {
    for (const [name, role] of [['ops', 'operator'], ['watcher', 'viewer']]) {
      assert.equal((await apiCall('POST', '/api/users', { name, password: `${name}-password-123`, role })).status, 201);
    }
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      for (const [name, canRun] of [['ops', true], ['watcher', false]] as const) {
        const other = await context.newPage();
        await login(other, name, `${name}-password-123`);
        const r = other.locator(row('agent-row', 'ip', '127.0.0.2'));
        await r.waitFor();
        assert.equal(await r.locator('[data-testid="agent-exec"]').count(), canRun ? 1 : 0, `${name}: run command`);
        assert.equal(await r.locator('[data-testid="agent-processes"]').count(), canRun ? 1 : 0, `${name}: processes`);
        assert.equal(await r.locator('[data-testid="agent-revoke"]').count(), 0, `${name}: revoke`);
        assert.equal(await other.locator('#agent-token-form, #keys-rotate').count(), 0, `${name}: token and rotate`);
        await other.click('#logout');
        await other.close();
        const as = apiAs(name, `${name}-password-123`);
        assert.equal((await as('POST', '/api/agents/tokens', { ip: '127.0.0.4' })).status, 403, `${name}: the API refuses tokens too`);
        assert.equal((await as('POST', '/api/agents/127.0.0.2/commands', { action: 'ps' })).status, canRun ? 201 : 403);
      }
    } finally {
      await context.close();
    }
  });

  await t.test('revoke from the page: the agent is marked revoked and refused', async () => {
    const r = agentRow('127.0.0.2');
    await r.locator('[data-testid="agent-revoke"]').click();
    await page.fill('#confirm-reason', 'browser test: host retired');
    await confirm();
    await r.and(page.locator('[data-state="revoked"]')).waitFor();
    assert.equal(await r.locator('[data-testid="agent-state"]').innerText(), 'revoked');
    assert.equal(await r.locator('[data-testid="agent-exec"], [data-testid="agent-revoke"]').count(), 0, 'nothing more to do with it');
    assert.equal(await page.locator('#exec-panel').isVisible(), false, 'the open command panel of the revoked host is closed');
    const refused = await apiCall('POST', '/api/agents/127.0.0.2/commands', { action: 'exec', argv: ['true'] });
    assert.equal(refused.status, 409);
    await sleep(3500); // a refresh or more later, it is still revoked (heartbeats no longer count)
    assert.equal(await r.getAttribute('data-state'), 'revoked');
    const view = ((await apiCall('GET', '/api/agents')).json.agents as { ip: string; secondsSinceSeen: number | null }[]).find((a) => a.ip === '127.0.0.2');
    assert.ok((view?.secondsSinceSeen ?? 0) >= 3, `the revoked agent's heartbeats are no longer taken (last seen ${view?.secondsSinceSeen} s ago)\n${agentLog('127.0.0.2')}`);
    await shot('hosts-revoked.png');
  });

  assert.equal(await page.evaluate('window.__xss'), undefined, 'no injected script ran');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

/** A fresh Ed25519 public key, raw 32 bytes in base64 (what an agent registers). */
function publicKeyB64(): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
