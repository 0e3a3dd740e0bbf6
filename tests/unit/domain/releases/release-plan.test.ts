/**
 * A release plan's rules (stream "release-<planId>"), as specifications: what a plan must name,
 * its states (created, carrying out, paused, rolling back and the ends), hosts dispatched once,
 * outcomes recorded once and only for the command the plan sent, and how it ends — including
 * MSEC's missing "partially failed" with the hosts named.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { releasePlanDecider, outcomeNow, type ReleasePlanCommand } from '../../../../domain/releases/index.ts';
import { spec, stateAfter } from '../../support/given-when-then.ts';
import { created, dispatched, failed, planData, planId, started, succeeded } from './plan-fixtures.ts';

const plan = spec(releasePlanDecider);
const outcome = (ip: string, ok: boolean, commandId = `cmd-${ip}`, operation: 'install' | 'rollback' = 'install'): ReleasePlanCommand => ({
  type: 'RecordReleaseHostOutcome', planId, ip, operation, commandId, ok, error: ok ? '' : 'exit 1', output: ok ? '' : 'stderr line',
  steps: [{ step: 'pushed', ok: true, detail: 'fetched 2 files', atMs: 1500 }, { step: 'healthy', ok, detail: ok ? 'port answers' : 'no answer', atMs: 1900 }], atMs: 2000,
});

describe('release plan: creation', () => {
  test('a complete plan names its hosts, config and artifact; it starts created', () => {
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData() }).then([created()]);
    assert.equal(stateAfter(releasePlanDecider, [created()]).status, 'created');
  });

  test('a complete plan without an artifact is refused, saying which flag is missing', () => {
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData({ artifactTag: '', artifactSha256: '' }) }).thenFails('invalid', /needs an artifact \(--artifact TAG\)/);
  });

  test('an only_config plan keeps the config and drops the artifact it was given', () => {
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData({ releaseType: 'only_config' }) })
      .then([created({ releaseType: 'only_config', artifactTag: '', artifactSha256: '', artifactSize: 0 })]);
  });

  test('a host named twice, a bad ip, no hosts, or a canary of every host are refused', () => {
    const twice = planData({ hosts: [{ ip: '127.0.0.2', port: 7963 }, { ip: '127.0.0.2', port: 7963 }] });
    plan.given([]).when({ type: 'CreateReleasePlan', ...twice }).thenFails('invalid', /named twice/);
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData({ hosts: [{ ip: '127.0.0.300', port: 1 }] }) }).thenFails('invalid', /127\.0\.0\.300/);
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData({ hosts: [] }) }).thenFails('invalid', /at least one host/);
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData({ canary: 3 }) }).thenFails('invalid', /a canary is some of them/);
  });

  test('a bad plan id is refused', () => {
    plan.given([]).when({ type: 'CreateReleasePlan', ...planData({ planId: '../../etc' }) }).thenFails('invalid', /not a release plan id/);
  });
});

describe('release plan: carrying out', () => {
  test('only a created plan starts; starting twice writes nothing', () => {
    plan.given([created()]).when({ type: 'StartRelease', planId }).then([started]);
    plan.given([created(), started]).when({ type: 'StartRelease', planId }).thenNothing();
  });

  test('a host is dispatched once: the same command again is absorbed, another is refused', () => {
    plan.given([created(), started]).when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.2', operation: 'install', commandId: 'cmd-127.0.0.2', atMs: 1000 }).then([dispatched('127.0.0.2')]);
    plan.given([created(), started, dispatched('127.0.0.2')]).when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.2', operation: 'install', commandId: 'cmd-127.0.0.2', atMs: 1000 }).thenNothing();
    plan.given([created(), started, dispatched('127.0.0.2')]).when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.2', operation: 'install', commandId: 'other', atMs: 1000 }).thenFails('conflict', /already has its install/);
  });

  test('nothing is dispatched to a host outside the plan, nor while paused or before the start', () => {
    plan.given([created(), started]).when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.9', operation: 'install', commandId: 'x', atMs: 1 }).thenFails('not_found', /not a host of release plan/);
    plan.given([created()]).when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.2', operation: 'install', commandId: 'x', atMs: 1 }).thenFails('conflict', /is created: no install starts now/);
    plan.given([created(), started, { type: 'ReleasePaused', data: { planId, why: 'operator' } }])
      .when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.2', operation: 'install', commandId: 'x', atMs: 1 }).thenFails('conflict', /is paused/);
  });

  test('the outcome records every step the agent reported, then success or failure with the output', () => {
    plan.given([created(), started, dispatched('127.0.0.2')]).when(outcome('127.0.0.2', false)).then([
      { type: 'ReleaseHostStepped', data: { planId, ip: '127.0.0.2', operation: 'install', step: 'pushed', ok: true, detail: 'fetched 2 files', atMs: 1500 } },
      { type: 'ReleaseHostStepped', data: { planId, ip: '127.0.0.2', operation: 'install', step: 'healthy', ok: false, detail: 'no answer', atMs: 1900 } },
      { type: 'ReleaseHostFailed', data: { planId, ip: '127.0.0.2', operation: 'install', error: 'exit 1', output: 'stderr line', atMs: 2000 } },
    ]);
  });

  test('an outcome is recorded once, and never for a command the plan did not send', () => {
    plan.given([created(), started, dispatched('127.0.0.2'), succeeded('127.0.0.2')]).when(outcome('127.0.0.2', false)).thenNothing();
    plan.given([created(), started, dispatched('127.0.0.2')]).when(outcome('127.0.0.2', true, 'forged-id')).thenNothing();
  });
});

describe('release plan: how it ends', () => {
  const all = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const every = (f: (ip: string) => ReturnType<typeof succeeded>) => all.map(f);

  test('every host released: succeeded', () => {
    plan.given([created(), started, ...every((ip) => dispatched(ip)), ...every((ip) => succeeded(ip))]).when({ type: 'FinishRelease', planId })
      .then([{ type: 'ReleaseFinished', data: { planId, outcome: 'succeeded', failedIps: [], detail: '3 host(s) released' } }]);
  });

  test('some hosts failed, some released: partially failed, the failed hosts named (MSEC said "successfully")', () => {
    plan.given([created(), started, ...every((ip) => dispatched(ip)), succeeded('127.0.0.2'), failed('127.0.0.3'), succeeded('127.0.0.4')]).when({ type: 'FinishRelease', planId })
      .then([{ type: 'ReleaseFinished', data: { planId, outcome: 'partially_failed', failedIps: ['127.0.0.3'], detail: 'failed on 127.0.0.3; 2 host(s) released' } }]);
  });

  test('the only host released failed and the rest never started: failed', () => {
    plan.given([created({ canary: 1 }), started, dispatched('127.0.0.2'), failed('127.0.0.2')]).when({ type: 'FinishRelease', planId })
      .then([{ type: 'ReleaseFinished', data: { planId, outcome: 'failed', failedIps: ['127.0.0.2'], detail: 'failed on 127.0.0.2; 0 host(s) released, 2 not started' } }]);
  });

  test('a plan does not end while a host is under way', () => {
    plan.given([created(), started, ...every((ip) => dispatched(ip)), succeeded('127.0.0.2')]).when({ type: 'FinishRelease', planId }).thenNothing();
  });

  test('cancelled after one host: no more start; it ends cancelled with what was done', () => {
    const history = [created({ batch: 1 }), started, dispatched('127.0.0.2'), succeeded('127.0.0.2'), { type: 'ReleaseCancelled' as const, data: { planId } }];
    plan.given(history).when({ type: 'DispatchReleaseHost', planId, ip: '127.0.0.3', operation: 'install', commandId: 'x', atMs: 1 }).thenFails('conflict', /no install starts now/);
    assert.deepEqual(outcomeNow(stateAfter(releasePlanDecider, history)), { outcome: 'cancelled', failedIps: [], detail: 'cancelled: 1 host(s) released, 2 not started' });
  });

  test('a created plan cancelled ends at once', () => {
    plan.given([created()]).when({ type: 'CancelRelease', planId }).then([
      { type: 'ReleaseCancelled', data: { planId } },
      { type: 'ReleaseFinished', data: { planId, outcome: 'cancelled', failedIps: [], detail: 'cancelled before it started' } },
    ]);
  });
});

describe('release plan: rollback', () => {
  const done = [created(), started, dispatched('127.0.0.2'), dispatched('127.0.0.3'), succeeded('127.0.0.2'), failed('127.0.0.3')];

  test('rolls back every host the plan touched, the failed one too', () => {
    plan.given(done).when({ type: 'StartReleaseRollback', planId, reason: '127.0.0.3 failed' })
      .then([{ type: 'ReleaseRollbackStarted', data: { planId, reason: '127.0.0.3 failed', ips: ['127.0.0.2', '127.0.0.3'] } }]);
  });

  test('ends rolled back once every host is back; rollback failed names the hosts that are not', () => {
    const rolling = [...done, { type: 'ReleaseRollbackStarted' as const, data: { planId, reason: 'r', ips: ['127.0.0.2', '127.0.0.3'] } },
      dispatched('127.0.0.2', 'rb2', 'rollback'), dispatched('127.0.0.3', 'rb3', 'rollback'), succeeded('127.0.0.2', 'rollback')];
    plan.given(rolling).when({ type: 'FinishRelease', planId }).thenNothing();
    plan.given([...rolling, succeeded('127.0.0.3', 'rollback')]).when({ type: 'FinishRelease', planId })
      .then([{ type: 'ReleaseFinished', data: { planId, outcome: 'rolled_back', failedIps: [], detail: '2 host(s) back on their previous version (r)' } }]);
    plan.given([...rolling, failed('127.0.0.3', 'no backup', 'rollback')]).when({ type: 'FinishRelease', planId })
      .then([{ type: 'ReleaseFinished', data: { planId, outcome: 'rollback_failed', failedIps: ['127.0.0.3'], detail: 'the rollback failed on 127.0.0.3' } }]);
  });

  test('nothing to roll back before any host was released; a rolling back plan is not cancelled', () => {
    plan.given([created(), started]).when({ type: 'StartReleaseRollback', planId, reason: '' }).thenFails('conflict', /nothing to roll back/);
    plan.given([...done, { type: 'ReleaseRollbackStarted', data: { planId, reason: 'r', ips: ['127.0.0.2'] } }]).when({ type: 'CancelRelease', planId }).thenFails('conflict', /not cancelled half-way/);
  });
});
