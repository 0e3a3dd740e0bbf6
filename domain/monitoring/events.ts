/**
 * Events of monitoring (shapes mirror schemas/events/monitoring.proto):
 * - stream `alarm-rules-<First.Second>`: a service's alarm rules and webhooks (commands from
 *   users, alarm-rules.ts);
 * - stream `alarms-<First.Second>`: its alarms raised and resolved, decided once per completed
 *   minute by the alarm evaluator (alarms.ts).
 */

/** MSEC's alarm types 1..4: max (value ≥ max), min (value ≤ min), diff and diff % against the same minute yesterday. */
export type AlarmType = 'max' | 'min' | 'diff' | 'diff_percent';
export const alarmTypes: readonly AlarmType[] = ['max', 'min', 'diff', 'diff_percent'];

/** Whole service (MSEC) or each host of the service on its own. */
export type AlarmScope = 'service' | 'host';

export interface AlarmRuleData {
  service: string;
  /** The metric's view name (`usr.orders`, `frm.requests queryFlight`). */
  name: string;
  /** Thresholds; 0 disables a check, as in MSEC. */
  max: number;
  min: number;
  diff: number;
  diffPercent: number;
  /** Completed minutes in a row the condition must hold before the alarm is raised (1: MSEC). */
  forMinutes: number;
  scope: AlarmScope;
}

export interface AlarmRaisedData {
  service: string;
  name: string;
  alarmType: AlarmType;
  /** '' for the whole service. */
  ip: string;
  /** Epoch seconds of the completed minute that made it fire. */
  minute: number;
  value: number;
  threshold: number;
  /** The same minute yesterday (diff types), else 0. */
  previous: number;
  forMinutes: number;
}

export interface AlarmResolvedData {
  service: string;
  name: string;
  alarmType: AlarmType;
  ip: string;
  /** Epoch seconds of the minute that was back to normal (or of the evaluation that found the rule gone). */
  minute: number;
  value: number;
  /** When it was raised. */
  raisedMinute: number;
  /** `normal`: the value is back within the line; `rule-changed`: the check was removed or disabled. */
  reason: 'normal' | 'rule-changed';
}

export type MonitoringEvent =
  | { type: 'AlarmRuleSet'; data: AlarmRuleData }
  | { type: 'AlarmRuleDeleted'; data: { service: string; name: string } }
  | { type: 'AlarmWebhookSet'; data: { service: string; url: string } }
  | { type: 'AlarmWebhookRemoved'; data: { service: string; url: string } }
  | { type: 'AlarmRaised'; data: AlarmRaisedData }
  | { type: 'AlarmResolved'; data: AlarmResolvedData };

export type MonitoringEventType = MonitoringEvent['type'];

export const monitoringEventTypes: readonly MonitoringEventType[] = [
  'AlarmRuleSet', 'AlarmRuleDeleted', 'AlarmWebhookSet', 'AlarmWebhookRemoved', 'AlarmRaised', 'AlarmResolved',
];
