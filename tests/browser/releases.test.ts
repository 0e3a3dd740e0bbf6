/**
 * Browser test of the console's release pages against the real console started in-process
 * with up(), and two real agent processes (`msec agent` on 127.0.0.2 and 127.0.0.3) that install
 * what the plans release. Drives Debian's chromium: an artifact uploaded on the service page,
 * the release wizard, the live plan page until it succeeds, the plan list, a rollback, a release
 * that fails on its host (error and agent output shown), the capacity wizard (take a host out,
 * add it back) and the "behind the latest" flags. User text (memos, agent output) is shown as text.
 * Run: node --import tsx --test tests/browser/releases.test.ts   (screenshots: tests/artifacts/)
 *
 * Stable selectors (besides those listed in console.test.ts and agents.test.ts):
 *   nav         #nav-releases
 *   service     #service-release (a: the wizard)  #service-releases (a: its plans)
 *   artifacts   #artifacts #artifacts-summary #artifacts-table [data-testid=artifact-row][data-tag] with td[data-col=tag|memo|size|
 *               sha256|file|added|by], [data-testid=artifact-download] (a[href]), [data-testid=artifact-delete]
 *               #upload-artifact (details) #upload-artifact-form #upload-artifact-tag #upload-artifact-memo #upload-artifact-file
 *               #upload-artifact-reason #upload-artifact-submit
 *   libraries   #libraries #libraries-summary #libraries-table [data-testid=library-row][data-name] with td[data-col=name|memo|size|
 *               sha256|added|by], [data-testid=library-download], [data-testid=library-delete]
 *               #upload-library (details) #upload-library-form #upload-library-name #upload-library-memo #upload-library-file
 *               #upload-library-reason #upload-library-submit
 *   installed   #installed #installed-latest #installed-refresh #installed-refresh-button #installed-table
 *               [data-testid=installed-row][data-addr=ip:port][data-state=running|…|not installed][data-behind=config,artifact|…]
 *               with td[data-col=addr|routed|agent|state|config|idl|artifact|restarts|since|plan|behind],
 *               [data-testid=installed-behind][data-what], [data-testid=installed-current]
 *   scale       (the capacity wizard, on the service page)  #capacity-wizard
 *               #scale-add-form #scale-add-ips #scale-add-port #scale-add-template (select of plans) #scale-add-reason #scale-add-submit
 *               #scale-remove-form [data-testid=scale-remove-host][data-ip] (checkboxes) #scale-remove-drain #scale-remove-submit
 *               #scale-remove-result
 *   wizard      #release-wizard[data-service][data-step=hosts|versions|rollout|confirm]  #wizard-steps li[data-step]
 *               (#wizard-service #wizard-service-next when no service is named)
 *               hosts: #wizard-hosts #wizard-hosts-all [data-testid=wizard-host][data-addr] (checkboxes), [data-testid=wizard-host-row]
 *               versions: #wizard-type #wizard-config #wizard-idl #wizard-artifact #wizard-libraries
 *               rollout: #wizard-canary #wizard-canary-auto #wizard-batch #wizard-health-timeout #wizard-enable #wizard-auto-rollback
 *               #wizard-memo #wizard-reason
 *               confirm: #wizard-summary [data-testid=wizard-summary-item][data-key=service|hosts|type|config|idl|artifact|libraries|
 *               rollout|enable|autoRollback|healthTimeout|memo]  #wizard-created (#wizard-created-link)
 *               #wizard-back #wizard-next #wizard-submit
 *   plan        #plan-page[data-plan] #plan-id #plan-status[data-status] #plan-live #plan-detail #plan-service #plan-service-releases
 *               #plan-summary [data-testid=plan-fact][data-key=service|type|config|idl|artifact|libraries|rollout|enable|
 *               autoRollback|memo|created|started|ended]
 *               #plan-actions #plan-start #plan-pause #plan-resume #plan-cancel #plan-rollback (shown by the plan's state)
 *               #plan-hosts [data-testid=plan-host][data-ip][data-state=waiting|installing|installed|failed|rolling-back|
 *               rolled-back|rollback-failed] with td[data-col=addr|state|step|error];
 *               [data-testid=plan-host-detail][data-ip] with [data-testid=plan-host-steps] > [data-testid=plan-step][data-step]
 *               [data-operation][data-ok], and the agent's output pre[data-testid=plan-host-output][data-ip]
 *   releases    #releases-table [data-testid=release-row][data-plan][data-status][data-service] with td[data-col=plan|service|type|
 *               status|hosts|versions|memo|created|by|failed], [data-testid=release-link]  #releases-service (filter)
 *               #releases-new #releases-count #releases-refresh #releases-empty
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { pino } from 'pino';
import { ARTIFACTS, launchChromium } from './chromium.ts';
import { up } from '../../apps/console/up.ts';
import { freePort } from '../services/processes.ts';

const PASSWORD = 'releases-browser-admin-pw';
const SERVICE = 'Flight.mod_flight';
const IPS = ['127.0.0.2', '127.0.0.3'];
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const START = '#!/bin/sh\nexec node -e "require(\'net\').createServer(s=>s.end(\'ok\')).listen(process.env.MSEC_LISTEN.split(\':\')[1], process.env.MSEC_LISTEN.split(\':\')[0])"\n';

const row = (testid: string, key: string, value: string) => `[data-testid="${testid}"][data-${key}="${value}"]`;

test('releases in the console web UI, carried out by real agents', { timeout: 420_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'msec-releases-browser-'));
  process.env.MSEC_ADMIN_PASSWORD = PASSWORD;
  process.env.MSEC_AGENT_HEARTBEAT_MS = '1000';
  const server = await up({ home, port: 0, logger: pino({ level: 'silent' }) });
  const agents = new Map<string, { child: ChildProcess; log: string[] }>();
  const agentRoot = (ip: string) => join(home, `agent-${ip}`);
  const browser = await launchChromium().catch(async (err) => {
    await server.close();
    throw err;
  });
  t.after(async () => {
    await browser.close();
    for (const a of agents.values()) await stopProcess(a.child);
    // The services the agents started run detached, in their own process groups: killed by the
    // pids the agents recorded, then anything still running from under their roots.
    for (const ip of IPS) killServicesOf(agentRoot(ip));
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
  };
  const agentLogs = () => IPS.map((ip) => `--- agent ${ip}:\n${agents.get(ip)?.log.join('').slice(-3000) ?? ''}`).join('\n');

  // The service, its two hosts (disabled), config v1, and agents on both hosts.
  const port = await freePort();
  const setup: [string, string, unknown][] = [
    ['POST', '/api/services', { name: 'Flight' }],
    ['POST', '/api/services', { name: SERVICE, kind: 'standard', lang: 'javascript', port }],
    ...IPS.map((ip): [string, string, unknown] => ['POST', `/api/services/${SERVICE}/hosts`, { ip, port }]),
    ['PUT', `/api/services/${SERVICE}/configs/v1`, { text: '[LOG]\nLevel=INFO\n\n[COLOR]\n', memo: 'first config' }],
  ];
  for (const [method, path, body] of setup) {
    const res = await api(method, path, body);
    assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${res.text}`);
  }
  for (const ip of IPS) {
    const issued = await api('POST', '/api/agents/tokens', { ip });
    assert.equal(issued.status, 201, issued.text);
    const log: string[] = [];
    const child = spawn(process.execPath, ['apps/cli/bin.mjs', 'agent', '--ip', ip, '--root', agentRoot(ip), '--token', String(issued.json.token),
      '--heartbeat', '1', '--route-port', '0'], { env: { ...process.env, MSEC_CONSOLE: server.url, MSEC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    agents.set(ip, { child, log });
  }
  await eventually('both agents alive', async () => {
    const listed = (await api('GET', '/api/agents')).json.agents as { ip: string; state: string }[];
    return IPS.every((ip) => listed.some((a) => a.ip === ip && a.state === 'alive'));
  }, 30_000, agentLogs);

  // The artifact: an executable `start` at the top of a .tgz, serving "ok" on MSEC_LISTEN.
  const src = join(home, 'artifact-src');
  mkdirSync(src);
  writeFileSync(join(src, 'start'), START);
  chmodSync(join(src, 'start'), 0o755);
  const tgz = join(home, 'mod_flight-a1.tgz');
  const tar = spawnSync('tar', ['czf', tgz, '-C', src, 'start'], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  // A build that dies at once, saying why on stderr (in markup, which the page shows as text).
  writeFileSync(join(src, 'start'), `#!/bin/sh\necho 'boom ${HOSTILE}' >&2\nexit 3\n`);
  const broken = join(home, 'mod_flight-broken.tgz');
  assert.equal(spawnSync('tar', ['czf', broken, '-C', src, 'start']).status, 0);
  const library = join(home, 'libhello.so');
  writeFileSync(library, 'not really a shared object\n');

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
  const confirm = async (reason?: string) => {
    await page.locator('#confirm').waitFor();
    if (reason) await page.fill('#confirm-reason', reason);
    await page.click('#confirm-ok');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
  };
  const openService = async () => {
    const url = `${server.url}/#/services/${SERVICE}`;
    if (page.url() === url) await page.reload();
    else await page.goto(url);
    await page.locator(`#service-page[data-name="${SERVICE}"]`).waitFor();
  };
  /** Uploads from the service page's form (opened first when closed). */
  const uploadArtifact = async (tag: string, file: string) => {
    if (await page.locator('#upload-artifact').getAttribute('open') === null) await page.click('#upload-artifact summary');
    await page.fill('#upload-artifact-tag', tag);
    await page.setInputFiles('#upload-artifact-file', file);
    await page.click('#upload-artifact-submit');
    await page.locator(row('artifact-row', 'tag', tag)).waitFor();
  };
  const waitPlan = async (p: Page, status: string) => {
    await p.locator(`#plan-status[data-status="${status}"]`).waitFor({ timeout: 120_000 }).catch(async (err) => {
      const id = await p.locator('#plan-page').getAttribute('data-plan').catch(() => null);
      const plan = id ? (await api('GET', `/api/releases/${id}`)).text : '(no plan page)';
      assert.fail(`${err.message}\nplan: ${plan}\n${agentLogs()}`);
    });
  };
  let firstPlan = '';

  await t.test('the service page: upload an artifact and a library file, download and delete them; hosts run nothing yet', async () => {
    await page.goto(`${server.url}/#/services/${SERVICE}`);
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator(`#service-page[data-name="${SERVICE}"]`).waitFor();
    for (const ip of IPS) await page.locator(row('installed-row', 'addr', `${ip}:${port}`)).and(page.locator('[data-behind="not installed"]')).waitFor();
    assert.equal(await page.locator('#installed-latest').innerText(), 'latest: config v1, artifact —');

    // No artifact yet: the upload form is open.
    assert.equal(await page.locator('#upload-artifact').getAttribute('open'), '');
    await page.fill('#upload-artifact-tag', 'a1');
    await page.fill('#upload-artifact-memo', HOSTILE);
    await page.setInputFiles('#upload-artifact-file', tgz);
    await page.fill('#upload-artifact-reason', 'browser test: first build');
    await page.click('#upload-artifact-submit');
    const a1 = page.locator(row('artifact-row', 'tag', 'a1'));
    await a1.waitFor();
    await page.locator('#notice', { hasText: 'Uploaded artifact a1' }).waitFor();
    assert.equal(await a1.locator('td[data-col="memo"]').innerText(), HOSTILE, 'the memo is shown as text');
    assert.equal(await page.locator('#artifacts-table img').count(), 0, 'and never parsed as markup');
    assert.equal(await a1.locator('td[data-col="file"]').innerText(), 'mod_flight-a1.tgz');
    assert.equal(await a1.locator('td[data-col="by"]').innerText(), 'admin');
    const size = statSync(tgz).size;
    const href = String(await a1.locator('[data-testid="artifact-download"]').getAttribute('href'));
    assert.equal(href, `/api/services/${SERVICE}/artifacts/a1/content`);
    assert.equal(await page.evaluate(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength, href), size, 'the download is the file uploaded');
    await page.locator('#installed-latest', { hasText: 'artifact a1' }).waitFor();

    // A tag is written once; a file that is no .tgz is refused, with the console's reason.
    assert.equal(await page.locator('#upload-artifact').getAttribute('open'), '', 'the form stays open for the next upload');
    await page.fill('#upload-artifact-tag', 'bad');
    await page.setInputFiles('#upload-artifact-file', library);
    await page.click('#upload-artifact-submit');
    await page.locator('#error', { hasText: 'gzip tar' }).waitFor();
    await page.click('#error-close');

    // A second build, deleted after a confirmation.
    await page.fill('#upload-artifact-tag', 'junk');
    await page.setInputFiles('#upload-artifact-file', tgz);
    await page.click('#upload-artifact-submit');
    const junk = page.locator(row('artifact-row', 'tag', 'junk'));
    await junk.waitFor();
    assert.equal(await page.locator('[data-testid="artifact-row"]').first().getAttribute('data-tag'), 'junk', 'newest first');
    await junk.locator('[data-testid="artifact-delete"]').click();
    await confirm('browser test: not needed');
    await junk.waitFor({ state: 'detached' });

    // Library files: uploaded under the file's name, downloaded, deleted.
    await page.setInputFiles('#upload-library-file', library);
    await page.fill('#upload-library-memo', 'shared code');
    await page.click('#upload-library-submit');
    const lib = page.locator(row('library-row', 'name', 'libhello.so'));
    await lib.waitFor();
    assert.equal(await lib.locator('td[data-col="memo"]').innerText(), 'shared code');
    const libHref = String(await lib.locator('[data-testid="library-download"]').getAttribute('href'));
    assert.equal(await page.evaluate(async (u) => (await fetch(u)).text(), libHref), readFileSync(library, 'utf8'));
    await page.locator('#libraries').scrollIntoViewIfNeeded();
    await shot('service-artifacts.png');
    await lib.locator('[data-testid="library-delete"]').click();
    await confirm();
    await lib.waitFor({ state: 'detached' });
    await page.locator('#libraries-summary', { hasText: '0 library files' }).waitFor();
  });

  await t.test('the release wizard: hosts, versions, rollout, confirm → the plan starts and its page opens', async () => {
    await page.click('#service-release');
    await page.locator(`#release-wizard[data-service="${SERVICE}"][data-step="hosts"]`).waitFor();
    await page.click('#wizard-next');
    await page.locator('#error', { hasText: 'choose at least one host' }).waitFor();
    await page.click('#error-close');
    for (const ip of IPS) await page.check(row('wizard-host', 'addr', `${ip}:${port}`));
    await page.click('#wizard-next');
    await page.locator('#release-wizard[data-step="versions"]').waitFor();
    assert.equal(await page.inputValue('#wizard-type'), 'complete');
    assert.equal(await page.inputValue('#wizard-config'), 'v1', 'the newest config by default');
    assert.equal(await page.inputValue('#wizard-artifact'), 'a1', 'the newest artifact by default');
    assert.equal(await page.locator('#wizard-artifact option[value="a1"]').innerText(), `a1 · ${HOSTILE}`);
    // A complete release needs an artifact: the page says so before any request.
    await page.selectOption('#wizard-artifact', '');
    await page.click('#wizard-next');
    await page.locator('#error', { hasText: 'needs an artifact' }).waitFor();
    await page.click('#error-close');
    await page.selectOption('#wizard-artifact', 'a1');
    await page.click('#wizard-next');
    await page.locator('#release-wizard[data-step="rollout"]').waitFor();
    assert.equal(await page.isChecked('#wizard-enable'), true, 'routing follows by default');
    await page.fill('#wizard-batch', '1');
    await page.fill('#wizard-memo', `first release ${HOSTILE}`);
    await page.fill('#wizard-reason', 'browser test: first release');
    await page.click('#wizard-next');
    await page.locator('#release-wizard[data-step="confirm"]').waitFor();
    const item = (key: string) => page.locator(row('wizard-summary-item', 'key', key)).innerText();
    assert.equal(await item('hosts'), IPS.map((ip) => `${ip}:${port}`).join(', '));
    assert.equal(await item('config'), 'v1');
    assert.equal(await item('artifact'), 'a1');
    assert.equal(await item('enable'), 'yes');
    assert.equal(await item('rollout'), '1 at a time');
    assert.equal(await item('memo'), `first release ${HOSTILE}`);
    await shot('releases-wizard.png');
    await page.click('#wizard-submit');
    await page.locator('#plan-page').waitFor().catch(async (err) => assert.fail(`${err.message}\nbanner: ${await page.locator('#error-text').textContent()}`));
    firstPlan = String(await page.locator('#plan-page').getAttribute('data-plan'));
    assert.match(firstPlan, /^\d{14}_[0-9a-z]{6}$/);
  });

  await t.test('the plan page follows the release live until it succeeds, with every host\'s steps and output', async () => {
    assert.ok(firstPlan, 'the wizard made the plan');
    await page.evaluate('window.__samePlanPage = true');
    await waitPlan(page, 'succeeded');
    assert.equal(await page.evaluate('window.__samePlanPage'), true, 'the page followed the plan by itself, without a reload');
    for (const ip of IPS) {
      const host = page.locator(row('plan-host', 'ip', ip));
      assert.equal(await host.getAttribute('data-state'), 'installed');
      assert.equal(await host.locator('td[data-col="step"]').innerText(), 'install healthy');
      const steps = await page.locator(`${row('plan-host-steps', 'ip', ip)} [data-testid="plan-step"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
      assert.deepEqual(steps, ['pushed', 'backed-up', 'stopped', 'installed', 'started', 'healthy']);
      const output = page.locator(row('plan-host-output', 'ip', ip));
      await output.filter({ hasText: '[healthy]' }).waitFor();
      assert.match(String(await output.textContent()), /\[pushed\][\s\S]*\[installed\][\s\S]*\[healthy\]/, 'the agent\'s progress lines, in order');
    }
    assert.equal(await page.locator(row('plan-fact', 'key', 'memo')).innerText(), `first release ${HOSTILE}`);
    assert.equal(await page.locator('#plan-summary img').count(), 0);
    assert.equal(await page.locator('#plan-rollback').isVisible(), true, 'a succeeded plan can be rolled back');
    for (const b of ['start', 'pause', 'resume', 'cancel']) assert.equal(await page.locator(`#plan-${b}`).isVisible(), false, `no ${b} once it ended`);
    assert.match(await page.locator('#plan-detail').innerText(), /2 host\(s\) released/);
    await shot('release-plan.png');

    // The service's hosts run it now, are routed, and nothing is behind.
    await page.click('#plan-service');
    await page.locator(`#service-page[data-name="${SERVICE}"]`).waitFor();
    for (const ip of IPS) {
      const r = page.locator(row('installed-row', 'addr', `${ip}:${port}`));
      await r.and(page.locator('[data-state="running"][data-behind=""]')).waitFor({ timeout: 20_000 });
      assert.equal(await r.locator('td[data-col="config"]').innerText(), 'v1');
      assert.equal(await r.locator('td[data-col="artifact"]').innerText(), 'a1');
      assert.equal(await r.locator('td[data-col="plan"]').innerText(), firstPlan);
      await r.locator('[data-testid="installed-current"]').waitFor();
      await page.locator(`${row('host-row', 'addr', `${ip}:${port}`)} [data-testid="host-status"]`, { hasText: 'enabled' }).waitFor();
    }
    assert.equal(await ask(IPS[0]!, port), 'ok', 'the released service answers');
  });

  await t.test('the plan list: newest first, filtered by service, each linking to its plan', async () => {
    assert.ok(firstPlan, 'the wizard made the plan');
    await page.click('#nav-releases');
    const r = page.locator(row('release-row', 'plan', firstPlan));
    await r.and(page.locator('[data-status="succeeded"]')).waitFor();
    assert.equal(await r.locator('td[data-col="versions"]').innerText(), 'config v1, artifact a1');
    assert.equal(await r.locator('td[data-col="memo"]').innerText(), `first release ${HOSTILE}`);
    await page.selectOption('#releases-service', SERVICE);
    await page.waitForURL(/#\/releases\?service=Flight\.mod_flight$/);
    await r.waitFor();
    await page.locator('#releases-count', { hasText: '1 plan' }).waitFor();
    await shot('releases.png');
    await r.locator('[data-testid="release-link"]').click();
    await page.locator(`#plan-page[data-plan="${firstPlan}"]`).waitFor();
  });

  await t.test('rollback from the plan page, after a confirmation: every host goes back to before the plan', async () => {
    assert.ok(firstPlan, 'the wizard made the plan');
    await page.click('#plan-rollback');
    await page.locator('#confirm-title', { hasText: `Roll back release plan ${firstPlan}?` }).waitFor();
    await confirm('browser test: roll back');
    await waitPlan(page, 'rolled_back');
    for (const ip of IPS) {
      const host = page.locator(row('plan-host', 'ip', ip));
      assert.equal(await host.getAttribute('data-state'), 'rolled-back');
      assert.equal(await host.locator('td[data-col="step"]').innerText(), 'rollback removed', 'not installed before the plan: removed');
      const output = page.locator(row('plan-host-output', 'ip', ip));
      await output.filter({ hasText: '[removed]' }).waitFor();
      assert.match(String(await output.textContent()), /^── install ──\n\[pushed\][\s\S]*\[healthy\][^\n]*\n\n── rollback ──\n\[stopped\][\s\S]*\[removed\]/,
        'the install\'s output, then the rollback\'s');
    }
    assert.equal(await page.locator('#plan-detail').innerText(), '2 host(s) back on their previous version (browser test: roll back)');
    assert.equal(await page.locator('#plan-rollback').isVisible(), false, 'rolled back: nothing more to do');
    await shot('release-rolled-back.png');
  });

  await t.test('a release that fails on its host: its error and the agent\'s output are shown; rolled back', async () => {
    assert.ok(firstPlan, 'the wizard made the plan');
    await openService();
    await uploadArtifact('broken', broken);
    await page.click('#service-release');
    await page.check(row('wizard-host', 'addr', `${IPS[0]}:${port}`));
    await page.click('#wizard-next');
    assert.equal(await page.inputValue('#wizard-artifact'), 'broken');
    await page.click('#wizard-next');
    await page.fill('#wizard-health-timeout', '3');
    await page.click('#wizard-next');
    assert.equal(await page.locator(row('wizard-summary-item', 'key', 'hosts')).innerText(), `${IPS[0]}:${port}`);
    await page.click('#wizard-submit');
    await page.locator('#plan-page').waitFor();
    await waitPlan(page, 'failed');
    const host = page.locator(row('plan-host', 'ip', IPS[0]!));
    assert.equal(await host.getAttribute('data-state'), 'failed');
    assert.match(await host.locator('td[data-col="step"]').innerText(), /^install healthy \(failed\)$/);
    assert.notEqual((await host.locator('td[data-col="error"]').innerText()).trim(), '', 'the error is shown');
    const output = page.locator(row('plan-host-output', 'ip', IPS[0]!));
    await output.filter({ hasText: '[healthy] FAILED' }).waitFor();
    await page.locator(`${row('plan-host-steps', 'ip', IPS[0]!)} [data-testid="plan-step"][data-step="healthy"][data-ok="false"]`).waitFor();
    assert.equal(await page.locator('#plan-hosts img').count(), 0, 'the agent\'s output is never parsed as markup');
    await shot('release-failed.png');

    // Roll the failed host back (it ran nothing before: its install is removed), and drop the build.
    await page.click('#plan-rollback');
    await confirm();
    await waitPlan(page, 'rolled_back');
    await openService();
    await page.locator(row('artifact-row', 'tag', 'broken')).locator('[data-testid="artifact-delete"]').click();
    await confirm();
    await page.locator(row('artifact-row', 'tag', 'broken')).waitFor({ state: 'detached' });
  });

  await t.test('the capacity wizard: take a host out, then add it back with the current versions', async () => {
    assert.ok(firstPlan, 'the wizard made the plan');
    await openService();
    // A host needs an enrolled agent: the console's reason is shown.
    await page.fill('#scale-add-ips', '127.0.0.9');
    await page.click('#scale-add-submit');
    await page.locator('#error', { hasText: 'no enrolled agent' }).waitFor();
    await page.click('#error-close');

    await page.check(row('scale-remove-host', 'ip', IPS[1]!));
    await page.fill('#scale-remove-drain', '0');
    await page.click('#scale-remove-submit');
    await page.locator('#confirm-title', { hasText: `Take ${IPS[1]} out of ${SERVICE}?` }).waitFor();
    await confirm('browser test: scale in');
    await page.locator('#scale-remove-result', { hasText: `Removed ${IPS[1]}; uninstall sent to ${IPS[1]}` }).waitFor({ timeout: 20_000 });
    await page.locator(row('host-row', 'addr', `${IPS[1]}:${port}`)).waitFor({ state: 'detached' });

    // After the rollback no succeeded release is left to copy: said so, nothing added.
    await page.fill('#scale-add-ips', IPS[1]!);
    await page.click('#scale-add-submit');
    await page.locator('#error', { hasText: 'no succeeded release to copy' }).waitFor();
    await page.click('#error-close');
    assert.equal(await page.locator(row('host-row', 'addr', `${IPS[1]}:${port}`)).count(), 0);

    // A release to the host left (made through the API), so there are current versions to copy.
    const created = await api('POST', '/api/releases', { service: SERVICE, hosts: [IPS[0]], config: 'v1', artifact: 'a1', enable: true, memo: 'again' });
    assert.equal(created.status, 201, created.text);
    const second = String(created.json.planId);
    assert.equal((await api('POST', `/api/releases/${second}/start`)).status, 200);
    await eventually('the second release succeeds', async () => (await api('GET', `/api/releases/${second}`)).json.status === 'succeeded', 120_000, agentLogs);

    await openService();
    await page.locator(`#scale-add-template option[value="${second}"]`).waitFor({ state: 'attached' });
    await page.fill('#scale-add-ips', IPS[1]!);
    await page.fill('#scale-add-reason', 'browser test: scale out');
    await page.click('#scale-add-submit');
    await page.locator('#plan-page').waitFor();
    const third = String(await page.locator('#plan-page').getAttribute('data-plan'));
    assert.notEqual(third, second);
    await waitPlan(page, 'succeeded');
    assert.equal(await page.locator(row('plan-host', 'ip', IPS[1]!)).getAttribute('data-state'), 'installed');
    assert.match(await page.locator(row('plan-fact', 'key', 'memo')).innerText(), new RegExp(`scale out \\(as ${second}\\)`));
    await page.click('#plan-service');
    await page.locator(`${row('host-row', 'addr', `${IPS[1]}:${port}`)} [data-testid="host-status"]`, { hasText: 'enabled' }).waitFor();
    await page.locator(row('installed-row', 'addr', `${IPS[1]}:${port}`)).and(page.locator('[data-state="running"][data-behind=""]')).waitFor({ timeout: 20_000 });
    assert.equal(await ask(IPS[1]!, port), 'ok');

    // A newer build: every host is now behind on the artifact.
    await uploadArtifact('a2', tgz);
    await page.locator('#installed-latest', { hasText: 'latest: config v1, artifact a2' }).waitFor();
    for (const ip of IPS) {
      const r = page.locator(row('installed-row', 'addr', `${ip}:${port}`));
      await r.and(page.locator('[data-behind="artifact"]')).waitFor();
      assert.equal(await r.locator('[data-testid="installed-behind"]').innerText(), 'artifact behind');
    }
    await shot('service-capacity-wizard.png');
  });

  assert.equal(await page.evaluate('window.__xss'), undefined, 'no injected script ran');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs: number, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A line over TCP: what the released service answers. */
async function ask(host: string, port: number): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Kills the services an agent started under `root`: their process groups (pids in services.json), then any process working there. */
function killServicesOf(root: string): void {
  const file = join(root, 'agent', 'services.json');
  if (existsSync(file)) {
    try {
      const { services } = JSON.parse(readFileSync(file, 'utf8')) as { services: { pid: number }[] };
      for (const { pid } of services) {
        if (pid > 0) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch { /* gone */ }
        }
      }
    } catch { /* unreadable: the sweep below finds them */ }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone, or not ours */ }
  }
}
