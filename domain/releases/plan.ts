import { refuse, type Decider } from '../decider.ts';
import { parseIpv4, parseSecondLevelName, checkPort, checkTag } from '../services/names.ts';
import { checkMemo } from '../services/versions.ts';
import type { ReleasePlanCommand } from './commands.ts';
import type { HostOperation, PlanHost, PlanOutcome, ReleaseEvent, ReleasePlanCreatedData } from './events.ts';
import { checkDigest, checkLibraryName, checkPlanId, checkReleaseType, MAX_PLAN_HOSTS } from './rules.ts';

/**
 * A release plan, stream "release-<planId>": hosts and versions, how to roll out (canary,
 * batches, routing, automatic rollback), and what became of every host. MSEC's states
 * (created, carrying out, succeeded, failed, rolling back, rolled back) plus paused,
 * partially failed (with the hosts named), cancelled and rollback failed.
 */
export type PlanStatus = 'none' | 'created' | 'carrying_out' | 'paused' | 'rolling_back' | PlanOutcome;

export interface ReleaseStepReport { step: string; ok: boolean; detail: string; atMs: number }

export interface HostRun {
  commandId: string;
  dispatchedAtMs: number;
  /** undefined while the agent works on it. */
  ok?: boolean;
  error?: string;
  doneAtMs?: number;
}

export interface HostProgress {
  ip: string;
  port: number;
  install?: HostRun;
  rollback?: HostRun;
}

export interface ReleasePlanState {
  plan: ReleasePlanCreatedData | null;
  status: PlanStatus;
  /** Why it is paused: "operator" or "canary". */
  pausedWhy: string;
  cancelled: boolean;
  /** The operator let it past the canary (or the canary's wait passed). */
  canaryPassed: boolean;
  /** In plan order. */
  hosts: HostProgress[];
  rollbackReason: string;
  failedIps: string[];
}

const finals: readonly PlanStatus[] = ['succeeded', 'failed', 'partially_failed', 'cancelled', 'rolled_back', 'rollback_failed'];
export const isFinal = (s: PlanStatus): boolean => finals.includes(s);
/** States in which the plan holds its service (no other plan may run). */
export const isRunning = (s: PlanStatus): boolean => s === 'carrying_out' || s === 'paused' || s === 'rolling_back';

export const releasePlanDecider: Decider<ReleasePlanCommand, ReleaseEvent, ReleasePlanState> = {
  initialState: () => ({ plan: null, status: 'none', pausedWhy: '', cancelled: false, canaryPassed: false, hosts: [], rollbackReason: '', failedIps: [] }),
  evolve,
  decide,
};

function withHost(state: ReleasePlanState, ip: string, change: (h: HostProgress) => HostProgress): ReleasePlanState {
  return { ...state, hosts: state.hosts.map((h) => (h.ip === ip ? change(h) : h)) };
}

function evolve(state: ReleasePlanState, event: ReleaseEvent): ReleasePlanState {
  switch (event.type) {
    case 'ReleasePlanCreated':
      return { ...state, plan: event.data, status: 'created', hosts: event.data.hosts.map((h) => ({ ip: h.ip, port: h.port })), canaryPassed: event.data.canary === 0 };
    case 'ReleaseStarted':
      return { ...state, status: 'carrying_out' };
    case 'ReleasePaused':
      return { ...state, status: 'paused', pausedWhy: event.data.why };
    case 'ReleaseResumed':
      return { ...state, status: state.rollbackReason ? 'rolling_back' : 'carrying_out', pausedWhy: '', canaryPassed: state.canaryPassed || state.pausedWhy === 'canary' };
    case 'ReleaseCancelled':
      return { ...state, cancelled: true, status: state.status === 'paused' ? 'carrying_out' : state.status };
    case 'ReleaseHostDispatched': {
      const run: HostRun = { commandId: event.data.commandId, dispatchedAtMs: event.data.atMs };
      return withHost(state, event.data.ip, (h) => ({ ...h, [event.data.operation]: run }));
    }
    case 'ReleaseHostSucceeded':
    case 'ReleaseHostFailed': {
      const ok = event.type === 'ReleaseHostSucceeded';
      const error = event.type === 'ReleaseHostFailed' ? event.data.error : undefined;
      return withHost(state, event.data.ip, (h) => {
        const run = h[event.data.operation];
        return run ? { ...h, [event.data.operation]: { ...run, ok, ...(error !== undefined ? { error } : {}), doneAtMs: event.data.atMs } } : h;
      });
    }
    case 'ReleaseRollbackStarted':
      return { ...state, status: 'rolling_back', rollbackReason: event.data.reason, pausedWhy: '' };
    case 'ReleaseFinished':
      return { ...state, status: event.data.outcome, failedIps: event.data.failedIps };
    default:
      return state;
  }
}

