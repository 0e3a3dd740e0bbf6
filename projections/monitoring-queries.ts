import type { AlarmRuleData } from '../domain/monitoring/events.ts';
import { serviceMonitoringList, type AlarmRecord, type DayCount, type MonitoringState, type ServiceMonitoring, type WebhookRecord } from './monitoring.ts';

/** What the console and the evaluator read from the monitoring read model. */

export function monitoringOf(state: MonitoringState, service: string): ServiceMonitoring | undefined {
  return serviceMonitoringList.find(state.services, service);
}

export function rulesOf(state: MonitoringState, service: string): AlarmRuleData[] {
  return monitoringOf(state, service)?.rules ?? [];
}

/** Every service's rules, for the evaluator. */
export function allRules(state: MonitoringState): AlarmRuleData[] {
  return state.services.flatMap((s) => s.rules);
}

export function webhooksOf(state: MonitoringState, service: string): WebhookRecord[] {
  return monitoringOf(state, service)?.webhooks ?? [];
}

export interface OpenAlarmListing extends AlarmRecord {
  service: string;
}

/** Open alarms, of one service or all, by service then key. */
export function openAlarms(state: MonitoringState, service?: string): OpenAlarmListing[] {
  const services = service === undefined ? state.services : [monitoringOf(state, service)].filter((s): s is ServiceMonitoring => !!s);
  return services.flatMap((s) => s.open.map((a) => ({ ...a, service: s.service })));
}

export interface AlarmListRow extends DayCount {
  service: string;
}

/** MSEC's alarm list: counts per (service, name, type, UTC day), newest day first; `services` limits it. */
export function alarmList(state: MonitoringState, filter: { services?: (service: string) => boolean; fromDay?: string; toDay?: string } = {}): AlarmListRow[] {
  const rows: AlarmListRow[] = [];
  for (const s of state.services) {
    if (filter.services && !filter.services(s.service)) continue;
    for (const d of s.days) {
      if (filter.fromDay && d.day < filter.fromDay) continue;
      if (filter.toDay && d.day > filter.toDay) continue;
      rows.push({ ...d, service: s.service });
    }
  }
  return rows.sort((a, b) => (a.day !== b.day ? (a.day < b.day ? 1 : -1) : a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.alarmType < b.alarmType ? -1 : 1));
}

export interface FiredSince {
  service: string;
  /** Epoch ms asked about. */
  since: number;
  /** Whether an alarm of the service was raised at or after the minute holding `since`. */
  fired: boolean;
  /** Those alarms, oldest first. */
  raised: AlarmRecord[];
  /** Alarms open now (raised before `since` included). */
  open: AlarmRecord[];
}

/** "Did an alarm of service S fire since T?" — what a release in progress asks before it goes on. */
export function firedSince(state: MonitoringState, service: string, sinceMs: number): FiredSince {
  const s = monitoringOf(state, service);
  const fromMinute = Math.floor(sinceMs / 60_000) * 60;
  const raised = (s?.raised ?? []).filter((r) => r.minute >= fromMinute);
  return { service, since: sinceMs, fired: raised.length > 0, raised, open: s?.open ?? [] };
}
