import { refuse } from '../decider.ts';

/** Console user names: lowercase so "Alice" and "alice" can never be two people, and safe
 *  inside a stream id (`user-<name>`), a URL and an audit line without escaping. */
export const userNamePattern = /^[a-z][a-z0-9_.-]{0,31}$/;

export function checkUserName(name: string): string {
  if (typeof name !== 'string' || !userNamePattern.test(name)) {
    return refuse('invalid', `user name "${name}" is not valid; use 1-32 lowercase letters, digits, "_", "." or "-", starting with a letter`);
  }
  return name;
}
