/**
 * What the registry reported changed behind the registry publisher's back, and how soon the
 * publisher looks at it. A restore after a quiet spell happens at once; restores that keep
 * coming (another writer undoing them: a second projector, someone holding the credential) are
 * spaced out, doubling up to a ceiling, so two writers do not spin ZooKeeper — and the operator
 * is told once per streak.
 */
import type { Logger } from 'pino';

export interface StoredChangesOptions {
  maxDelayMs?: number;
  /** Restores this far apart are not a streak (default 30 s). */
  quietMs?: number;
  /** Restores in a streak before the operator is told (default 5). */
  warnAfter?: number;
}

export class StoredChanges {
  /** Services reported changed, not yet looked at. */
  private readonly services = new Set<string>();
  /** Any table may have changed unseen (a new ZooKeeper session, the verification timer). */
  private everything = false;
  private streak = 0;
  private lastRestoreAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxDelayMs: number;
  private readonly quietMs: number;
  private readonly warnAfter: number;

  constructor(private readonly logger: Logger, options: StoredChangesOptions = {}) {
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.quietMs = options.quietMs ?? 30_000;
    this.warnAfter = options.warnAfter ?? 5;
  }

  /** Notes a change (null: any table) and calls `look` now or once the pacing allows; never twice in a wait. */
  report(service: string | null, look: () => void): void {
    if (service === null) this.everything = true;
    else this.services.add(service);
    if (this.timer) return;
    const delay = this.delayMs();
    if (delay === 0) return look();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      look();
    }, delay);
  }

  /** The services reported since the last take (a pass looks at them). */
  take(): Set<string> {
    const taken = new Set(this.services);
    this.services.clear();
    return taken;
  }

  /** A pass that took them failed: they are looked at again by the next one. */
  putBack(services: Iterable<string>): void {
    for (const service of services) this.services.add(service);
  }

  /** A verification failed: the retry verifies again. */
  verifyAgain(): void {
    this.everything = true;
  }

  /** Whether a full verification is due, clearing the flag. */
  takeEverything(): boolean {
    const due = this.everything;
    this.everything = false;
    return due;
  }

  /** `restored`: the services a pass had to write back (an empty list says nothing). */
  restored(restored: string[]): void {
    if (restored.length === 0) return;
    const now = Date.now();
    this.streak = now - this.lastRestoreAt > this.quietMs ? 1 : this.streak + 1;
    this.lastRestoreAt = now;
    if (this.streak === this.warnAfter) {
      this.logger.error({ services: restored.slice(0, 10), restoresInARow: this.streak },
        'another writer keeps changing the name service and msec keeps restoring it: run one projector per deployment, ' +
        'and change the ZooKeeper credential if someone else holds it');
    }
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private delayMs(): number {
    if (this.streak === 0 || Date.now() - this.lastRestoreAt > this.quietMs) return 0;
    return Math.min(this.maxDelayMs, 50 * 2 ** (this.streak - 1));
  }
}
