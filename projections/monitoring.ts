import type { RecordedEvent } from '../domain/events.ts';
import { monitoringEventTypes, type AlarmRuleData, type AlarmType, type MonitoringEvent } from '../domain/monitoring/events.ts';
import type { StateProjection } from './projection.ts';
import { keyedList } from './sorted-list.ts';

/**
 * Monitoring read model: per service its alarm rules (what the evaluator judges), webhooks
 * (where the deliverer sends alarms), open alarms, the latest alarm transitions, and counts per
 * (name, type, UTC day) for MSEC's alarm list. Bounded: a service keeps its last `recentLimit`
 * raised and resolved alarms, and day counts for `keepDays` days before its newest alarm.
 */
export interface MonitoringState {
  /** Sorted by service. */
  services: ServiceMonitoring[];
}

export interface ServiceMonitoring {
  service: string;
  /** Sorted by metric name. */
  rules: AlarmRuleData[];
  webhooks: WebhookRecord[];
  /** Sorted by key (name, type, ip). */
  open: AlarmRecord[];
  /** Newest last, at most `recentLimit`. */
  raised: AlarmRecord[];
  resolved: AlarmRecord[];
  /** Sorted by day, then name, then type. */
  days: DayCount[];
}

export interface WebhookRecord {
  url: string;
  /** Global position of the event that added it: alarms from before it are not sent to it. */
  since: number;
  addedAt: string;
}

export interface AlarmRecord {
  name: string;
  alarmType: AlarmType;
  ip: string;
  /** Epoch seconds of the judged minute. */
  minute: number;
  value: number;
  threshold: number;
  previous: number;
  /** Resolved: when it was raised; raised: its own minute. */
  raisedMinute: number;
  reason: string;
  /** Event id (webhook deliveries carry it) and global position. */
  eventId: string;
  position: number;
}

export interface DayCount {
  /** UTC day `YYYYMMDD` of the raised minute. */
  day: string;
  name: string;
  alarmType: AlarmType;
  count: number;
  firstMinute: number;
  lastMinute: number;
  maxValue: number;
  minValue: number;
}

export const recentLimit = 200;
export const keepDays = 40;

export const monitoringProjection: StateProjection<MonitoringState> = {
  kind: 'state',
  name: 'monitoring',
  version: 1,
  handles: monitoringEventTypes,
  initialState: () => ({ services: [] }),
  apply: (state, event) => applyMonitoringEvent(state, event as RecordedEvent<MonitoringEvent>),
};

export const serviceMonitoringList = keyedList<ServiceMonitoring>((s) => s.service);
const ruleList = keyedList<AlarmRuleData>((r) => r.name);
export const openKey = (a: { name: string; alarmType: string; ip: string }) => `${a.name}\u0000${a.alarmType}\u0000${a.ip}`;
const openList = keyedList<AlarmRecord>(openKey);

const emptyService = (service: string): ServiceMonitoring => ({ service, rules: [], webhooks: [], open: [], raised: [], resolved: [], days: [] });

function applyMonitoringEvent(state: MonitoringState, event: RecordedEvent<MonitoringEvent>): MonitoringState {
  const service = event.data.service;
  const current = serviceMonitoringList.find(state.services, service) ?? emptyService(service);
  const next = applyToService(current, event);
  return next === current ? state : { services: serviceMonitoringList.with(state.services, next) };
}

function applyToService(s: ServiceMonitoring, event: RecordedEvent<MonitoringEvent>): ServiceMonitoring {
  switch (event.type) {
    case 'AlarmRuleSet':
      return { ...s, rules: ruleList.with(s.rules, { ...event.data }) };
    case 'AlarmRuleDeleted':
      return { ...s, rules: ruleList.without(s.rules, event.data.name) };
    case 'AlarmWebhookSet':
      return { ...s, webhooks: [...s.webhooks.filter((w) => w.url !== event.data.url), { url: event.data.url, since: event.position, addedAt: event.occurredAt }] };
    case 'AlarmWebhookRemoved':
      return { ...s, webhooks: s.webhooks.filter((w) => w.url !== event.data.url) };
    case 'AlarmRaised': {
      const d = event.data;
      const record: AlarmRecord = {
        name: d.name, alarmType: d.alarmType, ip: d.ip, minute: d.minute, value: d.value, threshold: d.threshold, previous: d.previous,
        raisedMinute: d.minute, reason: '', eventId: event.id, position: event.position,
      };
      return { ...s, open: openList.with(s.open, record), raised: bounded(s.raised, record), days: countDay(s.days, record) };
    }
    case 'AlarmResolved': {
      const d = event.data;
      const raised = openList.find(s.open, openKey(d));
      const record: AlarmRecord = {
        name: d.name, alarmType: d.alarmType, ip: d.ip, minute: d.minute, value: d.value, threshold: raised?.threshold ?? 0,
        previous: 0, raisedMinute: d.raisedMinute, reason: d.reason, eventId: event.id, position: event.position,
      };
      return { ...s, open: openList.without(s.open, openKey(d)), resolved: bounded(s.resolved, record) };
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function bounded(list: AlarmRecord[], record: AlarmRecord): AlarmRecord[] {
  const next = [...list, record];
  return next.length > recentLimit ? next.slice(next.length - recentLimit) : next;
}

/** `YYYYMMDD` of an epoch-seconds minute, in UTC. */
export function utcDay(minute: number): string {
  return new Date(minute * 1000).toISOString().slice(0, 10).replaceAll('-', '');
}

const dayOrder = (d: DayCount) => `${d.day}\u0000${d.name}\u0000${d.alarmType}`;

function countDay(days: DayCount[], r: AlarmRecord): DayCount[] {
  const day = utcDay(r.minute);
  const key = `${day}\u0000${r.name}\u0000${r.alarmType}`;
  const oldest = utcDay(r.minute - keepDays * 86_400);
  const kept = days.filter((d) => d.day > oldest);
  const i = kept.findIndex((d) => dayOrder(d) === key);
  if (i >= 0) {
    const d = kept[i]!;
    const copy = kept.slice();
    copy[i] = {
      ...d, count: d.count + 1, firstMinute: Math.min(d.firstMinute, r.minute), lastMinute: Math.max(d.lastMinute, r.minute),
      maxValue: Math.max(d.maxValue, r.value), minValue: Math.min(d.minValue, r.value),
    };
    return copy;
  }
  const added: DayCount = { day, name: r.name, alarmType: r.alarmType, count: 1, firstMinute: r.minute, lastMinute: r.minute, maxValue: r.value, minValue: r.value };
  return [...kept, added].sort((a, b) => (dayOrder(a) < dayOrder(b) ? -1 : dayOrder(a) > dayOrder(b) ? 1 : 0));
}
