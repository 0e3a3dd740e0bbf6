/** Monitoring: metric names, alarm rules and webhooks, alarms, and how a minute is judged. */
export * from './events.ts';
export * from './commands.ts';
export * from './metric-names.ts';
export { alarmRulesDecider, checkRule, maxRulesPerService, maxWebhooksPerService, maxForMinutes, type AlarmRulesState } from './alarm-rules.ts';
export { alarmsDecider, alarmKey, type AlarmsState, type OpenAlarm } from './alarms.ts';
export { judgeRule, enabledChecks, thresholdOf, diffPercent, type RuleSeries, type CheckVerdict } from './alarm-judge.ts';
export { latencyQuantile, percentileCurves, type LatencyBuckets } from './latency-percentiles.ts';
export { checkWebhookUrl, webhookReachesConsole, isLocalAddress, effectivePort, maxWebhookUrlLength } from './webhook-url.ts';
