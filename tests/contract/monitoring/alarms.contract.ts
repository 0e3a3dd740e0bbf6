/**
 * Alarm evaluation on a real ClickHouse: rules set through the command path, values in the
 * metric views, the evaluator's clock moved by the test (no real minute waited): a check is
 * judged once its minute has ended and the grace has passed, raises once, resolves when the
 * value is back, and each verdict is an event on `alarms-<service>`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import { migrate } from '../../../adapters/views/clickhouse-migrate.ts';
import { AlarmEvaluator } from '../../../apps/monitor/alarm-evaluator.ts';
import { MetricQueries } from '../../../apps/monitor/metrics-queries.ts';
import { MetricsStore } from '../../../apps/monitor/metrics-store.ts';
import type { MetricItem } from '../../../apps/monitor/metric-report-checks.ts';
import { createCommandBus } from '../../../apps/console/command-bus.ts';
import { alarmRulesDecider } from '../../../domain/monitoring/alarm-rules.ts';
import { streams } from '../../../domain/streams.ts';
import { monitoringProjection, type MonitoringState } from '../../../projections/monitoring.ts';
import { allRules, openAlarms } from '../../../projections/monitoring-queries.ts';
import type { Target } from './views.contract.ts';

const S = 'Flight.mod_flight';
const m0 = Date.UTC(2024, 4, 2, 10, 0) / 1000;
const silent = pino({ level: 'silent' });
let reports = 0;

async function setup(target: Target, hosts: string[] = []) {
  const t = target;
  const database = t.database();
  await migrate(t.ch, database);
  const views = new MetricsStore(t.ch, database);
  const events = new MemoryEventStore();
  const commands = createCommandBus({ store: events });
  let now = m0 * 1000;
  const state = async (): Promise<MonitoringState> => (await events.readAll(0, 100_000)).reduce((s, e) => monitoringProjection.apply(s, e), monitoringProjection.initialState());
  let snapshot = await state();
  const evaluator = new AlarmEvaluator({
    commands, queries: new MetricQueries(t.ch, database), clock: () => now, graceMs: 30_000, logger: silent,
    rules: () => allRules(snapshot), openAlarms: (s) => openAlarms(snapshot, s), servicesWithOpenAlarms: () => snapshot.services.filter((s) => s.open.length).map((s) => s.service),
    hostsOf: () => hosts,
  });
  const meta = () => ({ commandId: `c-${++reports}`, actor: 'alice', reason: '', at: now });
  return {
    at: (seconds: number) => (now = seconds * 1000),
    rule: async (name: string, rule: Record<string, unknown>, service = S) => {
      await commands.execute(streams.alarmRules(service), alarmRulesDecider, { type: 'SetAlarmRule', service, name, ...rule }, meta());
      snapshot = await state();
    },
    deleteRule: async (name: string) => {
      await commands.execute(streams.alarmRules(S), alarmRulesDecider, { type: 'DeleteAlarmRule', service: S, name }, meta());
      snapshot = await state();
    },
    value: async (minute: number, name: string, value: number, ip = '', service = S) => {
      const item: MetricItem = { report: `r${++reports}`, service, name, ip, minute, kind: 'add', at: 0, value };
      await views.store([item]);
    },
    tick: async () => {
      await evaluator.tick();
      snapshot = await state();
      return evaluator.status();
    },
    alarms: async (service = S) => (await events.readStream(streams.alarms(service))).map((e) => {
      const d = e.data as { alarmType: string; ip: string; minute: number; value: number };
      return `${e.type} ${d.alarmType}${d.ip ? ` ${d.ip}` : ''} @${(d.minute - m0) / 60} = ${d.value}`;
    }),
    evaluator,
  };
}

export function alarmEvaluationContract(label: string, target: () => Target) {
  describe(`alarm evaluation: ${label}`, () => {
    it('a max rule raises once when its minute is judged (end + grace), and resolves when the value is back under the line', async () => {
      const a = await setup(target());
      await a.rule('usr.orders', { max: 10 });
      await a.value(m0, 'usr.orders', 12);
      a.at(m0 + 60 + 29);
      await a.tick();
      assert.deepEqual(await a.alarms(), [], 'the minute is not judged before its grace has passed');
      a.at(m0 + 60 + 30);
      const status = await a.tick();
      assert.equal(status.lastMinute, m0);
      assert.deepEqual(await a.alarms(), ['AlarmRaised max @0 = 12']);
      await a.value(m0 + 60, 'usr.orders', 15);
      a.at(m0 + 120 + 30);
      await a.tick();
      await a.tick();
      assert.deepEqual(await a.alarms(), ['AlarmRaised max @0 = 12'], 'still firing: raised once');
      await a.value(m0 + 120, 'usr.orders', 3);
      a.at(m0 + 180 + 30);
      await a.tick();
      assert.deepEqual(await a.alarms(), ['AlarmRaised max @0 = 12', 'AlarmResolved max @2 = 3']);
    });

    it('a minute judged twice (a retry, another evaluator) writes nothing twice', async () => {
      const a = await setup(target());
      await a.rule('usr.orders', { max: 10 });
      await a.value(m0, 'usr.orders', 12);
      await a.evaluator.evaluate(m0);
      await a.evaluator.evaluate(m0);
      assert.deepEqual(await a.alarms(), ['AlarmRaised max @0 = 12']);
    });

    it('"for N minutes", min on a silent service, diff % against yesterday, per host', async () => {
      const a = await setup(target(), ['10.0.0.3']);
      await a.rule('usr.orders', { max: 10, forMinutes: 3 });
      await a.rule('usr.heartbeat', { min: 1 });
      await a.rule('usr.logins', { diffPercent: 50 });
      await a.rule('usr.errors', { max: 5, scope: 'host' });
      await a.value(m0 - 86_400 + 120, 'usr.logins', 100);
      await a.value(m0 + 120, 'usr.logins', 160);
      for (const [i, v] of [[0, 11], [1, 12], [2, 13]] as const) await a.value(m0 + i * 60, 'usr.orders', v);
      for (const i of [0, 1, 2]) await a.value(m0 + i * 60, 'usr.heartbeat', 1 + i);
      await a.value(m0 + 120, 'usr.errors', 9, '10.0.0.1');
      await a.value(m0 + 120, 'usr.errors', 2, '10.0.0.2');
      a.at(m0 + 60 + 30);
      await a.tick();
      assert.deepEqual(await a.alarms(), ['AlarmRaised min @0 = 1'], 'heartbeat 1 ≤ min 1; orders only 1 minute over');
      a.at(m0 + 180 + 30);
      await a.tick();
      assert.deepEqual((await a.alarms()).sort(), [
        'AlarmRaised min @0 = 1', 'AlarmResolved min @1 = 2',
        'AlarmRaised max @2 = 13', 'AlarmRaised diff_percent @2 = 160', 'AlarmRaised max 10.0.0.1 @2 = 9',
      ].sort());
      a.at(m0 + 240 + 30);
      await a.tick();
      const after = await a.alarms();
      assert.ok(after.includes('AlarmRaised min @3 = 0'), `a silent minute counts as 0 (${after.join('; ')})`);
      assert.ok(after.includes('AlarmResolved max 10.0.0.1 @3 = 0'), 'a host back to 0 resolves');
    });

    it('deleting a rule resolves its open alarm at the next judged minute; missed minutes are judged in order on start', async () => {
      const a = await setup(target());
      await a.rule('usr.orders', { max: 10 });
      await a.value(m0, 'usr.orders', 12);
      a.at(m0 + 60 + 30);
      await a.tick();
      await a.deleteRule('usr.orders');
      a.at(m0 + 240 + 30);
      await a.tick();
      assert.deepEqual(await a.alarms(), ['AlarmRaised max @0 = 12', 'AlarmResolved max @1 = 0']);
      assert.equal(a.evaluator.status().lastMinute, m0 + 180, 'minutes 1, 2 and 3 judged');
    });

    it('many services and rules in one minute: one read, each service its own verdict', async () => {
      const a = await setup(target());
      for (let s = 0; s < 5; s++) {
        const service = `Load.svc${s}`;
        for (let r = 0; r < 4; r++) {
          await a.rule(`usr.m${r}`, { max: 10 }, service);
          await a.value(m0, `usr.m${r}`, r === s % 4 ? 50 : 1, '', service);
        }
      }
      a.at(m0 + 90);
      await a.tick();
      assert.equal(a.evaluator.status().last!.rules, 20);
      for (let s = 0; s < 5; s++) assert.deepEqual(await a.alarms(`Load.svc${s}`), ['AlarmRaised max @0 = 50']);
    });
  });
}
