/**
 * Callers waiting for read models to reach a global position (read-your-writes after a
 * command, a replay waiting for its live projection). `check` runs after every checkpoint move.
 */
interface Waiter {
  position: number;
  reached(): number;
  done(ok: boolean): void;
}

export class PositionWaiters {
  private readonly waiting = new Set<Waiter>();

  /** Resolves true once `reached()` ≥ position, false after `timeoutMs` (or on `cancelAll`). */
  wait(position: number, timeoutMs: number, reached: () => number): Promise<boolean> {
    if (reached() >= position) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        position,
        reached,
        done: (ok) => {
          clearTimeout(timer);
          this.waiting.delete(waiter);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => waiter.done(false), Math.max(0, timeoutMs));
      this.waiting.add(waiter);
    });
  }

  check(): void {
    for (const waiter of [...this.waiting]) if (waiter.reached() >= waiter.position) waiter.done(true);
  }

  cancelAll(): void {
    for (const waiter of [...this.waiting]) waiter.done(false);
  }
}
