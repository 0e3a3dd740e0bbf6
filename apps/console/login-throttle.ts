/**
 * Slows down password guessing without letting a stranger lock a known user out.
 *
 * Budgets are per (user name, source) and per source, never per user name alone: wrong
 * passwords for `admin` from one address stop that address guessing `admin` (and, ten times
 * the budget later, guessing anyone), while the admin logging in from elsewhere, or using an
 * API token, is not affected. An attempt counts from the moment it starts, so parallel guesses
 * cannot all slip in while the first hashes are being computed; a successful one is taken back.
 * A source is an IPv4 address or an IPv6 /64 (one host commonly holds a whole /64).
 */
import { isIPv6 } from 'node:net';
import { HttpProblem } from './problems.ts';

export interface PasswordAttempt {
  /** The password was right: the attempt does not count. */
  succeeded(): void;
  /** The password was wrong: the attempt counts until the window has passed. */
  failed(): void;
}

export class LoginThrottle {
  /** Times of counted attempts (failures and the ones still running) per key. */
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly clock: () => number,
    /** Wrong passwords per (user, source) within the window. */
    private readonly maxFailures = 5,
    private readonly windowMs = 5 * 60_000,
  ) {}

  /** Starts a password check, or throws 429 when this user and source (or this source) is over budget. */
  begin(user: string, address: string): PasswordAttempt {
    const source = sourceOf(address);
    const keys = [`pair:${user}\n${source}`, `source:${source}`] as const;
    const limits = [this.maxFailures, this.maxFailures * 10];
    keys.forEach((key, i) => {
      const recent = this.recent(key);
      if (recent.length >= limits[i]!) {
        const waitS = Math.max(1, Math.ceil((recent[0]! + this.windowMs - this.clock()) / 1000));
        const whose = i === 0 ? `user ${user} from this address` : 'this address';
        throw new HttpProblem(429, 'throttled', `too many wrong passwords for ${whose}: try again in ${waitS} s, or use an API token`);
      }
    });
    const at = this.clock();
    for (const key of keys) this.attempts.set(key, [...this.recent(key), at]);
    if (this.attempts.size > 10_000) this.prune();
    let settled = false;
    return {
      failed: () => {
        settled = true;
      },
      succeeded: () => {
        if (settled) return;
        settled = true;
        for (const key of keys) this.takeBack(key, at);
        // A right password from this source ends the guessing budget it had used for this user.
        this.attempts.delete(keys[0]);
      },
    };
  }

  private takeBack(key: string, at: number): void {
    const list = this.attempts.get(key);
    const i = list?.indexOf(at) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  private recent(key: string): number[] {
    const since = this.clock() - this.windowMs;
    return (this.attempts.get(key) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of [...this.attempts.keys()]) {
      if (this.recent(key).length === 0) this.attempts.delete(key);
    }
  }
}

/** The address a budget is kept for: IPv4 as is, IPv6 by its /64. */
export function sourceOf(address: string): string {
  const plain = address.startsWith('::ffff:') && !address.slice(7).includes(':') ? address.slice(7) : address;
  if (!isIPv6(plain)) return plain;
  const [head = '', tail = ''] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = plain.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}
