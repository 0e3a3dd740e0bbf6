/** The monitoring read model: rules, webhooks, open alarms, the alarm list per day, "fired since". */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecordedEvent } from '../../../domain/events.ts';
import type { MonitoringEvent } from '../../../domain/monitoring/events.ts';
import { monitoringProjection, recentLimit, type MonitoringState } from '../../../projections/monitoring.ts';
import { alarmList, allRules, firedSince, openAlarms, webhooksOf } from '../../../projections/monitoring-queries.ts';

const S = 'Flight.mod_flight';
let position = 0;
const recorded = (e: MonitoringEvent): RecordedEvent => ({
  ...e, id: `e${++position}`, stream: `x-${e.data.service}`, revision: 0, position, occurredAt: new Date(position * 1000).toISOString(),
  actor: 'a', reason: '', correlationId: 'c', causationId: 'c', schemaVersion: 1,
} as RecordedEvent);
const fold = (events: MonitoringEvent[], state = monitoringProjection.initialState()): MonitoringState =>
  events.reduce((s, e) => monitoringProjection.apply(s, recorded(e)), state);
const raised = (minute: number, over: Record<string, unknown> = {}): MonitoringEvent => ({
  type: 'AlarmRaised', data: { service: S, name: 'usr.orders', alarmType: 'max', ip: '', minute, value: 12, threshold: 10, previous: 0, forMinutes: 1, ...over },
} as MonitoringEvent);
const resolved = (minute: number, raisedMinute: number): MonitoringEvent => ({
  type: 'AlarmResolved', data: { service: S, name: 'usr.orders', alarmType: 'max', ip: '', minute, value: 2, raisedMinute, reason: 'normal' },
});

test('rules and webhooks per service; a webhook remembers from which position it gets alarms', () => {
  const s = fold([
    { type: 'AlarmRuleSet', data: { service: S, name: 'usr.b', max: 1, min: 0, diff: 0, diffPercent: 0, forMinutes: 1, scope: 'service' } },
    { type: 'AlarmRuleSet', data: { service: S, name: 'usr.a', max: 1, min: 0, diff: 0, diffPercent: 0, forMinutes: 1, scope: 'service' } },
    { type: 'AlarmWebhookSet', data: { service: S, url: 'https://h/1' } },
    { type: 'AlarmRuleDeleted', data: { service: S, name: 'usr.b' } },
  ]);
  assert.deepEqual(allRules(s).map((r) => r.name), ['usr.a']);
  assert.equal(webhooksOf(s, S).length, 1);
  assert.ok(webhooksOf(s, S)[0]!.since > 0);
  assert.deepEqual(webhooksOf(s, 'Other.svc'), []);
});

test('open alarms, the list per day, and "did an alarm fire since T"', () => {
  const day1 = Date.UTC(2024, 4, 1) / 1000;
  const s = fold([raised(day1 + 600), resolved(day1 + 660, day1 + 600), raised(day1 + 86_400 + 60, { value: 40 }), raised(day1 + 86_400 + 60, { alarmType: 'min', ip: '10.0.0.1', value: 0 })]);
  assert.deepEqual(openAlarms(s).map((a) => [a.alarmType, a.ip]), [['max', ''], ['min', '10.0.0.1']]);
  assert.deepEqual(alarmList(s).map((r) => [r.day, r.name, r.alarmType, r.count, r.maxValue]),
    [['20240502', 'usr.orders', 'max', 1, 40], ['20240502', 'usr.orders', 'min', 1, 0], ['20240501', 'usr.orders', 'max', 1, 12]]);
  assert.deepEqual(alarmList(s, { fromDay: '20240502' }).length, 2);
  assert.deepEqual(alarmList(s, { services: () => false }), []);
  assert.equal(firedSince(s, S, (day1 + 700) * 1000).fired, true);
  assert.equal(firedSince(s, S, (day1 + 86_400 + 60) * 1000 + 59_000).fired, true, 'the minute holding T counts');
  assert.equal(firedSince(s, S, (day1 + 86_400 + 120) * 1000).fired, false);
  assert.equal(firedSince(s, S, (day1 + 86_400 + 120) * 1000).open.length, 2, 'alarms open from before are listed');
  assert.equal(firedSince(s, 'Other.svc', 0).fired, false);
});

test('bounded: the last alarms per service, and day counts within 40 days of the newest', () => {
  const start = Date.UTC(2024, 0, 1) / 1000;
  const many: MonitoringEvent[] = [];
  for (let i = 0; i < recentLimit + 50; i++) many.push(raised(start + i * 3600, { ip: `10.0.${i >> 8}.${i & 255}` }));
  many.push(raised(start + 60 * 86_400));
  const s = fold(many);
  assert.equal(s.services[0]!.raised.length, recentLimit);
  assert.ok(s.services[0]!.days.every((d) => d.day > '20240121'), 'days older than 40 days before the newest alarm are forgotten');
  assert.equal(firedSince(s, S, 0).fired, true);
});

test('the projection never changes the state it is given', () => {
  const before = fold([raised(60)]);
  const frozen = JSON.stringify(before);
  fold([resolved(120, 60), raised(180)], before);
  assert.equal(JSON.stringify(before), frozen);
});
