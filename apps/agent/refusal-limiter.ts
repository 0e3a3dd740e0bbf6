/**
 * How an agent reports the commands it refuses without letting a flood of forgeries flood the
 * bus: per reason, the first `perMinute` refusals of a minute are reported one by one and the
 * rest only counted, into one report once the minute is over. The control plane's own command
 * for this host refused as late or early (its signature, payload and target verified) is
 * reported the first time whatever the rate, so a flood cannot hide the refusal that closes a
 * real command; the same bytes again are limited as any other (and so are replays and other
 * hosts' commands, which close nothing).
 */
import { PerMinuteBudget } from '../../domain/per-minute-budget.ts';
import type { RefusalReason } from './verify-command.ts';

/** Reasons given only after the signature, payload and target verified, which close the command they refuse. */
const signedReasons: ReadonlySet<RefusalReason> = new Set(['not-yet-valid', 'expired']);

export type RefusalDecision = { report: false } | { report: true; similar: number };

export class RefusalLimiter {
  private readonly budget: PerMinuteBudget;
  private readonly reportedSigned = new Set<string>();

  constructor(perMinute = 10, private readonly keptSigned = 1000) {
    this.budget = new PerMinuteBudget(perMinute);
  }

  /** Whether to report this refusal now, and how many of its reason were held back before it. */
  take(reason: RefusalReason, signedSha256: string, now: number): RefusalDecision {
    if (signedReasons.has(reason) && signedSha256 && !this.reportedSigned.has(signedSha256)) {
      this.reportedSigned.add(signedSha256);
      if (this.reportedSigned.size > this.keptSigned) this.reportedSigned.delete(this.reportedSigned.values().next().value!);
      return { report: true, similar: 0 };
    }
    const held = this.budget.take(reason, now);
    return held === undefined ? { report: false } : { report: true, similar: held };
  }

  /** The reasons whose held refusals are due (their minute is over): one report each, for `similar` + 1 refusals. */
  due(now: number): { reason: string; similar: number }[] {
    return this.budget.due(now).map(({ key, held }) => ({ reason: key, similar: held - 1 }));
  }
}
