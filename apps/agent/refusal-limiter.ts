/**
 * How an agent reports the commands it refuses without letting a flood of forgeries flood the
 * bus: per reason, the first `perMinute` refusals of a minute are reported one by one and the
 * rest only counted, into one report once the minute is over. The control plane's own command
 * for this host refused as late or early (its signature, payload and target verified) is
 * reported the first time whatever the rate, so a flood cannot hide the refusal that closes a
 * real command; the same bytes again are limited as any other (and so are replays and other
 * hosts' commands, which close nothing).
 */
import type { RefusalReason } from './verify-command.ts';

/** Reasons given only after the signature, payload and target verified, which close the command they refuse. */
const signedReasons: ReadonlySet<RefusalReason> = new Set(['not-yet-valid', 'expired']);

export type RefusalDecision = { report: false } | { report: true; similar: number };

export class RefusalLimiter {
  private readonly windows = new Map<string, { at: number; sent: number; held: number }>();
  private readonly reportedSigned = new Set<string>();

  constructor(private readonly perMinute = 10, private readonly keptSigned = 1000) {}

  /** Whether to report this refusal now, and how many of its reason were held back before it. */
  take(reason: RefusalReason, signedSha256: string, now: number): RefusalDecision {
    if (signedReasons.has(reason) && signedSha256 && !this.reportedSigned.has(signedSha256)) {
      this.reportedSigned.add(signedSha256);
      if (this.reportedSigned.size > this.keptSigned) this.reportedSigned.delete(this.reportedSigned.values().next().value!);
      return { report: true, similar: 0 };
    }
    let w = this.windows.get(reason);
    if (!w || now - w.at >= 60_000) {
      w = { at: now, sent: 0, held: w?.held ?? 0 };
      this.windows.set(reason, w);
    }
    if (w.sent >= this.perMinute) {
      w.held++;
      return { report: false };
    }
    w.sent++;
    const similar = w.held;
    w.held = 0;
    return { report: true, similar };
  }

  /** The reasons whose held refusals are due (their minute is over): one report each, for `similar` + 1 refusals. */
  due(now: number): { reason: string; similar: number }[] {
    const out: { reason: string; similar: number }[] = [];
    for (const [reason, w] of this.windows) {
      if (w.held > 0 && now - w.at >= 60_000) {
        out.push({ reason, similar: w.held - 1 });
        w.held = 0;
        w.at = now;
        w.sent = 1;
      }
    }
    return out;
  }
}
