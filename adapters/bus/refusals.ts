/**
 * Messages the event feed refused: counted by reason for `msec status`, and logged without
 * flooding: the first refusal of each reason at once, then at most one line per reason every
 * `logEveryMs` saying how many more came. A batch the feed gives back to the bus (waiting for
 * another partition) comes again; its messages are counted once, by partition and offset.
 */
import type { Logger } from 'pino';
import type { RefusalReason } from './event-message.ts';
import type { ConsumedMessage } from './port.ts';

export interface RefusalCounts {
  total: number;
  byReason: Partial<Record<RefusalReason, number>>;
  /** The latest refusal. */
  last?: { reason: RefusalReason; at: string; partition: number; offset: number };
}

const advice: Record<RefusalReason, string> = {
  malformed: 'only the outbox relay may write to this topic: check who else can produce to it (Kafka ACLs)',
  unsigned: 'only the outbox relay may write to this topic: check who else can produce to it (Kafka ACLs)',
  'bad-signature': 'a forged or altered message: check who else can produce to this topic (Kafka ACLs)',
  'wrong-key': 'two projectors sign with different keys: give every projector the same MSEC_BUS_KEY',
  undecodable: 'signed but not an envelope this build reads: check that every projector runs the same msec version',
  mismatch: 'signed envelope with headers changed in transit or by a forger: check who else can produce to this topic',
  'past-head': 'signed, but beyond the event store\'s head: is this projector on the event store the relay reads (MSEC_EVENTSTORE)? Was the store reset while the topic kept its messages?',
};

export class BusRefusals {
  private readonly counts = new Map<RefusalReason, number>();
  private readonly logged = new Map<RefusalReason, { at: number; since: number }>();
  /** Highest offset looked at, per partition: what a redelivery brings again was counted. */
  private readonly seen = new Map<number, number>();
  private last: RefusalCounts['last'];
  private total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly where: { group: string; topic: string },
    private readonly logEveryMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this message is new to the feed (not a redelivery of one it already looked at). */
  isNew(m: ConsumedMessage): boolean {
    return m.offset > (this.seen.get(m.partition ?? 0) ?? -1);
  }

  /** Marks the batch as looked at (call once it was, whether it was taken or given back). */
  looked(batch: readonly ConsumedMessage[]): void {
    for (const m of batch) {
      const partition = m.partition ?? 0;
      if (m.offset > (this.seen.get(partition) ?? -1)) this.seen.set(partition, m.offset);
    }
  }

  refuse(m: ConsumedMessage, reason: RefusalReason, detail: string): void {
    if (!this.isNew(m)) return;
    const partition = m.partition ?? 0;
    this.total += 1;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    this.last = { reason, at: new Date(this.now()).toISOString(), partition, offset: m.offset };
    const log = this.logged.get(reason);
    const now = this.now();
    if (log && now - log.at < this.logEveryMs) {
      log.since += 1;
      return;
    }
    const { group, topic } = this.where;
    const more = log && log.since > 0 ? ` (${log.since} more ${reason} refusals since the last line)` : '';
    this.logger.warn({ group, topic, partition, offset: m.offset, reason, refused: this.counts.get(reason) },
      `event feed (group ${group}) refused the message at offset ${m.offset} of ${topic} partition ${partition}: ${reason}, ${detail}${more}; `
      + `it is skipped (the event store fills in any real event). ${advice[reason]}. Further ${reason} refusals are logged at most every ${Math.round(this.logEveryMs / 1000)} s`);
    this.logged.set(reason, { at: now, since: 0 });
  }

  snapshot(): RefusalCounts {
    return {
      total: this.total,
      byReason: Object.fromEntries(this.counts),
      ...(this.last ? { last: { ...this.last } } : {}),
    };
  }
}