function decide(command: ReleasePlanCommand, state: ReleasePlanState): ReleaseEvent[] {
  const planId = checkPlanId(command.planId);
  if (command.type === 'CreateReleasePlan') {
    if (state.plan) return state.plan.service === command.service ? [] : refuse('conflict', `release plan ${planId} exists`);
    return [{ type: 'ReleasePlanCreated', data: checkPlan(command) }];
  }
  const plan = state.plan;
  if (!plan) return refuse('not_found', `no release plan ${planId} (msec release list)`);
  const host = (ip: string) => state.hosts.find((h) => h.ip === ip) ?? refuse('not_found', `${ip} is not a host of release plan ${planId}`);
  switch (command.type) {
    case 'StartRelease':
      if (state.status !== 'created') return state.status === 'carrying_out' ? [] : refuse('conflict', `release plan ${planId} is ${words(state.status)}: only a created plan starts`);
      return [{ type: 'ReleaseStarted', data: { planId } }];
    case 'PauseRelease':
      if (state.status === 'paused') return [];
      if (state.status !== 'carrying_out') return refuse('conflict', `release plan ${planId} is ${words(state.status)}: only a plan carrying out pauses`);
      return [{ type: 'ReleasePaused', data: { planId, why: command.why } }];
    case 'ResumeRelease':
      if (state.status !== 'paused') return refuse('conflict', `release plan ${planId} is ${words(state.status)}, not paused`);
      return [{ type: 'ReleaseResumed', data: { planId } }];
    case 'CancelRelease':
      if (state.status === 'created') return [{ type: 'ReleaseCancelled', data: { planId } }, { type: 'ReleaseFinished', data: { planId, outcome: 'cancelled', failedIps: [], detail: 'cancelled before it started' } }];
      if (state.status === 'rolling_back') return refuse('conflict', `release plan ${planId} is rolling back: a rollback is not cancelled half-way`);
      if (isFinal(state.status)) return refuse('conflict', `release plan ${planId} has ended (${words(state.status)})`);
      return state.cancelled ? [] : [{ type: 'ReleaseCancelled', data: { planId } }];
    case 'DispatchReleaseHost': {
      const h = host(command.ip);
      const expected = command.operation === 'install' ? state.status === 'carrying_out' && !state.cancelled : state.status === 'rolling_back';
      const run = h[command.operation];
      if (run) return run.commandId === command.commandId ? [] : refuse('conflict', `${command.ip} already has its ${command.operation} (command ${run.commandId})`);
      if (!expected) return refuse('conflict', `release plan ${planId} is ${words(state.status)}: no ${command.operation} starts now`);
      return [{ type: 'ReleaseHostDispatched', data: { planId, ip: h.ip, operation: command.operation, commandId: command.commandId, atMs: command.atMs } }];
    }
    case 'RecordReleaseHostOutcome': {
      const h = host(command.ip);
      const run = h[command.operation];
      // Only the outcome of the command this plan sent, once.
      if (!run || run.commandId !== command.commandId || run.ok !== undefined) return [];
      const base = { planId, ip: h.ip, operation: command.operation };
      const steps: ReleaseEvent[] = command.steps.slice(0, 20).map((s) => ({
        type: 'ReleaseHostStepped', data: { ...base, step: String(s.step).slice(0, 32), ok: Boolean(s.ok), detail: String(s.detail).slice(0, 4000), atMs: s.atMs },
      }));
      const end: ReleaseEvent = command.ok
        ? { type: 'ReleaseHostSucceeded', data: { ...base, atMs: command.atMs } }
        : { type: 'ReleaseHostFailed', data: { ...base, error: command.error.slice(0, 2000), output: tail(command.output, 8192), atMs: command.atMs } };
      return [...steps, end];
    }
    case 'StartReleaseRollback': {
      if (state.status === 'rolling_back') return [];
      if (state.status === 'rolled_back') return refuse('conflict', `release plan ${planId} is rolled back already`);
      if (state.status === 'created' || state.status === 'none') return refuse('conflict', `release plan ${planId} has not started: there is nothing to roll back`);
      if (state.status === 'rollback_failed') return refuse('conflict', `the rollback of ${planId} failed on ${state.failedIps.join(', ')}: fix those hosts, then release a known version to them`);
      const ips = state.hosts.filter((h) => h.install).map((h) => h.ip);
      if (ips.length === 0) return refuse('conflict', `no host of release plan ${planId} was released: there is nothing to roll back`);
      return [{ type: 'ReleaseRollbackStarted', data: { planId, reason: command.reason.slice(0, 500) || 'asked by an operator', ips } }];
    }
    case 'FinishRelease': {
      const outcome = outcomeNow(state);
      if (!outcome) return [];
      return [{ type: 'ReleaseFinished', data: { planId, ...outcome } }];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

/** How the plan ends, once nothing is under way and nothing more will start; null before. */
export function outcomeNow(state: ReleasePlanState): { outcome: PlanOutcome; failedIps: string[]; detail: string } | null {
  if (state.status === 'rolling_back') {
    const targets = state.hosts.filter((h) => h.install);
    if (targets.some((h) => !h.rollback || h.rollback.ok === undefined || (h.install && h.install.ok === undefined))) return null;
    const failed = targets.filter((h) => h.rollback?.ok === false).map((h) => h.ip);
    return failed.length
      ? { outcome: 'rollback_failed', failedIps: failed, detail: `the rollback failed on ${failed.join(', ')}` }
      : { outcome: 'rolled_back', failedIps: [], detail: `${targets.length} host(s) back on their previous version (${state.rollbackReason})` };
  }
  if (state.status !== 'carrying_out') return null;
  const installs = state.hosts.map((h) => h.install);
  if (installs.some((r) => r && r.ok === undefined)) return null;
  const failed = state.hosts.filter((h) => h.install?.ok === false).map((h) => h.ip);
  const succeeded = state.hosts.filter((h) => h.install?.ok === true).length;
  const untouched = state.hosts.filter((h) => !h.install).length;
  const stopped = state.cancelled || failed.length > 0;
  if (untouched > 0 && !stopped) return null;
  if (failed.length === 0) {
    return state.cancelled && untouched > 0
      ? { outcome: 'cancelled', failedIps: [], detail: `cancelled: ${succeeded} host(s) released, ${untouched} not started` }
      : { outcome: 'succeeded', failedIps: [], detail: `${succeeded} host(s) released` };
  }
  const detail = `failed on ${failed.join(', ')}; ${succeeded} host(s) released${untouched ? `, ${untouched} not started` : ''}`;
  return succeeded > 0 ? { outcome: 'partially_failed', failedIps: failed, detail } : { outcome: 'failed', failedIps: failed, detail };
}

function checkPlan(c: ReleasePlanCreatedData): ReleasePlanCreatedData {
  const service = parseSecondLevelName(c.service).full;
  const releaseType = checkReleaseType(c.releaseType);
  if (!Array.isArray(c.hosts) || c.hosts.length === 0) return refuse('invalid', 'a release plan needs at least one host (--hosts IP,IP)');
  if (c.hosts.length > MAX_PLAN_HOSTS) return refuse('invalid', `a release plan takes at most ${MAX_PLAN_HOSTS} hosts; split it`);
  const seen = new Set<string>();
  const hosts: PlanHost[] = c.hosts.map((h) => {
    const ip = parseIpv4(h.ip);
    if (seen.has(ip)) refuse('invalid', `${ip} is named twice in the plan`);
    seen.add(ip);
    return { ip, port: checkPort(h.port) };
  });
  const needs = {
    config: releaseType === 'complete' || releaseType === 'only_config',
    artifact: releaseType === 'complete' || releaseType === 'only_artifact',
    libraries: releaseType === 'only_library',
  };
  if (needs.config && !c.configTag) refuse('invalid', `a ${releaseType} release needs a config version (--config TAG)`);
  if (needs.artifact && !c.artifactTag) refuse('invalid', `a ${releaseType} release needs an artifact (--artifact TAG)`);
  if (needs.libraries && c.libraries.length === 0) refuse('invalid', `${service} has no library files to release (msec library put)`);
  if (c.configTag) {
    checkTag(c.configTag);
    checkDigest(c.configSha256, 'the config version');
  }
  if (c.idlTag) checkTag(c.idlTag);
  if (c.artifactTag) {
    checkTag(c.artifactTag);
    checkDigest(c.artifactSha256, 'the artifact');
  }
  for (const l of c.libraries) {
    checkLibraryName(l.name);
    checkDigest(l.sha256, `library file ${l.name}`);
  }
  const whole = (n: number, min: number, max: number, what: string) =>
    Number.isInteger(n) && n >= min && n <= max ? n : refuse('invalid', `${what} must be a whole number from ${min} to ${max}, not ${String(n)}`);
  const canary = whole(c.canary, 0, hosts.length, '--canary');
  if (canary === hosts.length && hosts.length > 1) refuse('invalid', `--canary ${canary} names every host: a canary is some of them (at most ${hosts.length - 1})`);
  return {
    planId: c.planId, service, releaseType, hosts,
    configTag: needs.config ? c.configTag : '', configSha256: needs.config ? c.configSha256 : '', configSize: needs.config ? c.configSize : 0,
    idlTag: c.idlTag ?? '',
    artifactTag: needs.artifact ? c.artifactTag : '', artifactSha256: needs.artifact ? c.artifactSha256 : '', artifactSize: needs.artifact ? c.artifactSize : 0,
    libraries: releaseType === 'complete' || needs.libraries ? c.libraries : [],
    canary,
    canaryAutoSeconds: whole(c.canaryAutoSeconds, 0, 86_400, '--auto'),
    batch: whole(c.batch, 0, hosts.length, '--batch'),
    enable: Boolean(c.enable),
    autoRollback: Boolean(c.autoRollback),
    healthTimeoutMs: whole(c.healthTimeoutMs, 1000, 600_000, 'the health timeout (ms)'),
    hostTimeoutMs: whole(c.hostTimeoutMs, 10_000, 24 * 3600_000, 'the host timeout (ms)'),
    drainSeconds: whole(c.drainSeconds, 0, 600, '--drain'),
    memo: checkMemo(c.memo),
  };
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}

export function words(status: PlanStatus): string {
  return status.replaceAll('_', ' ');
}

/** What the plan's runner does next (pure: the runner feeds it the plan and the time). */
export type NextAction =
  | { kind: 'idle' }
  | { kind: 'wait' }
  | { kind: 'dispatch'; operation: HostOperation; ips: string[] }
  | { kind: 'timeout'; operation: HostOperation; ip: string; commandId: string }
  | { kind: 'pause-canary' }
  | { kind: 'rollback'; reason: string }
  | { kind: 'finish' };

export interface RunnerView {
  nowMs: number;
  /** An alarm of the service raised since the plan started, if any (one line). */
  alarm?: string;
}

export function nextAction(state: ReleasePlanState, view: RunnerView): NextAction {
  const plan = state.plan;
  if (!plan) return { kind: 'idle' };
  // A host whose agent did not answer within the command's lifetime has failed.
  for (const h of state.hosts) {
    for (const operation of ['install', 'rollback'] as const) {
      const run = h[operation];
      if (run && run.ok === undefined && view.nowMs > run.dispatchedAtMs + plan.hostTimeoutMs) {
        return { kind: 'timeout', operation, ip: h.ip, commandId: run.commandId };
      }
    }
  }
  if (state.status === 'rolling_back') {
    const due = state.hosts.filter((h) => h.install && !h.rollback).map((h) => h.ip);
    if (due.length) return { kind: 'dispatch', operation: 'rollback', ips: due };
    return outcomeNow(state) ? { kind: 'finish' } : { kind: 'wait' };
  }
  if (state.status !== 'carrying_out') return { kind: 'idle' };
  const failed = state.hosts.find((h) => h.install?.ok === false);
  if (plan.autoRollback && !state.cancelled) {
    if (failed) return { kind: 'rollback', reason: `${failed.ip} failed: ${failed.install?.error ?? ''}`.slice(0, 500) };
    if (view.alarm) return { kind: 'rollback', reason: `alarm during the release: ${view.alarm}`.slice(0, 500) };
  }
  const inFlight = state.hosts.filter((h) => h.install && h.install.ok === undefined);
  if (inFlight.length) return { kind: 'wait' };
  const waiting = state.hosts.filter((h) => !h.install);
  if (failed || state.cancelled || waiting.length === 0) return outcomeNow(state) ? { kind: 'finish' } : { kind: 'wait' };
  const released = state.hosts.length - waiting.length;
  if (released < plan.canary) return { kind: 'dispatch', operation: 'install', ips: waiting.slice(0, plan.canary - released).map((h) => h.ip) };
  if (plan.canary > 0 && !state.canaryPassed) {
    if (plan.canaryAutoSeconds === 0) return { kind: 'pause-canary' };
    const healthyAt = Math.max(...state.hosts.slice(0, plan.canary).map((h) => h.install?.doneAtMs ?? 0));
    if (view.nowMs < healthyAt + plan.canaryAutoSeconds * 1000) return { kind: 'wait' };
  }
  const size = plan.batch > 0 ? plan.batch : waiting.length;
  return { kind: 'dispatch', operation: 'install', ips: waiting.slice(0, size).map((h) => h.ip) };
}
