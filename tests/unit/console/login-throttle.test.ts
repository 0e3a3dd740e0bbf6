/**
 * The password-guessing brake: budgets per (user, source) and per source, counted from the
 * start of an attempt, never per user name alone (so a stranger cannot lock a known user out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle, sourceOf } from '../../../apps/console/login-throttle.ts';

const clockAt = (start: number) => {
  const c = { now: start, read: () => c.now };
  return c;
};

const fail = (t: LoginThrottle, user: string, address: string) => t.begin(user, address).failed();

test('given 3 wrong passwords for bob from one address, that address is refused for bob until the window has passed', () => {
  const clock = clockAt(1_000_000);
  const t = new LoginThrottle(clock.read, 3, 60_000);
  for (let i = 0; i < 3; i++) fail(t, 'bob', '10.0.0.1');
  assert.throws(() => t.begin('bob', '10.0.0.1'), /too many wrong passwords for user bob from this address: try again in 60 s/);
  clock.now += 60_001;
  assert.doesNotThrow(() => t.begin('bob', '10.0.0.1'));
});

test('a stranger guessing bob does not lock bob out from his own address', () => {
  const t = new LoginThrottle(clockAt(0).read, 3, 60_000);
  for (let i = 0; i < 20; i++) {
    try {
      fail(t, 'bob', '203.0.113.7');
    } catch {
      // refused: the stranger's budget is spent
    }
  }
  assert.throws(() => t.begin('bob', '203.0.113.7'), /429|too many/);
  assert.doesNotThrow(() => t.begin('bob', '10.0.0.5').succeeded(), 'bob from his address still gets his password checked');
});

test('attempts count from their start: parallel guesses beyond the budget are refused before any finishes', () => {
  const t = new LoginThrottle(clockAt(0).read, 5, 60_000);
  const started = [];
  let refused = 0;
  for (let i = 0; i < 40; i++) {
    try {
      started.push(t.begin('admin', '198.51.100.1'));
    } catch {
      refused++;
    }
  }
  assert.equal(started.length, 5);
  assert.equal(refused, 35);
  for (const a of started) a.failed();
});

test('one address is refused after ten times the budget, whatever the names', () => {
  const t = new LoginThrottle(clockAt(0).read, 3, 60_000);
  for (let i = 0; i < 29; i++) fail(t, `user${i}`, '10.0.0.1');
  assert.doesNotThrow(() => t.begin('zed', '10.0.0.1').succeeded());
  fail(t, 'user29', '10.0.0.1');
  assert.throws(() => t.begin('zed', '10.0.0.1'), /this address/);
});

test('a right password takes its attempt back and clears that source\'s budget for the user', () => {
  const t = new LoginThrottle(clockAt(0).read, 2, 60_000);
  fail(t, 'bob', '10.0.0.3');
  t.begin('bob', '10.0.0.3').succeeded();
  fail(t, 'bob', '10.0.0.3');
  assert.doesNotThrow(() => t.begin('bob', '10.0.0.3').failed());
  assert.throws(() => t.begin('bob', '10.0.0.3'), /user bob/);
});

test('IPv6 sources are counted per /64, so one host cannot rotate through its addresses', () => {
  assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(sourceOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(sourceOf('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(sourceOf('::1'), '0:0:0:0::/64');
  const t = new LoginThrottle(clockAt(0).read, 2, 60_000);
  fail(t, 'bob', '2001:db8:1:2::a');
  fail(t, 'bob', '2001:db8:1:2::b');
  assert.throws(() => t.begin('bob', '2001:db8:1:2::c'), /user bob/);
});
