/**
 * Browser test of the Monitor page (apps/console/web/js/page-monitor.js) against the real console
 * (up() in this process, chdb views), reports published to its bus as services and agents publish
 * them. Checks what is drawn, not only the page: the canvas of a chart holds the series' colours
 * (today's curve, the compare day's overlay, one colour per ip), hover shows values, the PNG and
 * CSV downloads are real files, the live update draws a new value. Screenshots: tests/artifacts/.
 *
 * Selectors: #monitor-page[data-service][data-updated]  #monitor-form #monitor-day #monitor-compare
 * #monitor-days #monitor-name #monitor-ip #monitor-live #monitor-apply #monitor-csv #monitor-status
 * [data-testid=chart][data-name=<metric>] (canvas, [data-testid=chart-png], .u-legend)
 * [data-testid=latency-chart]  #monitor-alarms #alarm-rule-form #alarm-rule-name #alarm-rule-max
 * #alarm-rule-submit [data-testid=alarm-rule][data-name]  #alarms-list [data-testid=alarms-row]
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
import { encodeReport, type Metric } from '../../schemas/reports.ts';

const PASSWORD = 'monitor-browser-pw';
const SERVICE = 'Flight.mod_flight';
const BLUE = [37, 99, 235];
const AMBER = [245, 158, 11];

const pad = (n: number) => String(n).padStart(2, '0');
const localDay = (d: Date) => `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`;

test('Monitor page in chromium: curves drawn, compare-day overlay, per ip, hover, PNG and CSV, live update', { timeout: 240_000 }, async (t) => {
  const browser = await launchChromium();
  const home = mkdtempSync(join(tmpdir(), 'msec-browser-monitor-'));
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
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: await res.json() as Record<string, unknown> };
  };
  assert.equal((await api('POST', '/api/services', { name: SERVICE })).status, 201);
  // its hosts (a service shows the sys.* of its catalog hosts)
  for (const ip of ['10.0.0.1', '10.0.0.2']) assert.equal((await api('POST', `/api/services/${SERVICE}/hosts`, { ip, port: 7963 })).status, 201);

  // Today: usr.orders on two ips over the last 30 minutes, a gauge, frm latency buckets; yesterday: usr.orders at the same minutes; host cpu.
  const now = Date.now();
  const thisMinute = Math.floor(now / 60_000) * 60;
  const metric = (minute: number, attr: string, value: number, ip: string, over: Partial<Metric> = {}): Metric =>
    ({ service: SERVICE, method: '', side: '', attr, minute, value, kind: 'add', ip, atMs: 0, ...over });
  const metrics: Metric[] = [];
  // The last 30 minutes, all of them today (a run just after midnight has fewer).
  const midnight = new Date(now).setHours(0, 0, 0, 0) / 1000;
  const minutes = Math.min(30, (thisMinute - midnight) / 60 + 1);
  for (let i = 30 - minutes; i < 30; i++) {
    const minute = thisMinute - (29 - i) * 60;
    metrics.push(metric(minute, 'usr.orders', 20 + (i % 7) * 5, '10.0.0.1'), metric(minute, 'usr.orders', 10 + (i % 3), '10.0.0.2'));
    metrics.push(metric(minute - 86_400, 'usr.orders', 60 - (i % 5), '10.0.0.1'));
    for (const [bound, n] of [['le_1ms', 5], ['le_5ms', 40], ['le_10ms', 80], ['le_50ms', 95], ['le_100ms', 100], ['le_500ms', 100], ['le_1000ms', 100], ['le_inf', 100]] as const) {
      metrics.push(metric(minute, `frm.latency.${bound}`, n, '10.0.0.1', { method: 'flight.flight_service.queryFlight', side: 'server' }));
    }
    metrics.push({ service: 'RESERVED.monitor', method: '', side: '', attr: 'sys.cpu.busy_percent', minute, value: 30 + i, kind: 'set', ip: '10.0.0.1', atMs: minute * 1000 });
  }
  await bus.publish('msec.reports.metrics', [{ key: SERVICE, value: encodeReport('msec.reports.metrics', { reporter: 'browser-test', metrics, droppedRecords: 0, reportId: 'browser-report-1' }) }]);
  const stored = async () => {
    const r = await api('GET', `/api/services/${SERVICE}/metrics/curves?name=${encodeURIComponent('^usr\\.orders$')}`);
    return (r.json.series as { values: (number | null)[] }[] | undefined)?.[0]?.values.some((v) => v !== null);
  };
  for (let i = 0; i < 200 && !(await stored()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(await stored(), 'the reports reached the views');

  const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${server.url}/`);
  await page.fill('#login-user', 'admin');
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#whoami', { hasText: 'admin' }).waitFor();

  /** Pixels of the chart's canvas close to a colour (the series' strokes). */
  const pixelsOf = (name: string, [r, g, b]: number[]) => page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid=chart][data-name="${name}"] canvas');
    if (!canvas) return -1;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - ${r}) < 40 && Math.abs(data[i + 1] - ${g}) < 40 && Math.abs(data[i + 2] - ${b}) < 40 && data[i + 3] > 128) count++;
    }
    return count;
  })()`) as Promise<number>;
  const csvLines = async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#monitor-csv')]);
    return readFileSync(await csv.path(), 'utf8').trim().split('\n');
  };
  const updatedAt = () => page.locator('#monitor-page').getAttribute('data-updated');

  const yesterday = localDay(new Date(now - 86_400_000));
  await t.test('today against yesterday: both curves are drawn on the canvas', async () => {
    await page.goto(`${server.url}/#/monitor/${SERVICE}?compare=${yesterday}&every=2`);
    await page.locator('[data-testid=chart][data-name="usr.orders"] canvas').waitFor();
    const blue = await pixelsOf('usr.orders', BLUE);
    const amber = await pixelsOf('usr.orders', AMBER);
    assert.ok(blue > 50, `today's curve is drawn (${blue} blue pixels)`);
    assert.ok(amber > 50, `yesterday's overlay is drawn (${amber} amber pixels)`);
    assert.equal(await page.locator('#monitor-compare').inputValue(), `${yesterday.slice(0, 4)}-${yesterday.slice(4, 6)}-${yesterday.slice(6)}`);
    await page.locator('[data-testid=chart][data-name="sys.cpu.busy_percent"]').waitFor();
    await page.locator('[data-testid=latency-chart]').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'monitor-compare.png'), fullPage: true });
  });

  await t.test('without a compare day there is no overlay; hover shows the minute\'s value', async () => {
    await page.goto(`${server.url}/#/monitor/${SERVICE}?name=${encodeURIComponent('^usr\\.orders$')}&live=false`);
    await page.locator('[data-testid=chart][data-name="usr.orders"] canvas').waitFor();
    assert.ok((await pixelsOf('usr.orders', BLUE)) > 50);
    assert.equal(await pixelsOf('usr.orders', AMBER), 0, 'no second series');
    assert.equal(await page.locator('[data-testid=chart]').count(), 1, 'the name filter keeps one chart');
    const over = page.locator('[data-testid=chart][data-name="usr.orders"] .u-over');
    const box = (await over.boundingBox())!;
    const minutesToday = (thisMinute - midnight) / 60;
    await page.mouse.move(box.x + box.width * ((minutesToday - Math.min(5, minutes - 1) + 0.5) / 1440), box.y + box.height / 2);
    const legend = await page.locator('[data-testid=chart][data-name="usr.orders"] .u-legend .u-series').nth(1).innerText();
    assert.match(legend, /\d/, `the legend shows the value under the cursor: ${legend}`);
    assert.doesNotMatch(legend, /—/);
  });

  await t.test('PNG and CSV downloads are real files', async () => {
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=chart][data-name="usr.orders"] [data-testid=chart-png]')]);
    const pngBytes = readFileSync(await png.path());
    assert.equal(pngBytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG file');
    assert.ok(pngBytes.length > 2000, `a drawn image (${pngBytes.length} bytes)`);
    assert.match(png.suggestedFilename(), /^usr\.orders\.png$/);
    const lines = await csvLines();
    assert.equal(lines[0], 'time,day,name,ip,value');
    assert.equal(lines.length, minutes + 1, 'one line per reported minute');
    assert.match(lines[lines.length - 1]!, /,usr\.orders,,\d+$/);
  });

  await t.test('one metric across the ips: one colour per ip', async () => {
    await page.goto(`${server.url}/#/monitor/${SERVICE}?byIp=true&name=${encodeURIComponent('^usr\\.orders$')}&live=false`);
    await page.locator('[data-testid=chart][data-name="usr.orders"] canvas').waitFor();
    assert.ok((await pixelsOf('usr.orders', BLUE)) > 50, '10.0.0.1');
    assert.ok((await pixelsOf('usr.orders', AMBER)) > 50, '10.0.0.2');
    assert.match(await page.locator('[data-testid=chart][data-name="usr.orders"] .u-legend').innerText(), /10\.0\.0\.1[^]*10\.0\.0\.2/);
  });

  await t.test('live: a new value reported now is drawn without reloading', async () => {
    await page.goto(`${server.url}/#/monitor/${SERVICE}?name=${encodeURIComponent('^usr\\.orders$')}&every=2`);
    await page.locator('[data-testid=chart][data-name="usr.orders"] canvas').waitFor();
    const big = 5000;
    await bus.publish('msec.reports.metrics', [{ key: SERVICE, value: encodeReport('msec.reports.metrics', {
      reporter: 'browser-test', droppedRecords: 0, reportId: 'browser-report-2', metrics: [metric(Math.floor(Date.now() / 60_000) * 60, 'usr.orders', big, '10.0.0.1')],
    }) }]);
    const before = await updatedAt();
    let drawn = false;
    for (let i = 0; i < 20 && !drawn; i++) {
      await page.waitForTimeout(1000);
      drawn = (await updatedAt()) !== before && (await csvLines()).some((line) => Number(line.split(',').pop()) >= big);
    }
    assert.ok(drawn, 'the page fetched the new value by itself');
    await page.screenshot({ path: join(ARTIFACTS, 'monitor-live.png'), fullPage: true });
  });

  await t.test('N days in a row, and a bad name filter shows the console\'s message', async () => {
    await page.goto(`${server.url}/#/monitor/${SERVICE}?days=3&name=${encodeURIComponent('^usr')}&live=false`);
    await page.locator('[data-testid=chart][data-name="usr.orders"] canvas').waitFor();
    assert.ok((await pixelsOf('usr.orders', BLUE)) > 20);
    await page.fill('#monitor-name', '(');
    await page.click('#monitor-apply');
    await page.locator('#error', { hasText: 'RE2 syntax' }).waitFor();
  });

  await t.test('alarm rules on the page, and the alarm list', async () => {
    await page.goto(`${server.url}/#/monitor/${SERVICE}?live=false`);
    await page.locator('#alarm-rule-form').waitFor();
    await page.fill('#alarm-rule-name', 'usr.orders');
    await page.fill('#alarm-rule-max', '1000');
    await page.click('#alarm-rule-submit');
    await page.locator('[data-testid=alarm-rule][data-name="usr.orders"]').waitFor();
    await page.click('#nav-alarms');
    await page.locator('h1', { hasText: 'Alarms' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'alarms.png'), fullPage: true });
  });

  assert.deepEqual(pageErrors, []);
});
