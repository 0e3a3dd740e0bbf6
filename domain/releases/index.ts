/** Releases: artifacts and library files per service, release plans and their rollout. */
export * from './events.ts';
export * from './commands.ts';
export * from './rules.ts';
export { serviceReleasesDecider, type ServiceReleasesState } from './service-releases.ts';
export { isFinal, isRunning, nextAction, outcomeNow, releasePlanDecider, words, type HostProgress, type HostRun, type NextAction, type PlanStatus, type ReleasePlanState, type ReleaseStepReport, type RunnerView } from './plan.ts';
