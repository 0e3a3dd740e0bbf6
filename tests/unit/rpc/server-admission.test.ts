import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission, type Admissible } from '../../../apps/rpc/server/admission.ts';

/** A request that refuses itself when started (its deadline passed while it waited). */
const expired = (arrivedAt: number, log: string[]): Admissible => ({
  arrivedAt,
  start: () => {
    log.push('expired');
    return false;
  },
  refuse: () => log.push('overloaded'),
});

test('a long run of queued requests whose deadline passed frees their slots without growing the stack', () => {
  const admission = new Admission(1, 60_000);
  const log: string[] = [];
  const running: Admissible = { arrivedAt: Date.now(), start: () => true, refuse: () => log.push('refused') };
  admission.admit(running);
  for (let i = 0; i < 200_000; i++) admission.admit(expired(Date.now(), log));
  let ranLast = false;
  admission.admit({ arrivedAt: Date.now(), start: () => (ranLast = true), refuse: () => log.push('refused last') });
  admission.leave(); // the running one answers: every expired one is refused in turn, the last one runs
  assert.equal(log.length, 200_000);
  assert.ok(log.every((x) => x === 'expired'), 'each expired request was refused unrun');
  assert.equal(ranLast, true, 'the request still in time got the slot');
  assert.equal(admission.inFlight, 1);
  assert.equal(admission.queued, 0);
});

test('a request refused when admitted at once does not keep its slot', () => {
  const admission = new Admission(1, 60_000);
  admission.admit(expired(Date.now(), []));
  assert.equal(admission.inFlight, 0);
  let ran = false;
  admission.admit({ arrivedAt: Date.now(), start: () => (ran = true), refuse: () => undefined });
  assert.equal(ran, true);
});
