/** How a completed minute is judged (MSEC's four checks, for N minutes) and how verdicts become AlarmRaised / AlarmResolved. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffPercent, judgeRule } from '../../../domain/monitoring/alarm-judge.ts';
import { alarmsDecider } from '../../../domain/monitoring/alarms.ts';
import type { AlarmCommand, AlarmFinding } from '../../../domain/monitoring/commands.ts';
import type { AlarmRuleData, MonitoringEvent } from '../../../domain/monitoring/events.ts';
import { latencyQuantile, percentileCurves } from '../../../domain/monitoring/latency-percentiles.ts';
import { spec } from '../support/given-when-then.ts';

const S = 'Flight.mod_flight';
const rule = (over: Partial<AlarmRuleData> = {}): AlarmRuleData => ({ service: S, name: 'usr.orders', max: 0, min: 0, diff: 0, diffPercent: 0, forMinutes: 1, scope: 'service', ...over });
const verdicts = (r: AlarmRuleData, recent: (number | null)[], yesterday: (number | null)[] = recent.map(() => null)) =>
  judgeRule(r, { recent, yesterday }).map((v) => [v.alarmType, v.firing]);

describe('judging a minute', () => {
  test('max fires at or above the line, min at or below; 0 disables a check', () => {
    assert.deepEqual(verdicts(rule({ max: 10 }), [10]), [['max', true]]);
    assert.deepEqual(verdicts(rule({ max: 10 }), [9.99]), [['max', false]]);
    assert.deepEqual(verdicts(rule({ min: 3 }), [3]), [['min', true]]);
    assert.deepEqual(verdicts(rule({ min: 3 }), [4]), [['min', false]]);
    assert.deepEqual(verdicts(rule({ max: 10, min: 0 }), [0]), [['max', false]], 'min 0 is off, not "≤ 0"');
  });

  test('a minute without any report counts as 0, as the curve shows it', () => {
    assert.deepEqual(verdicts(rule({ min: 1 }), [null]), [['min', true]]);
    assert.deepEqual(verdicts(rule({ max: 1 }), [null]), [['max', false]]);
  });

  test('diff and diff % compare with the same minute yesterday; no value yesterday: no verdict', () => {
    assert.deepEqual(verdicts(rule({ diff: 5 }), [10], [4]), [['diff', true]]);
    assert.deepEqual(verdicts(rule({ diff: 5 }), [10], [16]), [['diff', true]], '|Δ| both ways');
    assert.deepEqual(verdicts(rule({ diff: 5 }), [10], [6]), [['diff', false]]);
    assert.deepEqual(verdicts(rule({ diff: 5 }), [10], [null]), []);
    assert.deepEqual(verdicts(rule({ diffPercent: 50 }), [150], [100]), [['diff_percent', true]]);
    assert.deepEqual(verdicts(rule({ diffPercent: 50 }), [100], [150]), [['diff_percent', true]], '|Δ|·100/min(prev, now)');
    assert.deepEqual(verdicts(rule({ diffPercent: 50 }), [140], [100]), [['diff_percent', false]]);
    assert.equal(diffPercent(5, 0), Number.POSITIVE_INFINITY, 'from nothing to something');
    assert.equal(diffPercent(0, 0), 0);
    const [v] = judgeRule(rule({ diff: 1 }), { recent: [7], yesterday: [2] });
    assert.deepEqual({ value: v!.value, previous: v!.previous, threshold: v!.threshold }, { value: 7, previous: 2, threshold: 1 });
  });

  test('"for N minutes": the condition must hold at each of the last N minutes', () => {
    assert.deepEqual(verdicts(rule({ max: 10, forMinutes: 3 }), [11, 12, 13]), [['max', true]]);
    assert.deepEqual(verdicts(rule({ max: 10, forMinutes: 3 }), [11, 9, 13]), [['max', false]]);
    assert.deepEqual(verdicts(rule({ diff: 5, forMinutes: 2 }), [10, 10], [null, 0]), [['diff', false]], 'a minute without yesterday does not hold');
    assert.throws(() => judgeRule(rule({ max: 1, forMinutes: 2 }), { recent: [1], yesterday: [1] }), /judged on 2 minutes/);
  });
});

describe('alarms of a service: verdicts become transitions', () => {
  const alarms = spec(alarmsDecider);
  const finding = (over: Partial<AlarmFinding> = {}): AlarmFinding => ({ name: 'usr.orders', alarmType: 'max', ip: '', value: 12, threshold: 10, previous: 0, forMinutes: 1, ...over });
  const judge = (minute: number, findings: AlarmFinding[], judged = findings.map((f) => ({ name: f.name, alarmType: f.alarmType, ip: f.ip, value: f.value })),
    active = [{ name: 'usr.orders', alarmType: 'max' as const }]): AlarmCommand => ({ type: 'JudgeMinute', service: S, minute, findings, judged, active });
  const raised = (minute: number, over: Partial<AlarmFinding> = {}): MonitoringEvent => {
    const f = finding(over);
    return { type: 'AlarmRaised', data: { service: S, name: f.name, alarmType: f.alarmType, ip: f.ip, minute, value: f.value, threshold: f.threshold, previous: f.previous, forMinutes: f.forMinutes } };
  };

  test('a check that starts firing raises once; firing on does not raise again', () => {
    alarms.given([]).when(judge(60, [finding()])).then([raised(60)]);
    alarms.given([raised(60)]).when(judge(120, [finding({ value: 15 })])).thenNothing();
  });

  test('back to normal resolves it with the value; a check with no verdict leaves it open', () => {
    alarms.given([raised(60)]).when(judge(120, [], [{ name: 'usr.orders', alarmType: 'max', ip: '', value: 3 }])).then([{
      type: 'AlarmResolved', data: { service: S, name: 'usr.orders', alarmType: 'max', ip: '', minute: 120, value: 3, raisedMinute: 60, reason: 'normal' },
    }]);
    alarms.given([raised(60)]).when(judge(120, [], [])).thenNothing();
  });

  test('a check that was deleted or disabled resolves its alarm', () => {
    alarms.given([raised(60)]).when(judge(120, [], [], [])).then([{
      type: 'AlarmResolved', data: { service: S, name: 'usr.orders', alarmType: 'max', ip: '', minute: 120, value: 0, raisedMinute: 60, reason: 'rule-changed' },
    }]);
  });

  test('the same minute judged twice, or an older one, decides nothing', () => {
    alarms.given([raised(120)]).when(judge(120, [finding()])).thenNothing();
    alarms.given([raised(120)]).when(judge(60, [], [{ name: 'usr.orders', alarmType: 'max', ip: '', value: 0 }])).thenNothing();
  });

  test('per host: each ip is an alarm of its own', () => {
    alarms.given([raised(60, { ip: '10.0.0.1' })]).when(judge(120, [finding({ ip: '10.0.0.1' }), finding({ ip: '10.0.0.2' })])).then([raised(120, { ip: '10.0.0.2' })]);
  });
});

describe('latency percentiles from cumulative buckets', () => {
  const bounds = [1, 5, 10, 50, 100, 500, 1000];
  test('interpolates inside the bucket holding the rank', () => {
    // 100 calls: 50 ≤ 1 ms, 90 ≤ 5 ms, 100 ≤ 10 ms.
    const buckets = { bounds, cumulative: [50, 90, 100, 100, 100, 100, 100, 100] };
    assert.equal(latencyQuantile(0.5, buckets), 1);
    assert.equal(latencyQuantile(0.9, buckets), 5);
    assert.ok(Math.abs(latencyQuantile(0.99, buckets)! - 9.5) < 1e-9);
    assert.equal(latencyQuantile(0.25, buckets), 0.5);
  });
  test('the open bucket answers the last finite bound; no calls answers null', () => {
    assert.equal(latencyQuantile(0.99, { bounds, cumulative: [0, 0, 0, 0, 0, 0, 0, 10] }), 1000);
    assert.equal(latencyQuantile(0.5, { bounds, cumulative: [0, 0, 0, 0, 0, 0, 0, 0] }), null);
    assert.throws(() => latencyQuantile(1, { bounds, cumulative: [0, 0, 0, 0, 0, 0, 0, 1] }), /between 0 and 1/);
  });
  test('per minute', () => {
    const curves = [[1, null], [2, null], [2, null]];
    assert.deepEqual(percentileCurves([1, 5], curves), { p50: [1, null], p90: [4.2, null], p99: [4.92, null] });
  });
});
