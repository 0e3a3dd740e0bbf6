import type { AlarmRuleData, AlarmType } from './events.ts';

/**
 * Judging one rule at one completed minute (MSEC's judge_proc_center, pure):
 *   max           value ≥ max
 *   min           value ≤ min
 *   diff          |value − same minute yesterday| ≥ diff
 *   diff_percent  |Δ|·100 / min(yesterday, value) ≥ diff %   (Δ ≠ 0 from or to 0 counts as infinite)
 * A threshold of 0 disables its check. Beyond MSEC, the condition must hold for each of the
 * rule's last `forMinutes` minutes. A minute without any report counts as 0, as the curve shows
 * it; a diff check needs yesterday's value at the judged minute, else it gives no verdict (MSEC
 * skipped diffs against an empty yesterday).
 */

export interface RuleSeries {
  /** Values of the last `forMinutes` completed minutes, oldest first, the judged minute last; null: nothing reported. */
  recent: readonly (number | null)[];
  /** The same minutes one day earlier. */
  yesterday: readonly (number | null)[];
}

export interface CheckVerdict {
  alarmType: AlarmType;
  firing: boolean;
  /** The judged minute's value. */
  value: number;
  threshold: number;
  /** Yesterday's value at the judged minute (diff types), else 0. */
  previous: number;
}

export function thresholdOf(rule: AlarmRuleData, type: AlarmType): number {
  switch (type) {
    case 'max': return rule.max;
    case 'min': return rule.min;
    case 'diff': return rule.diff;
    case 'diff_percent': return rule.diffPercent;
  }
}

/** The checks a rule has switched on. */
export function enabledChecks(rule: AlarmRuleData): AlarmType[] {
  return (['max', 'min', 'diff', 'diff_percent'] as const).filter((t) => thresholdOf(rule, t) !== 0);
}

export function diffPercent(value: number, previous: number): number {
  const delta = Math.abs(value - previous);
  if (delta === 0) return 0;
  const base = Math.min(previous, value);
  return base > 0 ? (delta * 100) / base : Number.POSITIVE_INFINITY;
}

/** One verdict per enabled check that can be judged; a diff check without yesterday's value is left out. */
export function judgeRule(rule: AlarmRuleData, series: RuleSeries): CheckVerdict[] {
  const n = rule.forMinutes;
  if (series.recent.length !== n || series.yesterday.length !== n) {
    throw new RangeError(`a rule "for ${n} minutes" is judged on ${n} minutes, not ${series.recent.length} (yesterday ${series.yesterday.length})`);
  }
  const now = series.recent.map((v) => v ?? 0);
  const value = now[n - 1]!;
  const verdicts: CheckVerdict[] = [];
  for (const alarmType of enabledChecks(rule)) {
    const threshold = thresholdOf(rule, alarmType);
    let holds: (i: number) => boolean;
    let previous = 0;
    switch (alarmType) {
      case 'max':
        holds = (i) => now[i]! >= threshold;
        break;
      case 'min':
        holds = (i) => now[i]! <= threshold;
        break;
      case 'diff':
      case 'diff_percent': {
        const last = series.yesterday[n - 1];
        if (last === null || last === undefined) continue;
        previous = last;
        const measure = alarmType === 'diff' ? (a: number, b: number) => Math.abs(a - b) : diffPercent;
        holds = (i) => {
          const before = series.yesterday[i];
          return before !== null && before !== undefined && measure(now[i]!, before) >= threshold;
        };
        break;
      }
    }
    let firing = true;
    for (let i = 0; i < n && firing; i++) firing = holds(i);
    verdicts.push({ alarmType, firing, value, threshold, previous });
  }
  return verdicts;
}
