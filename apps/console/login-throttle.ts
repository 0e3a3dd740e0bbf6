/**
 * Slows down password guessing: after `maxFailures` wrong passwords for one user name, or
 * ten times as many from one client address (many people may share an address behind a
 * proxy or NAT), within `windowMs`, further password checks for it are refused with 429
 * until the window has passed. Tokens and sessions are not affected.
 */
import { HttpProblem } from './problems.ts';

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: () => number,
    private readonly maxFailures = 5,
    private readonly windowMs = 5 * 60_000,
  ) {}

  /** Throws 429 when this user or address has failed too often lately. */
  check(user: string, address: string): void {
    for (const key of [`user:${user}`, `ip:${address}`]) {
      const recent = this.recent(key);
      if (recent.length >= (key.startsWith('ip:') ? this.maxFailures * 10 : this.maxFailures)) {
        const waitS = Math.ceil((recent[0]! + this.windowMs - this.clock()) / 1000);
        throw new HttpProblem(429, 'throttled', `too many wrong passwords for ${key.startsWith('user:') ? `user ${user}` : 'this address'}: try again in ${waitS} s`);
      }
    }
  }

  failed(user: string, address: string): void {
    const now = this.clock();
    for (const key of [`user:${user}`, `ip:${address}`]) this.failures.set(key, [...this.recent(key), now]);
    if (this.failures.size > 10_000) this.prune();
  }

  succeeded(user: string): void {
    this.failures.delete(`user:${user}`);
  }

  private recent(key: string): number[] {
    const since = this.clock() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) {
      if (this.recent(key).length === 0) this.failures.delete(key);
    }
  }
}
