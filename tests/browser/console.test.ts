/**
 * Browser test of the console web UI (apps/console/web) against the real console, started
 * in-process with up() on a temp home. Drives Debian's chromium through playwright-core.
 * Run: node --import tsx --test tests/browser/console.test.ts   (screenshots: tests/artifacts/)
 *
 * Stable selectors of the web UI (ids are unique; data-testid rows carry a key attribute):
 *   chrome      #nav-services #nav-routes #nav-audit #nav-users  #whoami  #logout
 *               #error (role=alert; text in #error-text, close #error-close)  #notice (success)
 *   login       #login-form #login-user #login-password #login-submit
 *   tree        #tree  [data-testid=tree-first][data-name=First]  [data-testid=tree-service][data-name=First.Second]
 *               (inside: a.tree-link, [data-testid=tree-kind], [data-testid=tree-counts] "enabled/hosts",
 *               [data-testid=delete-service][data-name=…])
 *               #new-service-form #new-service-name #new-service-kind #new-service-lang #new-service-port
 *               #new-service-reason #new-service-submit
 *   service     #service-page[data-name]  #service-title #service-kind #service-lang #service-port #service-revision
 *   hosts       #hosts-table  [data-testid=host-row][data-addr=ip:port] with [data-testid=host-status]
 *               (enabled|disabled), host-enable, host-disable, host-remove, host-weight;  #hosts-summary
 *               #add-host-form #add-host-addr #add-host-protocol #add-host-weight #add-host-reason #add-host-submit
 *   versions    K = config | idl:  #K-table  [data-testid=K-row][data-tag=…] with K-view, K-download (a[href]), K-delete
 *               #K-diff-a #K-diff-b (selects) #K-diff (button)
 *               #add-K (details) #add-K-form #add-K-tag #add-K-memo #add-K-text #add-K-reason #add-K-submit
 *   confirm     #confirm (dialog for every row action) #confirm-reason #confirm-ok #confirm-cancel
 *               extra fields as [data-testid=confirm-<name>] (e.g. confirm-weight)
 *   viewer      #viewer #viewer-title #viewer-body #viewer-close;  file text #viewer-text;
 *               diff #diff, [data-testid=diff-summary], rows [data-testid=diff-line][data-op=same|add|del]
 *               (classes diff-same / diff-add / diff-del)
 *   routing     #routes  [data-testid=route][data-service=…] with [data-testid=route-version],
 *               [data-testid=route-instance][data-addr=…], [data-testid=route-watch], [data-testid=route-watch-state]
 *   audit       #audit-filter-form #audit-stream #audit-actor #audit-type #audit-since #audit-until #audit-apply
 *               #audit-clear  #audit-table [data-testid=audit-row][data-position] with td[data-col=time|actor|
 *               stream|type|summary|reason]  #audit-more  #audit-count
 *   users       #users-table [data-testid=user-row][data-name] with user-delete, [data-testid=token] token-revoke
 *               #add-user-form #add-user-name #add-user-password #add-user-reason #add-user-submit
 *               #password-form #password-user #password-old #password-new #password-reason #password-submit
 *               #token-form #token-label #token-reason #token-submit  #token-value (shown once)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { pino } from 'pino';
import { ARTIFACTS, launchChromium } from './chromium.ts';
import { up } from '../../apps/console/up.ts';

const PASSWORD = 'browser-test-admin-pw';
const SERVICE = 'Flight.mod_flight';
const HOST = '127.0.0.1:7963';

const V1 = '[LOG]\nLevel=INFO\n\n[COLOR]\n';
const V2 = '[LOG]\nLevel=DEBUG\n\n[COLOR]\nFieldName1=uid\nFieldValue1=10086\n';

const row = (testid: string, key: string, value: string) => `[data-testid="${testid}"][data-${key}="${value}"]`;

test('console web UI in chromium', { timeout: 180_000 }, async (t) => {
  const browser = await launchChromium();
  const home = mkdtempSync(join(tmpdir(), 'msec-browser-'));
  process.env.MSEC_ADMIN_PASSWORD = PASSWORD;
  const server = await up({ home, port: 0, logger: pino({ level: 'silent' }) });
  t.after(async () => {
    await browser.close();
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** The API as another client (HTTP Basic), to cause changes and learn the console's own messages. */
  const apiCall = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
  };

  const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  const shot = (name: string, fullPage = true) => page.screenshot({ path: join(ARTIFACTS, name), fullPage });
  const confirm = async (reason = '') => {
    await page.locator('#confirm').waitFor();
    if (reason) await page.fill('#confirm-reason', reason);
    await page.click('#confirm-ok');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
  };
  /** The error banner shows exactly the console's problem detail. */
  const expectBanner = async (detail: string) => {
    await page.locator('#error', { hasText: detail }).waitFor();
    assert.equal((await page.locator('#error-text').textContent())?.trim(), detail);
  };

  await t.test('login: wrong password shows the console message, right one logs in', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('#login-form').waitFor();
    await shot('login.png');
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', 'not-the-password');
    await page.click('#login-submit');
    const refused = await apiCall('POST', '/api/login', { user: 'admin', password: 'not-the-password' });
    assert.equal(refused.status, 401);
    await expectBanner(String(refused.json.detail));
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#whoami', { hasText: 'admin' }).waitFor();
    await page.locator('#error').waitFor({ state: 'hidden' });
    for (const reserved of ['RESERVED.monitor', 'RESERVED.log']) {
      await page.locator(`${row('tree-service', 'name', reserved)} [data-testid="tree-kind"]`, { hasText: 'odd' }).waitFor();
    }
  });

  await t.test('create Flight.mod_flight from the tree and open it', async () => {
    await page.fill('#new-service-name', SERVICE);
    await page.selectOption('#new-service-kind', 'standard');
    await page.selectOption('#new-service-lang', 'c++');
    await page.fill('#new-service-reason', 'browser test: new service');
    await page.click('#new-service-submit');
    await page.locator(row('tree-service', 'name', SERVICE)).waitFor();
    await page.click('#nav-services');
    await page.locator(row('services-row', 'name', SERVICE)).waitFor();
    await page.click(`${row('tree-service', 'name', SERVICE)} a.tree-link`);
    await page.locator(`#service-page[data-name="${SERVICE}"]`).waitFor();
    assert.equal(await page.locator('#service-title').textContent(), SERVICE);
    assert.equal(await page.locator('#service-port').textContent(), '7963');
    assert.equal(await page.locator('#service-lang').textContent(), 'c++');
    assert.equal(await page.locator('#service-kind').textContent(), 'standard');
  });

  await t.test('add a host (starts disabled), enable it (scale out)', async () => {
    // A reload keeps the session: the page re-reads the CSRF token from GET /api/session.
    await page.reload();
    await page.locator(`#service-page[data-name="${SERVICE}"]`).waitFor();
    await page.fill('#add-host-addr', HOST);
    await page.fill('#add-host-reason', 'browser test: new host');
    await page.click('#add-host-submit');
    const host = page.locator(row('host-row', 'addr', HOST));
    await host.locator('[data-testid="host-status"]', { hasText: 'disabled' }).waitFor();
    await host.locator('[data-testid="host-enable"]').click();
    await confirm('browser test: scale out');
    await host.locator('[data-testid="host-status"]', { hasText: 'enabled' }).waitFor();
    await page.locator(`${row('tree-service', 'name', SERVICE)} [data-testid="tree-counts"]`, { hasText: '1/1' }).waitFor();
    assert.equal(await host.locator('[data-testid="host-remove"]').count(), 0, 'an enabled host offers no Remove');
  });

  await t.test('adding the same host again shows the console error in the banner', async () => {
    await page.fill('#add-host-addr', HOST);
    await page.click('#add-host-submit');
    const dup = await apiCall('POST', `/api/services/${SERVICE}/hosts`, { ip: '127.0.0.1', port: 7963 });
    assert.equal(dup.status, 409);
    await expectBanner(String(dup.json.detail));
    assert.equal(await page.inputValue('#add-host-addr'), HOST, 'the form keeps its input after an error');
    await shot('error.png');
    await page.click('#error-close');
    await page.fill('#add-host-addr', '');
  });

  await t.test('config versions: add two, view one, download, diff them', async () => {
    const addConfig = async (tag: string, memo: string, text: string) => {
      if (await page.locator('#add-config').getAttribute('open') === null) await page.click('#add-config > summary');
      await page.fill('#add-config-tag', tag);
      await page.fill('#add-config-memo', memo);
      await page.fill('#add-config-text', text);
      await page.click('#add-config-submit');
      await page.locator(row('config-row', 'tag', tag)).waitFor();
    };
    assert.equal(await page.inputValue('#add-config-text'), V1, 'the form starts from MSEC\'s template');
    await addConfig('v1', 'first', V1);
    await addConfig('v2', '<img src=x onerror="window.__xss=1"><b>debug</b> & colouring', V2);
    const v2 = page.locator(row('config-row', 'tag', 'v2'));
    assert.equal(await v2.locator('img, b').count(), 0, 'user text is never parsed as HTML');
    assert.match((await v2.innerText()), /<b>debug<\/b> & colouring/);
    const v1 = page.locator(row('config-row', 'tag', 'v1'));
    await v1.locator('[data-testid="config-view"]').click();
    await page.locator('#viewer-text', { hasText: 'Level=INFO' }).waitFor();
    assert.equal(await page.locator('#viewer-text').textContent(), V1);
    await page.click('#viewer-close');
    const href = await v1.locator('[data-testid="config-download"]').getAttribute('href');
    const raw = await page.request.get(server.url! + href!);
    assert.equal(raw.status(), 200);
    assert.equal(await raw.text(), V1);

    await page.selectOption('#config-diff-a', 'v1');
    await page.selectOption('#config-diff-b', 'v2');
    await page.click('#config-diff');
    await page.locator('#diff [data-testid="diff-line"][data-op="del"]', { hasText: 'Level=INFO' }).waitFor();
    const added = await page.locator('#diff [data-testid="diff-line"][data-op="add"] td.code').allTextContents();
    assert.deepEqual(added, ['Level=DEBUG', 'FieldName1=uid', 'FieldValue1=10086']);
    const removed = await page.locator('#diff [data-testid="diff-line"][data-op="del"] td.code').allTextContents();
    assert.deepEqual(removed, ['Level=INFO']);
    assert.match(await page.locator('[data-testid="diff-summary"]').innerText(), /3 added, 1 removed/);
    await shot('diff.png', false);
    await page.click('#viewer-close');
  });

  await t.test('IDL versions: an invalid .proto is refused with the console message, a valid one is added', async () => {
    if (await page.locator('#add-idl').getAttribute('open') === null) await page.click('#add-idl > summary');
    assert.match(await page.inputValue('#add-idl-text'), /syntax = "proto3"/);
    await page.fill('#add-idl-tag', 'bad');
    const template = await page.inputValue('#add-idl-text');
    await page.fill('#add-idl-text', 'this is not a proto file {');
    await page.click('#add-idl-submit');
    const refused = await apiCall('PUT', `/api/services/${SERVICE}/idls/bad`, { text: 'this is not a proto file {' });
    assert.equal(refused.status, 400);
    await expectBanner(String(refused.json.detail));
    await page.fill('#add-idl-tag', 'v1');
    await page.fill('#add-idl-text', template);
    await page.click('#add-idl-submit');
    await page.locator(row('idl-row', 'tag', 'v1')).waitFor();
    await page.locator('#error').waitFor({ state: 'hidden' });
    await shot('service.png');
  });

  await t.test('routing view shows the enabled host and follows changes live (watch)', async () => {
    await page.click('#nav-routes');
    const route = page.locator(row('route', 'service', SERVICE));
    await route.locator(row('route-instance', 'addr', HOST)).waitFor();
    assert.equal(await page.locator(`${row('route', 'service', 'RESERVED.monitor')} [data-testid="route-instance"]`).count(), 0);
    await shot('routing.png');

    await page.evaluate('window.__sameDocument = true');
    await route.locator('[data-testid="route-watch"]').click();
    await route.locator('[data-testid="route-watch-state"]', { hasText: 'watching' }).waitFor();
    const before = await route.locator('[data-testid="route-version"]').textContent();
    assert.equal((await apiCall('POST', `/api/services/${SERVICE}/hosts`, { ip: '127.0.0.1', port: 7964, protocol: 'udp' })).status, 201);
    assert.equal((await apiCall('POST', `/api/services/${SERVICE}/hosts/127.0.0.1:7964/enable`, { reason: 'live' })).status, 200);
    await route.locator(row('route-instance', 'addr', '127.0.0.1:7964')).waitFor();
    await route.locator('[data-testid="route-watch-state"]', { hasText: 'updated' }).waitFor();
    assert.notEqual(await route.locator('[data-testid="route-version"]').textContent(), before);
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'updated in place, without a reload');
    await shot('routing-live.png');
    await route.locator('[data-testid="route-watch"]').click();
    await route.locator('[data-testid="route-watch"]', { hasText: 'Watch' }).waitFor();
  });

  await t.test('audit: newest first, reasons shown, filter by type', async () => {
    await page.click('#nav-audit');
    await page.locator('[data-testid="audit-row"] [data-col="reason"]', { hasText: 'browser test: scale out' }).waitFor();
    const positions = (await page.locator('[data-testid="audit-row"]').evaluateAll(
      (rows) => rows.map((r) => Number(r.getAttribute('data-position')))));
    assert.ok(positions.length > 3);
    assert.deepEqual(positions, [...positions].sort((a, b) => b - a), 'newest first');
    await page.fill('#audit-type', 'HostEnabled');
    await page.click('#audit-apply');
    // Polled from here, not with waitForFunction: its string predicate is eval'd in the page,
    // which the console's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    const typeCells = page.locator('[data-testid="audit-row"] [data-col="type"]');
    for (const deadline = Date.now() + 10_000; ;) {
      const types = await typeCells.allTextContents();
      if (types.length === 2 && types.every((x) => x === 'HostEnabled')) break;
      assert.ok(Date.now() < deadline, `the audit shows the two HostEnabled rows only (it shows ${types.join(', ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await page.locator('[data-testid="audit-row"] [data-col="reason"]').allTextContents(), ['live', 'browser test: scale out']);
    await shot('audit.png');
  });

  await t.test('a service with hosts cannot be deleted: the banner says why', async () => {
    await page.click(`${row('tree-service', 'name', SERVICE)} [data-testid="delete-service"]`);
    await confirm();
    const refused = await apiCall('DELETE', `/api/services/${SERVICE}`);
    assert.equal(refused.status, 409);
    await expectBanner(String(refused.json.detail));
  });

  await t.test('users: add a user with a scoped role, grant and revoke roles, create API tokens shown once', async () => {
    await page.click('#nav-users');
    await page.locator(row('user-row', 'name', 'admin')).waitFor();
    await page.locator(`${row('user-row', 'name', 'admin')} [data-testid="role"][data-role="admin"]`).waitFor();
    await page.fill('#add-user-name', 'ops');
    await page.fill('#add-user-password', 'ops-password-123');
    await page.selectOption('#add-user-role', 'operator');
    await page.fill('#add-user-service', 'Flight');
    await page.click('#add-user-submit');
    await page.locator(`${row('user-row', 'name', 'ops')} [data-testid="role"][data-role="operator of Flight"]`).waitFor();
    await page.fill('#grant-user', 'ops');
    await page.selectOption('#grant-role', 'viewer');
    await page.click('#grant-submit');
    const viewerChip = `${row('user-row', 'name', 'ops')} [data-testid="role"][data-role="viewer"]`;
    await page.locator(viewerChip).waitFor();
    await page.click(`${viewerChip} [data-testid="role-revoke"]`);
    await confirm('no longer on call');
    await page.locator(viewerChip).waitFor({ state: 'detached' });
    const audit = await apiCall('GET', '/api/audit?stream=access&limit=5');
    assert.match(JSON.stringify(audit.json), /viewer revoked from ops/);
    await page.check('#token-routes');
    await page.fill('#token-label', 'flight service');
    await page.click('#token-submit');
    await page.locator('#token-value').waitFor();
    const routesToken = await page.inputValue('#token-value');
    const routeRead = await fetch(`${server.url}/api/services`, { headers: { authorization: `Bearer ${routesToken}` } });
    assert.equal(routeRead.status, 403, 'a route-read token made in the console reads routes only');
    await page.fill('#token-label', 'ci');
    await page.click('#token-submit');
    // The field already shows the route-read token: wait for the new one.
    // (polled from here: a page-side predicate is eval'd in the page, which the console's CSP refuses)
    let token = routesToken;
    for (let i = 0; i < 100 && token === routesToken; i++) {
      await new Promise((r) => setTimeout(r, 50));
      token = await page.inputValue('#token-value');
    }
    assert.ok(token.length > 20);
    await page.locator(`${row('user-row', 'name', 'admin')} [data-testid="token"]`, { hasText: 'ci' }).waitFor();
    const res = await fetch(`${server.url}/api/session`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { user: string }).user, 'admin');
    await shot('users.png');
  });

  await t.test('diff module: LCS line diff', async () => {
    const ops = await page.evaluate(`import('/js/diff.js').then((m) => m.diffLines('a\\nb\\nc\\nd\\n', 'b\\nd\\ne\\n').map((o) => o.op + ':' + o.text))`);
    assert.deepEqual(ops, ['del:a', 'same:b', 'del:c', 'same:d', 'add:e']);
  });

  await t.test('logout returns to the login page and guards the other pages', async () => {
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
    await page.goto(`${server.url}/#/routes`);
    await page.locator('#login-form').waitFor();
    assert.match(page.url(), /#\/login\?next=/);
    assert.equal(await page.locator('#tree-pane').isVisible(), false);
  });

  assert.equal(await page.evaluate('window.__xss'), undefined, 'no injected script ran');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
