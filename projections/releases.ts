import type { RecordedEvent } from '../domain/events.ts';
import { releaseEventTypes, type ArtifactData, type HostOperation, type LibraryFileData, type PlanOutcome, type ReleaseEvent, type ReleasePlanCreatedData } from '../domain/releases/events.ts';
import type { StateProjection } from './projection.ts';
import { compareText, keyedList } from './sorted-list.ts';

/**
 * Releases as people look at them: per service its artifacts, library files and plans; per
 * plan its state and every host's steps. The plan runner decides on the plan's own stream;
 * this is what the console lists and shows (and what the release page streams).
 */
export interface ReleasesState {
  /** Sorted by service name. */
  services: ServiceReleases[];
  /** Sorted by plan id (which starts with its creation time). */
  plans: PlanView[];
}

export interface ServiceReleases {
  service: string;
  artifacts: (ArtifactData & { addedAt: string; addedBy: string })[];
  libraries: (LibraryFileData & { addedAt: string; addedBy: string })[];
  running: string;
}

export interface HostStepView { operation: HostOperation; step: string; ok: boolean; detail: string; at: string }

export interface HostView {
  ip: string;
  port: number;
  /** waiting | installing | installed | failed | rolling-back | rolled-back | rollback-failed */
  state: string;
  installCommand: string;
  rollbackCommand: string;
  steps: HostStepView[];
  error: string;
  output: string;
}

export interface PlanView {
  planId: string;
  plan: ReleasePlanCreatedData;
  createdAt: string;
  createdBy: string;
  /** created | carrying_out | paused | rolling_back | succeeded | failed | partially_failed | cancelled | rolled_back | rollback_failed */
  status: string;
  pausedWhy: string;
  cancelled: boolean;
  rollbackReason: string;
  outcome: PlanOutcome | '';
  detail: string;
  failedIps: string[];
  startedAt: string;
  endedAt: string;
  hosts: HostView[];
  /** Revision of the plan's stream this view includes (the release page waits for a newer one). */
  revision: number;
}

const serviceList = keyedList<ServiceReleases>((s) => s.service);
const planList = keyedList<PlanView>((p) => p.planId);
const keptSteps = 40;

export const releasesProjection: StateProjection<ReleasesState> = {
  kind: 'state',
  name: 'releases',
  version: 1,
  handles: releaseEventTypes,
  initialState: () => ({ services: [], plans: [] }),
  apply: (state, event) => applyRelease(state, event as RecordedEvent<ReleaseEvent>),
};

export function findPlan(state: ReleasesState, planId: string): PlanView | undefined {
  return planList.find(state.plans, planId);
}

export function serviceReleases(state: ReleasesState, service: string): ServiceReleases {
  return serviceList.find(state.services, service) ?? { service, artifacts: [], libraries: [], running: '' };
}

/** Newest first, as MSEC listed them. */
export function listPlans(state: ReleasesState, service?: string): PlanView[] {
  return state.plans.filter((p) => !service || p.plan.service === service).reverse();
}

/** Plans a runner must drive (or watch): carrying out, paused, rolling back. */
export function activePlans(state: ReleasesState): PlanView[] {
  return state.plans.filter((p) => p.status === 'carrying_out' || p.status === 'paused' || p.status === 'rolling_back');
}

