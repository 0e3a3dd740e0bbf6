import type { Decider } from '../decider.ts';
import type { AlarmCommand, AlarmKey } from './commands.ts';
import type { MonitoringEvent } from './events.ts';

/**
 * A service's alarms (stream `alarms-<First.Second>`): which checks are firing. The evaluator
 * judges each completed minute (alarm-judge.ts) and sends the verdict here; this decider turns
 * verdicts into transitions only — AlarmRaised when a check starts firing, AlarmResolved when it
 * is back to normal or its check is gone — so a minute judged twice (a retry, two consoles)
 * raises nothing twice, and a verdict older than the last one judged is ignored.
 */

export interface OpenAlarm extends AlarmKey {
  raisedMinute: number;
}

export interface AlarmsState {
  open: Map<string, OpenAlarm>;
  /** The latest minute whose verdict changed something. */
  lastMinute: number;
}

export const alarmKey = (k: AlarmKey) => `${k.name}\u0000${k.alarmType}\u0000${k.ip}`;

export const alarmsDecider: Decider<AlarmCommand, MonitoringEvent, AlarmsState> = {
  initialState: () => ({ open: new Map(), lastMinute: 0 }),
  evolve(state, event) {
    if (event.type === 'AlarmRaised') {
      const { name, alarmType, ip, minute } = event.data;
      const open = new Map(state.open);
      open.set(alarmKey(event.data), { name, alarmType, ip, raisedMinute: minute });
      return { open, lastMinute: Math.max(state.lastMinute, minute) };
    }
    if (event.type === 'AlarmResolved') {
      const open = new Map(state.open);
      open.delete(alarmKey(event.data));
      return { open, lastMinute: Math.max(state.lastMinute, event.data.minute) };
    }
    return state;
  },
  decide(command, state) {
    const { service, minute } = command;
    if (minute <= state.lastMinute) return [];
    const events: MonitoringEvent[] = [];
    const firing = new Set<string>();
    for (const f of command.findings) {
      const key = alarmKey(f);
      firing.add(key);
      if (state.open.has(key)) continue;
      events.push({
        type: 'AlarmRaised',
        data: { service, name: f.name, alarmType: f.alarmType, ip: f.ip, minute, value: f.value, threshold: f.threshold, previous: f.previous, forMinutes: f.forMinutes },
      });
    }
    const active = new Set(command.active.map((a) => `${a.name}\u0000${a.alarmType}`));
    const judged = new Map(command.judged.map((j) => [alarmKey(j), j.value]));
    for (const [key, alarm] of state.open) {
      if (firing.has(key)) continue;
      const stillChecked = active.has(`${alarm.name}\u0000${alarm.alarmType}`);
      if (stillChecked && !judged.has(key)) continue; // no verdict this minute: leave it
      events.push({
        type: 'AlarmResolved',
        data: {
          service, name: alarm.name, alarmType: alarm.alarmType, ip: alarm.ip, minute, value: judged.get(key) ?? 0,
          raisedMinute: alarm.raisedMinute, reason: stillChecked ? 'normal' : 'rule-changed',
        },
      });
    }
    return events;
  },
};
