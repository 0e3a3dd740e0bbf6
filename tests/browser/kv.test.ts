/**
 * Browser test of the console's KV pages against a real console (`msec up`) and three real
 * agents (`msec agent` on 127.0.0.71-73) that run the redis-server instances. Drives Debian's
 * chromium: a cluster of 2 sets × 1 replica created from the "New cluster" form, its task
 * followed live until it succeeds, the layout drawn per host (4 instances, 2 masters), a
 * refusal from the console shown in the banner, a replica failed over from its box (the roles
 * swap), the task history, and the cluster deleted after its name is typed. User text (the memo)
 * is shown as text.
 * Run: node --import tsx --test tests/browser/kv.test.ts   (screenshots: tests/artifacts/)
 *
 * Stable selectors:
 *   nav       #nav-kv
 *   list      #kv-table [data-testid=kv-row][data-name][data-running=<kind>|""] with td[data-col=name|sets|instances|memory|hosts|
 *             task|memo|created|by], [data-testid=kv-link], [data-testid=kv-running][data-kind]  #kv-count #kv-refresh #kv-empty
 *   new       #kv-new #kv-new-form #kv-new-name #kv-new-sets #kv-new-replicas #kv-new-memory #kv-new-port
 *             #kv-new-hosts [data-testid=kv-new-host][data-ip] (checkboxes)  #kv-new-more (details) #kv-new-policy
 *             #kv-new-timeout #kv-new-appendonly #kv-new-memo #kv-new-submit (then the confirmation dialog)
 *   cluster   #kv-page[data-name] #kv-name #kv-state[data-state] #kv-live #kv-risks [data-testid=kv-risk]
 *             #kv-facts [data-testid=kv-fact][data-key=state|slots|keys|sets|instances|memory|port|redis|hosts|memo|created|strangers]
 *             #kv-endpoints #kv-seeds [data-testid=kv-seed]
 *   layout    #kv-layout [data-testid=kv-host][data-ip][data-masters] ([data-testid=kv-host-count])
 *             > [data-testid=kv-instance][data-addr][data-role=master|replica|down|unknown][data-set][data-placed]
 *             with [data-testid=kv-instance-set] [data-testid=kv-instance-port] [data-testid=kv-role][data-role]
 *             [data-testid=kv-stat][data-key=slots|master|keys|memory|ops|hit|lag] [data-testid=kv-instance-error]
 *             [data-testid=kv-failover][data-addr] (replicas only)
 *   task      #kv-task[data-task][data-kind][data-outcome=running|succeeded|failed] #kv-task-kind #kv-task-outcome
 *             #kv-task-duration #kv-task-summary #kv-task-error [data-testid=kv-steps] > [data-testid=kv-step][data-step][data-ok]
 *   ops       #kv-ops #kv-ops-busy #kv-recover #kv-delete (asks for the name: [data-testid=confirm-confirmName])
 *             #kv-expand-form #kv-expand-sets #kv-expand-hosts [data-testid=kv-expand-host][data-ip] #kv-expand-submit
 *             #kv-shrink-form #kv-shrink-set #kv-shrink-submit
 *   history   #kv-tasks #kv-tasks-table [data-testid=kv-task-row][data-task][data-kind][data-outcome] with td[data-col=kind|started|
 *             took|outcome|summary|error], [data-testid=kv-task-toggle], [data-testid=kv-task-detail][data-task] (its steps)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchChromium } from './chromium.ts';
import { eventually, msec, msecJson, startUp, type Started } from '../e2e/support.ts';
import { startAgent, type RunningAgent } from '../e2e/agent-support.ts';
import { killProcessesUnder } from '../e2e/release-support.ts';
import { freePortBlock } from '../e2e/kv-support.ts';

const PASSWORD = 'kv-browser-admin-pw';
const IPS = ['127.0.0.71', '127.0.0.72', '127.0.0.73'];
const NAME = 'webcache';
const HOSTILE = '<img src=x onerror="window.__xss=1">';

const home = mkdtempSync(join(tmpdir(), 'msec-kv-browser-'));
const rootOf = (ip: string) => join(home, `agent-${ip}`);
const agents = new Map<string, RunningAgent>();
let up: Started | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  for (const a of agents.values()) await a.stop('SIGKILL');
  // The instances run detached from their agents: anything still working under an agent's root goes.
  for (const ip of IPS) killProcessesUnder(rootOf(ip));
  up?.proc.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

const sel = (testid: string, key: string, value: string) => `[data-testid="${testid}"][data-${key}="${value}"]`;

/** redis-server processes working under an agent's root. */
function redisUnder(root: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if ((cwd === root || cwd.startsWith(`${root}/`)) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'redis-server') found.push(Number(pid));
    } catch { /* gone */ }
  }
  return found;
}

