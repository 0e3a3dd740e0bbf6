import { refuse, type Decider } from '../decider.ts';
import { parseSecondLevelName } from '../services/names.ts';
import type { AlarmRuleCommand } from './commands.ts';
import type { AlarmRuleData, AlarmScope, MonitoringEvent } from './events.ts';
import { checkMetricText, hostMetricsService, isHostMetric } from './metric-names.ts';
import { checkWebhookUrl } from './webhook-url.ts';

/**
 * A service's alarm rules and webhooks (stream `alarm-rules-<First.Second>`). A rule watches one
 * metric with MSEC's four checks (0 disables one) and, beyond MSEC, may ask for the condition to
 * hold N minutes in a row and be judged per host instead of on the whole service.
 */

/** MSEC allowed 5 rules a service; views in ClickHouse take more. */
export const maxRulesPerService = 50;
export const maxWebhooksPerService = 5;
export const maxForMinutes = 60;
/** Thresholds are compared with per-minute values; anything above this is a typo. */
export const maxThreshold = 1e15;

export interface AlarmRulesState {
  rules: Map<string, AlarmRuleData>;
  webhooks: string[];
}

export const alarmRulesDecider: Decider<AlarmRuleCommand, MonitoringEvent, AlarmRulesState> = {
  initialState: () => ({ rules: new Map(), webhooks: [] }),
  evolve,
  decide,
};

function evolve(state: AlarmRulesState, event: MonitoringEvent): AlarmRulesState {
  switch (event.type) {
    case 'AlarmRuleSet': {
      const rules = new Map(state.rules);
      rules.set(event.data.name, event.data);
      return { ...state, rules };
    }
    case 'AlarmRuleDeleted': {
      const rules = new Map(state.rules);
      rules.delete(event.data.name);
      return { ...state, rules };
    }
    case 'AlarmWebhookSet':
      return { ...state, webhooks: [...state.webhooks.filter((u) => u !== event.data.url), event.data.url] };
    case 'AlarmWebhookRemoved':
      return { ...state, webhooks: state.webhooks.filter((u) => u !== event.data.url) };
    default:
      return state;
  }
}

function decide(command: AlarmRuleCommand, state: AlarmRulesState): MonitoringEvent[] {
  const service = parseSecondLevelName(command.service).full;
  switch (command.type) {
    case 'SetAlarmRule': {
      const rule = checkRule({ ...command, service });
      if (!state.rules.has(rule.name) && state.rules.size >= maxRulesPerService) {
        return refuse('conflict', `${service} already has ${maxRulesPerService} alarm rules; delete one first (msec alarm delete ${service} NAME)`);
      }
      const known = state.rules.get(rule.name);
      if (known && sameRule(known, rule)) return [];
      return [{ type: 'AlarmRuleSet', data: rule }];
    }
    case 'DeleteAlarmRule': {
      const name = checkMetricText(command.name);
      if (!state.rules.has(name)) return refuse('not_found', `${service} has no alarm rule on "${name}"; msec alarm list ${service} shows its rules`);
      return [{ type: 'AlarmRuleDeleted', data: { service, name } }];
    }
    case 'SetAlarmWebhook': {
      const url = checkWebhookUrl(command.url);
      if (state.webhooks.includes(url)) return [];
      if (state.webhooks.length >= maxWebhooksPerService) {
        return refuse('conflict', `${service} already has ${maxWebhooksPerService} webhooks; remove one first (msec alarm webhook ${service} URL --remove)`);
      }
      return [{ type: 'AlarmWebhookSet', data: { service, url } }];
    }
    case 'RemoveAlarmWebhook': {
      if (!state.webhooks.includes(command.url)) return refuse('not_found', `${service} has no webhook ${command.url}`);
      return [{ type: 'AlarmWebhookRemoved', data: { service, url: command.url } }];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function threshold(value: number | undefined, what: string): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > maxThreshold) {
    return refuse('invalid', `${what} must be a number from 0 (check disabled) to ${maxThreshold}, not ${String(value)}`);
  }
  return v;
}

/** A rule as it is stored: every field present and checked. */
export function checkRule(input: { service: string; name: string; max?: number; min?: number; diff?: number; diffPercent?: number; forMinutes?: number; scope?: AlarmScope }): AlarmRuleData {
  const service = parseSecondLevelName(input.service).full;
  const name = checkMetricText(input.name);
  if (isHostMetric(name) && service !== hostMetricsService) {
    return refuse('invalid', `host metrics (${name}) are judged where the agents report them: set the rule on ${hostMetricsService} with the per-host scope`);
  }
  const rule: AlarmRuleData = {
    service, name,
    max: threshold(input.max, 'max'),
    min: threshold(input.min, 'min'),
    diff: threshold(input.diff, 'diff'),
    diffPercent: threshold(input.diffPercent, 'diff %'),
    forMinutes: input.forMinutes ?? 1,
    scope: input.scope ?? 'service',
  };
  if (!Number.isInteger(rule.forMinutes) || rule.forMinutes < 1 || rule.forMinutes > maxForMinutes) {
    return refuse('invalid', `"for" must be a whole number of minutes from 1 to ${maxForMinutes}, not ${String(input.forMinutes)}`);
  }
  if (rule.scope !== 'service' && rule.scope !== 'host') return refuse('invalid', `scope must be "service" or "host", not "${String(input.scope)}"`);
  if (rule.max === 0 && rule.min === 0 && rule.diff === 0 && rule.diffPercent === 0) {
    return refuse('invalid', `every check of the rule on "${name}" is 0 (disabled): give at least one of max, min, diff, diff % — or delete the rule`);
  }
  if (rule.max !== 0 && rule.min !== 0 && rule.min >= rule.max) {
    return refuse('invalid', `min (${rule.min}) is not below max (${rule.max}): every value would raise an alarm`);
  }
  return rule;
}

function sameRule(a: AlarmRuleData, b: AlarmRuleData): boolean {
  return a.max === b.max && a.min === b.min && a.diff === b.diff && a.diffPercent === b.diffPercent && a.forMinutes === b.forMinutes && a.scope === b.scope;
}
