/**
 * What the plan runner does next (nextAction), as specifications: canary first then a pause
 * (or an automatic wait), batches one after another, a stop or an automatic rollback when a
 * host fails or an alarm fires, hosts whose agent never answered, and the end.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAction, releasePlanDecider, type ReleaseEvent } from '../../../../domain/releases/index.ts';
import { stateAfter } from '../../support/given-when-then.ts';
import { created, dispatched, failed, planId, started, succeeded } from './plan-fixtures.ts';

const next = (history: ReleaseEvent[], nowMs = 5000, alarm?: string) =>
  nextAction(stateAfter(releasePlanDecider, history), { nowMs, ...(alarm ? { alarm } : {}) });

describe('rollout: order', () => {
  test('given no canary nor batch, when started, then every host is sent at once', () => {
    assert.deepEqual(next([created(), started]), { kind: 'dispatch', operation: 'install', ips: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
  });

  test('given a created plan, nothing happens until it starts', () => {
    assert.deepEqual(next([created()]), { kind: 'idle' });
  });

  test('given a canary of one, the canary goes alone, then the plan pauses for the operator', () => {
    const plan = [created({ canary: 1 }), started];
    assert.deepEqual(next(plan), { kind: 'dispatch', operation: 'install', ips: ['127.0.0.2'] });
    assert.deepEqual(next([...plan, dispatched('127.0.0.2')]), { kind: 'wait' });
    assert.deepEqual(next([...plan, dispatched('127.0.0.2'), succeeded('127.0.0.2')]), { kind: 'pause-canary' });
  });

  test('given a paused canary, a resume lets the rest go', () => {
    const plan = [created({ canary: 1 }), started, dispatched('127.0.0.2'), succeeded('127.0.0.2'),
      { type: 'ReleasePaused' as const, data: { planId, why: 'canary' } }];
    assert.deepEqual(next(plan), { kind: 'idle' });
    assert.deepEqual(next([...plan, { type: 'ReleaseResumed', data: { planId } }]), { kind: 'dispatch', operation: 'install', ips: ['127.0.0.3', '127.0.0.4'] });
  });

  test('given --auto 10, the rest goes 10 s after the canary was healthy, not before', () => {
    const plan = [created({ canary: 1, canaryAutoSeconds: 10 }), started, dispatched('127.0.0.2'), succeeded('127.0.0.2', 'install', 2000)];
    assert.deepEqual(next(plan, 11_999), { kind: 'wait' });
    assert.deepEqual(next(plan, 12_001), { kind: 'dispatch', operation: 'install', ips: ['127.0.0.3', '127.0.0.4'] });
  });

  test('given --batch 1, one host at a time, the next only when the last is done', () => {
    const plan = [created({ batch: 1 }), started];
    assert.deepEqual(next(plan), { kind: 'dispatch', operation: 'install', ips: ['127.0.0.2'] });
    assert.deepEqual(next([...plan, dispatched('127.0.0.2')]), { kind: 'wait' });
    assert.deepEqual(next([...plan, dispatched('127.0.0.2'), succeeded('127.0.0.2')]), { kind: 'dispatch', operation: 'install', ips: ['127.0.0.3'] });
  });

  test('given every host done, the plan finishes', () => {
    const hosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    assert.deepEqual(next([created(), started, ...hosts.map((ip) => dispatched(ip)), ...hosts.map((ip) => succeeded(ip))]), { kind: 'finish' });
  });
});

describe('rollout: failures', () => {
  test('given a failed host without automatic rollback, no further host starts and the plan ends once the others are done', () => {
    const plan = [created({ batch: 2 }), started, dispatched('127.0.0.2'), dispatched('127.0.0.3'), failed('127.0.0.2')];
    assert.deepEqual(next(plan), { kind: 'wait' });
    assert.deepEqual(next([...plan, succeeded('127.0.0.3')]), { kind: 'finish' });
  });

  test('given a failed canary, the rest never starts', () => {
    assert.deepEqual(next([created({ canary: 1 }), started, dispatched('127.0.0.2'), failed('127.0.0.2')]), { kind: 'finish' });
  });

  test('given automatic rollback, a failed host rolls the plan back, naming it', () => {
    const action = next([created({ autoRollback: true, batch: 1 }), started, dispatched('127.0.0.2'), succeeded('127.0.0.2'), dispatched('127.0.0.3'), failed('127.0.0.3', 'exit 1')]);
    assert.deepEqual(action, { kind: 'rollback', reason: '127.0.0.3 failed: exit 1' });
  });

  test('given automatic rollback, an alarm of the service during the rollout rolls it back', () => {
    const action = next([created({ autoRollback: true, batch: 1 }), started, dispatched('127.0.0.2'), succeeded('127.0.0.2')], 5000, 'frm.errors max = 9');
    assert.deepEqual(action, { kind: 'rollback', reason: 'alarm during the release: frm.errors max = 9' });
  });

  test('given an alarm without automatic rollback, the rollout goes on', () => {
    const action = next([created({ batch: 1 }), started, dispatched('127.0.0.2'), succeeded('127.0.0.2')], 5000, 'frm.errors max = 9');
    assert.deepEqual(action, { kind: 'dispatch', operation: 'install', ips: ['127.0.0.3'] });
  });

  test('given an agent silent past the host timeout, that host has failed', () => {
    const plan = [created({ hostTimeoutMs: 60_000 }), started, dispatched('127.0.0.2', 'c2', 'install', 1000)];
    assert.deepEqual(next(plan, 60_000), { kind: 'wait' });
    assert.deepEqual(next(plan, 61_001), { kind: 'timeout', operation: 'install', ip: '127.0.0.2', commandId: 'c2' });
  });

  test('given a rollback, every host the plan touched gets its rollback, then the plan finishes', () => {
    const plan = [created(), started, dispatched('127.0.0.2'), succeeded('127.0.0.2'), dispatched('127.0.0.3'), failed('127.0.0.3'),
      { type: 'ReleaseRollbackStarted' as const, data: { planId, reason: 'r', ips: ['127.0.0.2', '127.0.0.3'] } }];
    assert.deepEqual(next(plan), { kind: 'dispatch', operation: 'rollback', ips: ['127.0.0.2', '127.0.0.3'] });
    const sent = [...plan, dispatched('127.0.0.2', 'r2', 'rollback'), dispatched('127.0.0.3', 'r3', 'rollback')];
    assert.deepEqual(next(sent), { kind: 'wait' });
    assert.deepEqual(next([...sent, succeeded('127.0.0.2', 'rollback'), succeeded('127.0.0.3', 'rollback')]), { kind: 'finish' });
  });
});
