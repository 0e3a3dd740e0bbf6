/** Metric names (usr./frm./sys.), and days as users name them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../../../domain/decider.ts';
import { checkMetricText, frameworkViewName, userMetricName } from '../../../domain/monitoring/metric-names.ts';
import { addDays, dayOf, dayStart } from '../../../apps/monitor/days.ts';

test('business names get usr. (MSEC\'s ATTR_REPORT); frm. and sys. are reserved', () => {
  assert.equal(userMetricName('orders'), 'usr.orders');
  assert.equal(userMetricName('usr.orders'), 'usr.orders');
  assert.equal(userMetricName('订单 成功'), 'usr.订单 成功', 'MSEC names were free text');
  for (const reserved of ['frm.requests', 'sys.cpu']) assert.throws(() => userMetricName(reserved), /reserved/);
  assert.throws(() => userMetricName('usr.'), /required after "usr."/);
});

test('hostile names are refused: controls, broken UTF-16, too long, padded, not text', () => {
  const refused = (name: unknown, why: RegExp) => assert.throws(() => checkMetricText(name), (e: unknown) => e instanceof DomainError && why.test(e.message));
  refused('a\nb', /control character/);
  refused('a\u001b[31mred', /control character/);
  refused('a\u0085b', /control character/);
  refused('a\u2028b', /control character/);
  refused('\ud800x', /surrogate/);
  refused('x'.repeat(128), /at most 127/);
  refused(' orders', /spaces around it/);
  refused('', /required/);
  refused(null, /required/);
  assert.equal(checkMetricText('x'.repeat(127)).length, 127);
});

test('framework metrics are named attribute, side, method', () => {
  assert.equal(frameworkViewName('frm.requests', 'server', 'flight.flight_service.queryFlight'), 'frm.requests queryFlight');
  assert.equal(frameworkViewName('frm.latency.le_5ms', 'client', 'flight.flight_service.queryFlight'), 'frm.client.latency.le_5ms queryFlight');
});

test('days: local midnight at an offset, back and forth, refusing what is no date', () => {
  assert.equal(dayStart('20240501', 0), Date.UTC(2024, 4, 1) / 1000);
  assert.equal(dayStart('20240501', 480), Date.UTC(2024, 4, 1) / 1000 - 8 * 3600, 'UTC+8 starts 8 hours earlier');
  assert.equal(dayOf(Date.UTC(2024, 4, 1, 20), 480), '20240502');
  assert.equal(dayOf(Date.UTC(2024, 4, 1, 20), 0), '20240501');
  assert.equal(addDays('20240301', -1), '20240229');
  assert.equal(addDays('20241231', 1), '20250101');
  for (const bad of ['20240230', '2024051', 'abcdefgh', '19991231', '20241301', "2024'); --"]) assert.throws(() => dayStart(bad, 0), RangeError, bad);
  assert.throws(() => dayStart('20240501', 900), /tz 900/);
  assert.throws(() => dayStart('20240501', 1.5), /tz 1.5/);
});

test('settings: retention days and alarm grace from the environment, refused when not whole numbers in range', async () => {
  const { monitorSettings } = await import('../../../apps/monitor/settings.ts');
  assert.deepEqual(monitorSettings({}), { retentionDays: 30, alarmGraceMs: 30_000 });
  assert.deepEqual(monitorSettings({ MSEC_METRICS_RETENTION_DAYS: '7', MSEC_ALARM_GRACE_SECONDS: '35' }), { retentionDays: 7, alarmGraceMs: 35_000 });
  for (const [name, value] of [['MSEC_METRICS_RETENTION_DAYS', '0'], ['MSEC_METRICS_RETENTION_DAYS', '1.5'], ['MSEC_METRICS_RETENTION_DAYS', 'month'], ['MSEC_ALARM_GRACE_SECONDS', '60']]) {
    assert.throws(() => monitorSettings({ [name!]: value }), new RegExp(`${name}=${value.replace('.', '\\.')} is not a whole number`));
  }
});
