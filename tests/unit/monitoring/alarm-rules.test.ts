/** Alarm rules and webhooks of a service (stream alarm-rules-<service>), as given/when/then specs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alarmRulesDecider, maxRulesPerService, maxWebhooksPerService } from '../../../domain/monitoring/alarm-rules.ts';
import type { AlarmRuleData, MonitoringEvent } from '../../../domain/monitoring/events.ts';
import { checkWebhookUrl, isLocalAddress, webhookReachesConsole } from '../../../domain/monitoring/webhook-url.ts';
import { assertRefused, spec } from '../support/given-when-then.ts';

const S = 'Flight.mod_flight';
const rules = spec(alarmRulesDecider);
const rule = (over: Partial<AlarmRuleData> = {}): AlarmRuleData => ({ service: S, name: 'usr.orders', max: 0, min: 0, diff: 0, diffPercent: 0, forMinutes: 1, scope: 'service', ...over });
const ruleSet = (over: Partial<AlarmRuleData> = {}): MonitoringEvent => ({ type: 'AlarmRuleSet', data: rule(over) });
const setRule = (over: Record<string, unknown> = {}) => ({ type: 'SetAlarmRule' as const, service: S, name: 'usr.orders', ...over });

describe('alarm rules', () => {
  test('a rule keeps MSEC\'s four checks, 0 disabling, and defaults to 1 minute on the whole service', () => {
    rules.given([]).when(setRule({ max: 100 })).then([ruleSet({ max: 100 })]);
    rules.given([]).when(setRule({ min: 1, diff: 5, diffPercent: 50, forMinutes: 3, scope: 'host' }))
      .then([ruleSet({ min: 1, diff: 5, diffPercent: 50, forMinutes: 3, scope: 'host' })]);
  });

  test('setting the same rule again decides nothing; a changed one replaces it', () => {
    rules.given([ruleSet({ max: 100 })]).when(setRule({ max: 100 })).thenNothing();
    rules.given([ruleSet({ max: 100 })]).when(setRule({ max: 200 })).then([ruleSet({ max: 200 })]);
  });

  test('every check off is refused (MSEC took it as "delete me"): say so', () => {
    rules.given([]).when(setRule({})).thenFails('invalid', /every check .* is 0 .* or delete the rule/);
  });

  test('thresholds must be finite numbers from 0; forMinutes 1..60; min below max', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1e16, '5' as unknown as number]) {
      rules.given([]).when(setRule({ max: bad })).thenFails('invalid', /max must be a number from 0/);
    }
    rules.given([]).when(setRule({ max: 5, forMinutes: 0 })).thenFails('invalid', /"for" must be a whole number of minutes from 1 to 60/);
    rules.given([]).when(setRule({ max: 5, forMinutes: 1.5 })).thenFails('invalid', /whole number/);
    rules.given([]).when(setRule({ max: 5, forMinutes: 61 })).thenFails('invalid', /from 1 to 60/);
    rules.given([]).when(setRule({ max: 5, min: 5 })).thenFails('invalid', /min \(5\) is not below max \(5\)/);
    rules.given([]).when(setRule({ max: 5, scope: 'cluster' })).thenFails('invalid', /scope must be "service" or "host"/);
  });

  test('names are checked as metric names; services as First.Second', () => {
    rules.given([]).when(setRule({ name: 'a\u0000b', max: 1 })).thenFails('invalid', /control character/);
    rules.given([]).when(setRule({ name: 'x'.repeat(128), max: 1 })).thenFails('invalid', /at most 127/);
    rules.given([]).when({ ...setRule({ max: 1 }), service: 'Flight' }).thenFails('invalid', /only a first level/);
    rules.given([]).when({ ...setRule({ max: 1 }), service: "A.b'; DROP TABLE x" }).thenFails('invalid', /must start with a letter/);
  });

  test('host metrics are judged where agents report them: on RESERVED.monitor', () => {
    rules.given([]).when(setRule({ name: 'sys.cpu', max: 90 })).thenFails('invalid', /set the rule on RESERVED.monitor/);
    spec(alarmRulesDecider).given([]).when({ type: 'SetAlarmRule', service: 'RESERVED.monitor', name: 'sys.cpu', max: 90, scope: 'host' })
      .then([{ type: 'AlarmRuleSet', data: { ...rule({ service: 'RESERVED.monitor', name: 'sys.cpu', max: 90, scope: 'host' }) } }]);
  });

  test(`at most ${maxRulesPerService} rules a service; replacing one is still allowed at the limit`, () => {
    const full = Array.from({ length: maxRulesPerService }, (_, i) => ruleSet({ name: `usr.m${i}`, max: 1 }));
    rules.given(full).when(setRule({ name: 'usr.one_more', max: 1 })).thenFails('conflict', /already has 50 alarm rules; delete one first/);
    rules.given(full).when(setRule({ name: 'usr.m3', max: 2 })).then([ruleSet({ name: 'usr.m3', max: 2 })]);
  });

  test('delete: the rule must exist', () => {
    rules.given([ruleSet({ max: 1 })]).when({ type: 'DeleteAlarmRule', service: S, name: 'usr.orders' })
      .then([{ type: 'AlarmRuleDeleted', data: { service: S, name: 'usr.orders' } }]);
    rules.given([]).when({ type: 'DeleteAlarmRule', service: S, name: 'usr.orders' }).thenFails('not_found', /has no alarm rule on "usr.orders"/);
  });
});

describe('alarm webhooks', () => {
  const hook = (url: string): MonitoringEvent => ({ type: 'AlarmWebhookSet', data: { service: S, url } });
  test('a webhook is stored normalised, once; at most 5; removed only when there', () => {
    rules.given([]).when({ type: 'SetAlarmWebhook', service: S, url: 'http://0x7f.1:9000/hook' }).then([hook('http://127.0.0.1:9000/hook')]);
    rules.given([hook('https://a.example/x')]).when({ type: 'SetAlarmWebhook', service: S, url: 'https://a.example/x' }).thenNothing();
    const five = Array.from({ length: maxWebhooksPerService }, (_, i) => hook(`https://a.example/${i}`));
    rules.given(five).when({ type: 'SetAlarmWebhook', service: S, url: 'https://b.example/' }).thenFails('conflict', /already has 5 webhooks/);
    rules.given([hook('https://a.example/x')]).when({ type: 'RemoveAlarmWebhook', service: S, url: 'https://a.example/x' })
      .then([{ type: 'AlarmWebhookRemoved', data: { service: S, url: 'https://a.example/x' } }]);
    rules.given([]).when({ type: 'RemoveAlarmWebhook', service: S, url: 'https://a.example/x' }).thenFails('not_found', /no webhook/);
  });

  test('hostile URLs are refused with what to do instead', () => {
    const refused = (url: unknown, why: RegExp) => assertRefused(() => checkWebhookUrl(url), 'invalid', why);
    refused('', /a webhook URL is required/);
    refused('not a url', /is not a URL; write it in full/);
    refused('ftp://h/x', /must be http:\/\/ or https:\/\//);
    refused('javascript:alert(1)', /must be http/);
    refused('file:///etc/passwd', /must be http/);
    refused('http://user:secret@h/x', /user name or password/);
    refused('http://h/x#frag', /#fragment/);
    refused(`http://h/${'a'.repeat(2100)}`, /at most 2048/);
    refused(42, /required/);
  });

  test('a URL that leads back to the console is recognised in its disguises', () => {
    const local = { hosts: ['127.0.0.1'], port: 8080 };
    for (const url of ['http://127.0.0.1:8080/api/x', 'http://localhost:8080/', 'http://LOCALHOST:8080/', 'http://127.1.2.3:8080/', 'http://0x7f.1:8080/',
      'http://2130706433:8080/', 'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]:8080/', 'http://0.0.0.0:8080/', 'http://a.localhost:8080/']) {
      assert.equal(webhookReachesConsole(checkWebhookUrl(url), local), true, url);
    }
    assert.equal(webhookReachesConsole('http://127.0.0.1:8081/', local), false, 'another port is another program');
    assert.equal(webhookReachesConsole('http://alerts.example:8080/', local), false);
    assert.equal(webhookReachesConsole('http://alerts.example:8080/', local, '127.0.0.1'), true, 'a name that resolves back to the console');
    assert.equal(webhookReachesConsole('http://127.0.0.1:80/', { hosts: ['127.0.0.1'], port: 80 }), true);
    assert.equal(webhookReachesConsole('http://127.0.0.1/', { hosts: ['127.0.0.1'], port: 80 }), true, 'the default port counts');
    const everywhere = { hosts: ['0.0.0.0', '10.0.0.5'], port: 8080 };
    assert.equal(webhookReachesConsole('http://10.0.0.5:8080/', everywhere), true);
    assert.equal(webhookReachesConsole('http://10.0.0.6:8080/', everywhere), false);
    assert.equal(webhookReachesConsole('http://127.0.0.1:8080/', { hosts: ['10.0.0.5'], port: 8080 }), false, 'a console on one address is not on loopback');
    assert.equal(isLocalAddress('::ffff:7f00:1'), true);
    assert.equal(isLocalAddress('::ffff:a00:5'), false);
  });
});