function applyRelease(state: ReleasesState, event: RecordedEvent<ReleaseEvent>): ReleasesState {
  const by = { addedAt: event.occurredAt, addedBy: event.actor };
  const service = (name: string, change: (s: ServiceReleases) => ServiceReleases): ReleasesState =>
    ({ ...state, services: serviceList.with(state.services, change(serviceReleases(state, name))) });
  const plan = (planId: string, change: (p: PlanView) => PlanView): ReleasesState => {
    const found = planList.find(state.plans, planId);
    return found ? { ...state, plans: planList.with(state.plans, { ...change(found), revision: event.revision }) } : state;
  };
  const host = (planId: string, ip: string, change: (h: HostView) => HostView) =>
    plan(planId, (p) => ({ ...p, hosts: p.hosts.map((h) => (h.ip === ip ? change(h) : h)) }));
  switch (event.type) {
    case 'ArtifactAdded':
      return service(event.data.service, (s) => ({ ...s, artifacts: [...s.artifacts.filter((a) => a.tag !== event.data.tag), { ...event.data, ...by }] }));
    case 'ArtifactDeleted':
      return service(event.data.service, (s) => ({ ...s, artifacts: s.artifacts.filter((a) => a.tag !== event.data.tag) }));
    case 'LibraryFileAdded':
      return service(event.data.service, (s) => ({
        ...s, libraries: [...s.libraries.filter((l) => l.name !== event.data.name), { ...event.data, ...by }].sort((a, b) => compareText(a.name, b.name)),
      }));
    case 'LibraryFileDeleted':
      return service(event.data.service, (s) => ({ ...s, libraries: s.libraries.filter((l) => l.name !== event.data.name) }));
    case 'ReleaseRunClaimed':
      return service(event.data.service, (s) => ({ ...s, running: event.data.planId }));
    case 'ReleaseRunEnded':
      return service(event.data.service, (s) => (s.running === event.data.planId ? { ...s, running: '' } : s));
    case 'ReleasePlanCreated': {
      if (planList.find(state.plans, event.data.planId)) return state;
      const view: PlanView = {
        planId: event.data.planId, plan: event.data, createdAt: event.occurredAt, createdBy: event.actor, status: 'created', pausedWhy: '',
        cancelled: false, rollbackReason: '', outcome: '', detail: '', failedIps: [], startedAt: '', endedAt: '', revision: event.revision,
        hosts: event.data.hosts.map((h) => ({ ip: h.ip, port: h.port, state: 'waiting', installCommand: '', rollbackCommand: '', steps: [], error: '', output: '' })),
      };
      return { ...state, plans: planList.with(state.plans, view) };
    }
    case 'ReleaseStarted':
      return plan(event.data.planId, (p) => ({ ...p, status: 'carrying_out', startedAt: event.occurredAt }));
    case 'ReleasePaused':
      return plan(event.data.planId, (p) => ({ ...p, status: 'paused', pausedWhy: event.data.why }));
    case 'ReleaseResumed':
      return plan(event.data.planId, (p) => ({ ...p, status: p.rollbackReason ? 'rolling_back' : 'carrying_out', pausedWhy: '' }));
    case 'ReleaseCancelled':
      return plan(event.data.planId, (p) => ({ ...p, cancelled: true, status: p.status === 'paused' ? 'carrying_out' : p.status }));
    case 'ReleaseHostDispatched': {
      const { operation, commandId } = event.data;
      return host(event.data.planId, event.data.ip, (h) => ({
        ...h, state: operation === 'install' ? 'installing' : 'rolling-back', error: '', output: '',
        ...(operation === 'install' ? { installCommand: commandId } : { rollbackCommand: commandId }),
      }));
    }
    case 'ReleaseHostStepped': {
      const { operation, step, ok, detail } = event.data;
      return host(event.data.planId, event.data.ip, (h) => ({ ...h, steps: [...h.steps, { operation, step, ok, detail, at: new Date(event.data.atMs).toISOString() }].slice(-keptSteps) }));
    }
    case 'ReleaseHostSucceeded':
      return host(event.data.planId, event.data.ip, (h) => ({ ...h, state: event.data.operation === 'install' ? 'installed' : 'rolled-back' }));
    case 'ReleaseHostFailed':
      return host(event.data.planId, event.data.ip, (h) => ({
        ...h, state: event.data.operation === 'install' ? 'failed' : 'rollback-failed', error: event.data.error, output: event.data.output,
      }));
    case 'ReleaseRollbackStarted':
      return plan(event.data.planId, (p) => ({ ...p, status: 'rolling_back', rollbackReason: event.data.reason, pausedWhy: '' }));
    case 'ReleaseFinished':
      return plan(event.data.planId, (p) => ({
        ...p, status: event.data.outcome, outcome: event.data.outcome, detail: event.data.detail, failedIps: event.data.failedIps, endedAt: event.occurredAt,
      }));
    default:
      return state;
  }
}