test('the KV in the console web UI: create 2×1 on three agents, the layout per host, fail over, delete', { timeout: 600_000 }, async (t) => {
  up = await startUp(join(home, 'console'), { MSEC_AGENT_HEARTBEAT_MS: '1000', MSEC_ADMIN_PASSWORD: PASSWORD });
  const env = { MSEC_CONSOLE: up.url, MSEC_USER: 'admin', MSEC_PASSWORD: PASSWORD, MSEC_CONFIG_DIR: join(home, 'cli') };
  for (const ip of IPS) {
    const token = msec(['agent', 'token', '--ip', ip], env);
    assert.equal(token.code, 0, token.stderr);
    agents.set(ip, await startAgent(ip, rootOf(ip), { MSEC_CONSOLE: up.url }, { token: token.stdout.trim() }));
  }
  await eventually('the three agents alive', () => {
    const listed = msecJson<{ agents: { ip: string; state: string }[] }>(['agents'], env).agents;
    return IPS.every((ip) => listed.some((a) => a.ip === ip && a.state === 'alive'));
  }, 30_000);
  const basePort = await freePortBlock(IPS);
  const agentLogs = () => IPS.map((ip) => `--- agent ${ip}:\n${agents.get(ip)?.output().slice(-3000) ?? ''}`).join('\n');
  const clusterText = () => msec(['kv', 'show', NAME, '--json'], env).stdout.slice(0, 6000);

  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
  const confirm = async (title: string, fill?: Record<string, string>) => {
    await page.locator('#confirm-title', { hasText: title }).waitFor();
    for (const [field, value] of Object.entries(fill ?? {})) await page.fill(`[data-testid="confirm-${field}"]`, value);
    await page.click('#confirm-ok');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
  };
  /** Waits for the task shown on the cluster page to end, and checks it ended as `outcome`; if not, says where it stood. */
  const taskEnds = async (kind: string, outcome = 'succeeded') => {
    const panel = page.locator(`#kv-task[data-kind="${kind}"]:not([data-outcome="running"])`);
    const why = async (what: string) => `${what}\ntask panel:\n${await page.locator('#kv-task').innerText().catch(() => '(none)')}\n`
      + `banner: ${await page.locator('#error-text').textContent()}\ncluster: ${clusterText()}\n${agentLogs()}`;
    await panel.waitFor({ timeout: 180_000 }).catch(async (err: Error) => assert.fail(await why(err.message)));
    const ended = await panel.getAttribute('data-outcome');
    if (ended !== outcome) assert.fail(await why(`the ${kind} task ended ${ended}, not ${outcome}`));
  };
  const instance = (addr: string) => page.locator(sel('kv-instance', 'addr', addr));

  await t.test('the list, empty, and the "New cluster" form: hosts picked from the agents, a confirmation, then the cluster page', async () => {
    await page.goto(`${up!.url}/#/kv`);
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#kv-empty').waitFor();
    assert.equal(await page.locator('#nav-kv').getAttribute('class'), 'active');
    for (const ip of IPS) await page.locator(sel('kv-new-host', 'ip', ip)).waitFor();

    // Nothing ticked: said so before anything is sent.
    await page.fill('#kv-new-name', NAME);
    await page.click('#kv-new-submit');
    await page.locator('#error', { hasText: 'tick the hosts' }).waitFor();
    await page.click('#error-close');

    await page.fill('#kv-new-sets', '2');
    await page.fill('#kv-new-replicas', '1');
    await page.fill('#kv-new-memory', '16mb');
    await page.fill('#kv-new-port', String(basePort));
    await page.fill('#kv-new-memo', HOSTILE);
    for (const ip of IPS) await page.check(sel('kv-new-host', 'ip', ip));
    await page.evaluate('window.__sameKvPage = true');
    await page.click('#kv-new-submit');
    await page.locator('#confirm-message', { hasText: `2 sets × 2 instance(s) (4 redis-server in all, 16mb each) started by the agents of ${IPS.join(', ')}` }).waitFor();
    await shot('kv-new.png');
    await confirm(`Create KV cluster ${NAME}?`);
    await page.locator(`#kv-page[data-name="${NAME}"]`).waitFor().catch(async (err: Error) => assert.fail(`${err.message}\nbanner: ${await page.locator('#error-text').textContent()}`));
    await page.locator('#notice', { hasText: `KV cluster ${NAME}: creation started` }).waitFor();
  });

  await t.test('the creation followed live: its steps show while it runs, and it succeeds', async () => {
    await page.locator('#kv-task[data-kind="create"][data-outcome="running"]').waitFor({ timeout: 10_000 });
    await page.locator('#kv-ops-busy').waitFor();
    assert.equal(await page.locator('#kv-delete').isDisabled(), true, 'one task at a time: the operations wait');
    await page.locator('#kv-task [data-testid="kv-step"]').first().waitFor({ timeout: 60_000 });
    await taskEnds('create');
    assert.equal(await page.evaluate('window.__sameKvPage'), true, 'followed in place, without a reload');
    assert.ok(await page.locator('#kv-task [data-testid="kv-step"]').count() >= 3, 'the task\'s steps are listed');
    assert.equal(await page.locator('#kv-task [data-testid="kv-step"][data-ok="false"]').count(), 0);
    assert.equal(await page.locator('#kv-delete').isDisabled(), false, 'the operations are back');
  });

  let replica = '';
  let master = '';
  await t.test('the layout per host: 3 hosts, 4 instances, 2 masters with all the slots, no risk', async () => {
    await page.locator('#kv-state[data-state="ok"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator(sel('kv-fact', 'key', 'slots')).innerText(), '16384 / 16384');
    assert.equal(await page.locator('[data-testid="kv-host"]').count(), 3);
    for (const ip of IPS) await page.locator(sel('kv-host', 'ip', ip)).waitFor();
    assert.equal(await page.locator('[data-testid="kv-instance"]').count(), 4);
    assert.equal(await page.locator('[data-testid="kv-instance"][data-role="master"]').count(), 2);
    assert.equal(await page.locator('[data-testid="kv-instance"][data-role="replica"]').count(), 2);
    const slots = await page.locator('[data-testid="kv-instance"][data-role="master"] [data-testid="kv-stat"][data-key="slots"] .kv-stat-value').allInnerTexts();
    assert.deepEqual(slots.map(Number).sort(), [8192, 8192]);
    for (const set of ['1', '2']) {
      const members = page.locator(`[data-testid="kv-instance"][data-set="${set}"]`);
      assert.equal(await members.count(), 2, `set ${set}: a master and a replica`);
      const hosts = await members.evaluateAll((els) => els.map((e) => e.closest('[data-testid="kv-host"]')!.getAttribute('data-ip')));
      assert.equal(new Set(hosts).size, 2, `set ${set} is on two hosts`);
    }
    // Fail over is offered on replicas only.
    assert.equal(await page.locator('[data-testid="kv-instance"][data-role="master"] [data-testid="kv-failover"]:visible').count(), 0);
    assert.equal(await page.locator('[data-testid="kv-instance"][data-role="replica"] [data-testid="kv-failover"]:visible').count(), 2);
    const box = page.locator('[data-testid="kv-instance"][data-role="replica"]').first();
    replica = String(await box.getAttribute('data-addr'));
    master = (await box.locator('[data-testid="kv-stat"][data-key="master"] .kv-stat-value').innerText()).trim();
    assert.equal(await instance(master).getAttribute('data-role'), 'master', `the replica's master ${master} is a master box`);
    assert.equal(await instance(replica).locator('[data-testid="kv-stat"][data-key="memory"] .kv-stat-value').innerText().then((s) => s.endsWith('/ 16.0 MiB')), true);

    assert.equal(await page.locator('#kv-risks').isVisible(), false, 'no risk flag');
    const seeds = await page.locator('[data-testid="kv-seed"]').allInnerTexts();
    assert.equal(seeds.length, 4);
    assert.deepEqual(new Set(seeds.slice(0, 2)), new Set(await page.locator('[data-testid="kv-instance"][data-role="master"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-addr')))), 'masters first');
    assert.equal(await page.locator(sel('kv-fact', 'key', 'memo')).innerText(), HOSTILE, 'the memo is shown as text');
    assert.equal(await page.locator('#kv-page img').count(), 0, 'and never parsed as markup');
    await shot('kv-cluster.png');
  });

  await t.test('a refusal from the console shows in the banner: the name is taken', async () => {
    await page.click('#nav-kv');
    const row = page.locator(sel('kv-row', 'name', NAME));
    await row.waitFor();
    assert.equal(await row.locator('td[data-col="sets"]').innerText(), '2');
    assert.equal(await row.locator('td[data-col="instances"]').innerText(), '4');
    assert.equal(await row.locator('td[data-col="memory"]').innerText(), '16.0 MiB');
    assert.equal(await row.locator('td[data-col="memo"]').innerText(), HOSTILE);
    assert.equal(await row.locator('td[data-col="task"]').innerText(), '—', 'no task under way');
    await shot('kv-list.png');
    await page.fill('#kv-new-name', NAME);
    await page.check(sel('kv-new-host', 'ip', IPS[0]!));
    await page.click('#kv-new-submit');
    await confirm(`Create KV cluster ${NAME}?`);
    await page.locator('#error', { hasText: 'exists already' }).waitFor();
    assert.equal(await page.inputValue('#kv-new-name'), NAME, 'the form keeps its input');
    await page.click('#error-close');
    await row.locator('[data-testid="kv-link"]').click();
    await page.locator(`#kv-page[data-name="${NAME}"]`).waitFor();
  });

  await t.test('fail over a replica from its box: the roles swap', async () => {
    assert.ok(replica && master, 'the layout named a replica and its master');
    await instance(replica).locator('[data-testid="kv-failover"]').click();
    await page.locator('#confirm-message', { hasText: `${replica} becomes the master of set` }).waitFor();
    await confirm(`Fail over to ${replica}?`);
    await page.locator('#kv-task[data-kind="failover"]').waitFor();
    await taskEnds('failover');
    await instance(replica).and(page.locator('[data-role="master"]')).waitFor({ timeout: 30_000 });
    await instance(master).and(page.locator('[data-role="replica"]')).waitFor({ timeout: 30_000 });
    assert.equal((await instance(master).locator('[data-testid="kv-stat"][data-key="master"] .kv-stat-value').innerText()).trim(), replica, 'the old master follows the new one');
    assert.equal(await instance(replica).locator('[data-testid="kv-stat"][data-key="slots"] .kv-stat-value').innerText(), '8192');
    assert.equal(await instance(replica).getAttribute('data-placed'), 'replica', 'placed as a replica, master now');
    assert.equal(await page.locator(sel('kv-fact', 'key', 'slots')).innerText(), '16384 / 16384');
    // Both masters on one host now is a risk, shown at the top; on two hosts, none is.
    const masterHosts = await page.locator('[data-testid="kv-instance"][data-role="master"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-addr')!.split(':')[0]));
    if (new Set(masterHosts).size === 1) await page.locator('[data-testid="kv-risk"]', { hasText: `2 of 2 masters are on ${masterHosts[0]}: more than half` }).waitFor();
    else assert.equal(await page.locator('#kv-risks').isVisible(), false);
    await shot('kv-failover.png');
  });

  await t.test('the task history: newest first, each opening onto its steps', async () => {
    const rows = page.locator('[data-testid="kv-task-row"]');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-outcome')}`)), ['failover:succeeded', 'create:succeeded']);
    const create = rows.nth(1);
    const id = String(await create.getAttribute('data-task'));
    const detail = page.locator(sel('kv-task-detail', 'task', id));
    assert.equal(await detail.isVisible(), false);
    await create.locator('[data-testid="kv-task-toggle"]').click();
    await detail.waitFor();
    assert.ok(await detail.locator('[data-testid="kv-step"]').count() >= 3);
    assert.match(await create.locator('td[data-col="summary"]').innerText(), /^create 2 set\(s\) × 2 instance\(s\) on /);
  });

  await t.test('delete, after the name is typed: every instance is stopped and removed by its agent', async () => {
    await page.click('#kv-delete');
    await confirm(`Delete KV cluster ${NAME}?`, { confirmName: 'not-it' });
    await page.locator('#error', { hasText: 'nothing deleted' }).waitFor();
    await page.click('#error-close');
    assert.ok(IPS.some((ip) => redisUnder(rootOf(ip)).length > 0), 'the instances still run');

    await page.click('#kv-delete');
    await confirm(`Delete KV cluster ${NAME}?`, { confirmName: NAME });
    await page.locator('#kv-empty').waitFor({ timeout: 180_000 }).catch(async (err: Error) => {
      assert.fail(`${err.message}\ntask panel:\n${await page.locator('#kv-task').innerText().catch(() => '(gone)')}\nbanner: ${await page.locator('#error-text').textContent()}\n${agentLogs()}`);
    });
    await page.locator('#notice', { hasText: `KV cluster ${NAME} deleted` }).waitFor();
    assert.equal(page.url(), `${up!.url}/#/kv`);
    await eventually('no redis-server left under the agents\' roots', () => IPS.every((ip) => redisUnder(rootOf(ip)).length === 0), 30_000);
  });

  assert.equal(await page.evaluate('window.__xss'), undefined, 'no injected script ran');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
