/** The password-guessing brake: counts failures per user and per address within a window. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from '../../../apps/console/login-throttle.ts';

const clockAt = (start: number) => {
  const c = { now: start, read: () => c.now };
  return c;
};

test('given 3 failures for a user with a limit of 3, the next check is refused until the window has passed', () => {
  const clock = clockAt(1_000_000);
  const t = new LoginThrottle(clock.read, 3, 60_000);
  for (let i = 0; i < 3; i++) t.failed('bob', `10.0.0.${i}`);
  assert.throws(() => t.check('bob', '10.0.0.9'), /too many wrong passwords for user bob: try again in 60 s/);
  assert.doesNotThrow(() => t.check('alice', '10.0.0.1'), 'other users from those addresses are fine');
  clock.now += 60_001;
  assert.doesNotThrow(() => t.check('bob', '10.0.0.1'));
});

test('one address is refused after ten times the per-user limit, whatever the names', () => {
  const t = new LoginThrottle(clockAt(0).read, 3, 60_000);
  for (let i = 0; i < 29; i++) t.failed(`user${i}`, '10.0.0.1');
  assert.doesNotThrow(() => t.check('zed', '10.0.0.1'));
  t.failed('user29', '10.0.0.1');
  assert.throws(() => t.check('zed', '10.0.0.1'), /this address/);
});

test('a success clears the user count', () => {
  const t = new LoginThrottle(clockAt(0).read, 2, 60_000);
  t.failed('bob', '10.0.0.1');
  t.succeeded('bob');
  t.failed('bob', '10.0.0.3');
  assert.doesNotThrow(() => t.check('bob', '10.0.0.4'));
  t.failed('bob', '10.0.0.3');
  assert.throws(() => t.check('bob', '10.0.0.4'), /user bob/);
});
