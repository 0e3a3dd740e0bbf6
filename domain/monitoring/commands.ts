import type { AlarmRuleData, AlarmScope, AlarmType } from './events.ts';

/** Commands on a service's alarm rules (stream `alarm-rules-<service>`). */
export type AlarmRuleCommand =
  | { type: 'SetAlarmRule'; service: string; name: string; max?: number; min?: number; diff?: number; diffPercent?: number; forMinutes?: number; scope?: AlarmScope }
  | { type: 'DeleteAlarmRule'; service: string; name: string }
  /** `url` has been checked by webhook-url.ts (the console also checks it is not itself). */
  | { type: 'SetAlarmWebhook'; service: string; url: string }
  | { type: 'RemoveAlarmWebhook'; service: string; url: string };

/** One check of one rule at one minute: the alarm's identity. */
export interface AlarmKey {
  name: string;
  alarmType: AlarmType;
  /** '' for the whole service. */
  ip: string;
}

/** A check whose condition holds (for its rule's N minutes) at the judged minute. */
export interface AlarmFinding extends AlarmKey {
  value: number;
  threshold: number;
  previous: number;
  forMinutes: number;
}

/**
 * The verdict of one completed minute for a service (stream `alarms-<service>`), made by the
 * evaluator from its rules and the views (alarm-judge.ts):
 * - `findings`: the checks that fire;
 * - `judged`: every check that got a verdict (firing or not); a check without one (no value
 *   yesterday for a diff) leaves its alarm as it is;
 * - `active`: the checks the rules hold now (`name` + `alarmType`), so an alarm whose check was
 *   deleted or disabled is resolved.
 */
export type AlarmCommand = {
  type: 'JudgeMinute';
  service: string;
  minute: number;
  findings: AlarmFinding[];
  judged: (AlarmKey & { value: number })[];
  active: { name: string; alarmType: AlarmType }[];
};

export type { AlarmRuleData };
