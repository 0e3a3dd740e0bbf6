/**
 * Browser test of the Logs page, the call graph drawing and the log-settings page, against the
 * real console (up() in-process on a temp home, chdb views) with reports published on its bus
 * as services publish them. Screenshots: tests/artifacts/logs-*.png.
 *
 * Stable selectors:
 *   logs        #nav-logs  #logs-filter-form #logs-service #logs-level #logs-request #logs-ip #logs-grep #logs-since
 *               #logs-until #logs-limit #logs-fields #logs-apply #logs-clear  #logs-table #logs-body
 *               [data-testid=log-row][data-id][data-service][data-level] with td[data-col=time|level|service|request|
 *               rpc|ips|message|fields], a[data-testid=log-request]  #logs-count #logs-note #logs-tail #logs-tail-state
 *               #logs-callgraph
 *   call graph  #callgraph-svg  g[data-testid=callgraph-node][data-id][data-kind]  g[data-testid=callgraph-edge]
 *               [data-seq][data-from][data-to]  #callgraph-calls [data-testid=callgraph-call]  #callgraph-download
 *               #callgraph-logs #callgraph-summary
 *   settings    #service-log-settings (link on the service page)  #log-settings-title  #log-level-current
 *               #log-level-form #log-level #log-level-reason #log-level-submit
 *               #log-rules [data-testid=log-rule][data-field][data-value] log-rule-remove  [data-testid=log-config-rule]
 *               #log-rule-form #log-rule-field #log-rule-value #log-rule-reason #log-rule-submit
 *               #log-fields [data-testid=log-field][data-name] log-field-delete
 *               #log-field-form #log-field-name #log-field-type #log-field-reason #log-field-submit
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { pino } from 'pino';
import { ARTIFACTS, launchChromium } from './chromium.ts';
import { up } from '../../apps/console/up.ts';
import { SqliteMessageBus } from '../../adapters/bus/sqlite.ts';
import { encodeReport, type CallEdge, type LogRecord } from '../../schemas/reports.ts';

const PASSWORD = 'browser-logs-admin-pw';
const REQUEST = '7770001';

test('Logs page, call graph and log settings in chromium', { timeout: 180_000 }, async (t) => {
  const browser = await launchChromium();
  const home = mkdtempSync(join(tmpdir(), 'msec-browser-logs-'));
  process.env.MSEC_ADMIN_PASSWORD = PASSWORD;
  const server = await up({ home, port: 0, logger: pino({ level: 'silent' }) });
  const bus = SqliteMessageBus.open(join(home, 'msec.db'));
  t.after(async () => {
    await browser.close();
    await bus.close();
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
  const apiCall = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) as Record<string, unknown> : {};
  };
  const now = Date.now();
  const record = (o: Partial<LogRecord>): LogRecord => ({
    timeMs: now - 5000, level: 3, service: 'Shop.front', requestId: REQUEST, clientIp: '10.0.0.9', serverIp: '10.0.0.1', rpcName: 'shop.Front.Order',
    caller: 'shop-web', coloring: 0, message: '', fieldNames: [], fieldValues: [], ...o,
  });
  const publishLogs = (records: LogRecord[]) => bus.publish('msec.reports.logs', [{ key: records[0]!.service, value: encodeReport('msec.reports.logs', { reporter: records[0]!.service, records, droppedRecords: 0 }) }]);
  const publishEdges = (calls: CallEdge[]) => bus.publish('msec.reports.calls', [{ key: 'Shop.back', value: encodeReport('msec.reports.calls', { reporter: 'Shop.front', calls }) }]);
  const hostile = '<img src=x onerror="window.__pwned=1"> stock low\nsecond line';

  for (const name of ['Shop.front', 'Shop.back']) await apiCall('POST', '/api/services', { name });
  await apiCall('POST', '/api/services/Shop.front/log-settings/fields', { name: 'orderId', type: 'int' });
  await publishLogs([
    record({ message: 'front takes order', fieldNames: ['orderId'], fieldValues: ['7'] }),
    record({ timeMs: now - 4990, level: 2, message: 'front debug detail', coloring: 1 }),
  ]);
  await publishLogs([
    record({ timeMs: now - 4980, service: 'Shop.back', serverIp: '10.0.0.2', clientIp: '10.0.0.1', rpcName: 'shop.Back.Stock', caller: 'Shop.front', message: 'back checks stock' }),
    record({ timeMs: now - 4970, level: 4, service: 'Shop.back', serverIp: '10.0.0.2', clientIp: '10.0.0.1', rpcName: 'shop.Back.Stock', caller: 'Shop.front', message: hostile }),
  ]);
  await publishEdges([
    { side: 'server', caller: 'shop-web', callee: 'Shop.front', method: 'shop.Front.Order', requestId: REQUEST, err: 0, latencyMs: 42, atMs: now - 4950, instance: '10.0.0.1:7000' },
    { side: 'client', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', requestId: REQUEST, err: 0, latencyMs: 15, atMs: now - 4960, instance: '10.0.0.2:7001' },
    { side: 'server', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', requestId: REQUEST, err: 0, latencyMs: 12, atMs: now - 4961, instance: '10.0.0.2:7001' },
  ]);
  for (let i = 0; ; i++) {
    const answer = await apiCall('GET', `/api/logs?requestId=${REQUEST}`) as { records: unknown[] };
    const graph = await fetch(`${server.url}/api/callgraph/${REQUEST}`, { headers: auth }).then((r) => r.json() as Promise<{ edges?: unknown[] }>);
    if (answer.records.length === 4 && graph.edges?.length === 2) break;
    assert.ok(i < 200, 'the reports reached the views');
    await new Promise((r) => setTimeout(r, 100));
  }

  const page: Page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page.setDefaultTimeout(10_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
  const rows = () => page.locator('[data-testid="log-row"]');

  await t.test('log in and open the Logs page of a service', async () => {
    await page.goto(`${server.url}/#/logs?service=Shop.front&since=1h`);
    await page.locator('#login-form').waitFor();
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#logs-table').waitFor();
    await rows().nth(1).waitFor();
    assert.equal(await rows().count(), 2);
    assert.deepEqual(await rows().locator('td[data-col="message"]').allTextContents(), ['front takes order', 'front debug detail']);
    assert.equal(await rows().first().locator('td[data-col="fields"]').textContent(), 'orderId=7');
    assert.match((await rows().first().locator('td[data-col="rpc"]').textContent()) ?? '', /shop\.Front\.Order\s*from shop-web/);
    assert.equal(await rows().first().locator('td[data-col="ips"]').textContent(), '10.0.0.9 → 10.0.0.1');
    assert.equal(await page.locator('#nav-logs').getAttribute('class'), 'active');
  });

  await t.test('filter by request id across services; a hostile message shows as text', async () => {
    await page.selectOption('#logs-service', '');
    await page.fill('#logs-request', REQUEST);
    await page.fill('#logs-since', '');
    await page.click('#logs-apply');
    await page.locator('[data-testid="log-row"][data-service="Shop.back"]').nth(1).waitFor();
    assert.equal(await rows().count(), 4);
    const error = page.locator('[data-testid="log-row"][data-level="ERROR"] td[data-col="message"]');
    assert.equal(await error.textContent(), hostile);
    assert.equal(await page.locator('#logs-table img').count(), 0, 'no element made from the message');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
    await page.selectOption('#logs-level', 'ERROR');
    await page.click('#logs-apply');
    await page.waitForURL(/level=ERROR/);
    await page.locator('#logs-count', { hasText: '1 record' }).waitFor();
    assert.deepEqual(await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-level'))), ['ERROR']);
    await shot('logs-request.png');
  });

  await t.test('a bad filter shows the console\'s message and the page stays usable', async () => {
    await page.fill('#logs-since', '2000-01-01');
    await page.click('#logs-apply');
    await page.locator('#error', { hasText: 'at most 14 (the retention)' }).waitFor();
    await page.click('#error-close');
  });

  await t.test('the request id links to the call graph: nodes and edges drawn, nodes open their records', async () => {
    await page.goto(`${server.url}/#/logs?requestId=${REQUEST}`);
    await page.locator('[data-testid="log-request"]').first().click();
    await page.locator('#callgraph-svg').waitFor();
    const nodes = page.locator('#callgraph-svg g[data-testid="callgraph-node"]');
    assert.deepEqual(await nodes.evaluateAll((els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-kind')])), [
      ['shop-web', 'caller'], ['Shop.front', 'service'], ['Shop.back', 'service'],
    ]);
    const edges = page.locator('#callgraph-svg g[data-testid="callgraph-edge"]');
    assert.deepEqual(await edges.evaluateAll((els) => els.map((e) => [e.getAttribute('data-seq'), e.getAttribute('data-from'), e.getAttribute('data-to'), e.querySelector('text')?.textContent])), [
      ['1', 'shop-web', 'Shop.front', '1. shop.Front.Order 42 ms'], ['2', 'Shop.front', 'Shop.back', '2. shop.Back.Stock 15 ms'],
    ]);
    // Laid out left to right: each edge's path goes from its caller's box to its callee's.
    const boxes = await nodes.evaluateAll((els) => Object.fromEntries(els.map((e) => {
      const r = e.querySelector('rect')!;
      return [e.getAttribute('data-id'), Number(r.getAttribute('x'))];
    })));
    assert.ok(boxes['shop-web']! < boxes['Shop.front']! && boxes['Shop.front']! < boxes['Shop.back']!, JSON.stringify(boxes));
    assert.match(await page.locator('#callgraph-svg g[data-id="Shop.back"] text').textContent() ?? '', /10\.0\.0\.2:7001.*shop\.Back\.Stock.*12 ms · 2 records · ERROR/);
    assert.equal(await page.locator('[data-testid="callgraph-call"]').count(), 2);
    await shot('logs-callgraph.png');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#callgraph-download')]);
    const file = join(home, 'graph.svg');
    await download.saveAs(file);
    const svg = readFileSync(file, 'utf8');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
    assert.equal((svg.match(/data-testid="callgraph-node"/g) ?? []).length, 3);
    assert.equal((svg.match(/data-testid="callgraph-edge"/g) ?? []).length, 2);

    await page.locator('#callgraph-svg g[data-id="Shop.back"]').click();
    await page.waitForURL(/#\/logs\?requestId=7770001&service=Shop\.back$/);
    await page.locator('[data-testid="log-row"]').nth(1).waitFor();
    assert.deepEqual(await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-service'))), ['Shop.back', 'Shop.back']);
  });

  await t.test('live tail appends records as they arrive', async () => {
    await page.goto(`${server.url}/#/logs?service=Shop.front`);
    await rows().first().waitFor();
    const before = await rows().count();
    await page.click('#logs-tail');
    await page.locator('#logs-tail-state', { hasText: 'following' }).waitFor();
    await publishLogs([record({ timeMs: Date.now(), requestId: '7770002', message: 'a new order while tailing' })]);
    await page.locator('[data-testid="log-row"] td[data-col="message"]', { hasText: 'a new order while tailing' }).waitFor({ timeout: 20_000 });
    assert.equal(await rows().count(), before + 1);
    await page.click('#logs-tail');
  });

  await t.test('log settings of a service: level, coloring rules, custom fields', async () => {
    await page.goto(`${server.url}/#/services/Shop.front`);
    await page.click('#service-log-settings');
    await page.locator('#log-settings-title', { hasText: 'Log settings of Shop.front' }).waitFor();
    await page.locator('[data-testid="log-field"][data-name="orderId"]').waitFor();
    await page.selectOption('#log-level', 'DEBUG');
    await page.fill('#log-level-reason', 'browser test');
    await page.click('#log-level-submit');
    await page.locator('#log-level-current', { hasText: 'DEBUG (set here)' }).waitFor();
    await page.selectOption('#log-rule-field', 'orderId');
    await page.fill('#log-rule-value', '0042');
    await page.click('#log-rule-submit');
    await page.locator('[data-testid="log-rule"][data-field="orderId"][data-value="42"]').waitFor();
    await page.fill('#log-field-name', 'sku');
    await page.selectOption('#log-field-type', 'string');
    await page.click('#log-field-submit');
    await page.locator('[data-testid="log-field"][data-name="sku"]').waitFor();
    await shot('logs-settings.png');
    // A field a rule uses cannot go: the console's message in the banner.
    await page.click('[data-testid="log-field"][data-name="orderId"] [data-testid="log-field-delete"]');
    await page.click('#confirm-ok');
    await page.locator('#error', { hasText: 'remove it first' }).waitFor();
    await page.click('#error-close');
    await page.click('[data-testid="log-rule"][data-field="orderId"] [data-testid="log-rule-remove"]');
    await page.click('#confirm-ok');
    await page.locator('[data-testid="log-rule"]').waitFor({ state: 'detached' });
    const settings = await apiCall('GET', '/api/services/Shop.front/log-settings') as { level: string; colorRules: unknown[]; fields: { name: string }[] };
    assert.deepEqual([settings.level, settings.colorRules, settings.fields.map((f) => f.name)], ['DEBUG', [], ['orderId', 'sku']]);
  });

  assert.deepEqual(pageErrors, []);
});
