/**
 * Messages a consumer refused (the event feed, report ingestion): counted by reason for
 * `msec status`, and logged without flooding: the first refusal of each reason at once, then
 * at most one line per reason every `logEveryMs` saying how many more came. A batch given back
 * to the bus comes again; its messages are counted once, by partition and offset.
 */
import type { Logger } from 'pino';
import type { RefusalReason } from './event-message.ts';
import type { ConsumedMessage } from './port.ts';

export interface RefusalCounts<R extends string = RefusalReason> {
  total: number;
  byReason: Partial<Record<R, number>>;
  /** The latest refusal. */
  last?: { reason: R; at: string; partition: number; offset: number };
}

/** Who refuses, what happens to a refused message, and what to check for each reason. */
export interface RefusalContext<R extends string> {
  /** e.g. "event feed (group msec.projector.routing_v1)" */
  who: string;
  /** e.g. "it is skipped (the event store fills in any real event)" */
  outcome: string;
  advice: Record<R, string>;
}

const eventAdvice: Record<RefusalReason, string> = {
  malformed: 'only the outbox relay may write to this topic: check who else can produce to it (Kafka ACLs)',
  unsigned: 'only the outbox relay may write to this topic: check who else can produce to it (Kafka ACLs)',
  'bad-signature': 'a forged or altered message: check who else can produce to this topic (Kafka ACLs)',
  'wrong-key': 'two projectors sign with different keys: give every projector the same MSEC_BUS_KEY',
  undecodable: 'signed but not an envelope this build reads: check that every projector runs the same msec version',
  mismatch: 'signed envelope with headers changed in transit or by a forger: check who else can produce to this topic',
  'past-head': 'signed, but beyond the event store\'s head: is this projector on the event store the relay reads (MSEC_EVENTSTORE)? Was the store reset while the topic kept its messages?',
};

/** The event feed's refusals (apps/relay signs, adapters/bus/event-message.ts checks). */
export function eventFeedRefusals(logger: Logger, where: { group: string; topic: string }, logEveryMs?: number): Refusals<RefusalReason> {
  return new Refusals(logger, where, {
    who: `event feed (group ${where.group})`,
    outcome: 'it is skipped (the event store fills in any real event)',
    advice: eventAdvice,
  }, logEveryMs);
}

export class Refusals<R extends string> {
  private readonly counts = new Map<R, number>();
  private readonly logged = new Map<R, { at: number; since: number }>();
  /** Highest offset looked at, per partition: what a redelivery brings again was counted. */
  private readonly seen = new Map<number, number>();
  private last: RefusalCounts<R>['last'];
  private total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly where: { group: string; topic: string },
    private readonly context: RefusalContext<R>,
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

  refuse(m: ConsumedMessage, reason: R, detail: string): void {
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
      `${this.context.who} refused the message at offset ${m.offset} of ${topic} partition ${partition}: ${reason}, ${detail}${more}; `
      + `${this.context.outcome}. ${this.context.advice[reason]}. Further ${reason} refusals are logged at most every ${Math.round(this.logEveryMs / 1000)} s`);
    this.logged.set(reason, { at: now, since: 0 });
  }

  snapshot(): RefusalCounts<R> {
    return {
      total: this.total,
      byReason: Object.fromEntries(this.counts) as Partial<Record<R, number>>,
      ...(this.last ? { last: { ...this.last } } : {}),
    };
  }
}
