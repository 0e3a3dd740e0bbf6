/**
 * Report ingestion: the read side of `msec.reports.*` (design.md: every agent and runtime
 * report is a message on the bus; projections build the views). One consumer group per sink
 * (`msec.ingest.<name>`) takes batches, lets the sink check each message (the bus is
 * untrusted: a message the sink will not take is refused, counted by reason, logged without
 * flooding, and skipped, never stalling the group), and hands what it accepted to the sink's
 * store. The group's offset moves only after the store succeeded, so a crash between the two
 * stores the batch again: stores are idempotent by the item ids they are given.
 */
import type { Logger } from 'pino';
import type { ConsumedMessage, MessageBus, BusSubscription } from '../../adapters/bus/port.ts';
import { Refusals, type RefusalCounts } from '../../adapters/bus/refusals.ts';

/** Thrown by a sink's `accept` for a message it will not take. */
export class ReportRefused extends Error {
  constructor(readonly reason: string, detail: string) {
    super(detail);
    this.name = 'ReportRefused';
  }
}

export interface Accepted<T> {
  /** Unique per message and item, the same on every redelivery: `<partition>-<offset>-<index>`. */
  id: string;
  item: T;
  message: ConsumedMessage;
}

export interface ReportSink<T> {
  /** Names the consumer group (`msec.ingest.<name>`) and the sink in `msec status`. */
  name: string;
  topic: string;
  /** What to check, per refusal reason this sink uses. */
  advice: Record<string, string>;
  /** The items of one message; throws ReportRefused for a message it will not take. */
  accept(message: ConsumedMessage): T[] | Promise<T[]>;
  /** Stores a batch's accepted items; idempotent by `id`. A throw has the batch delivered again. */
  store(items: Accepted<T>[]): Promise<void>;
}

export interface IngestStatus {
  name: string;
  topic: string;
  group: string;
  /** Items stored since the start (redeliveries included). */
  stored: number;
  refused: RefusalCounts<string>;
  /** The latest store failure, while it lasts. */
  error?: string;
}

export interface ReportIngestOptions {
  bus: MessageBus;
  sinks: readonly ReportSink<unknown>[];
  logger: Logger;
  /** Prefix of the consumer groups (default `msec.ingest.`). */
  groupPrefix?: string;
}

export const ingestGroup = (sink: { name: string }, prefix = 'msec.ingest.') => `${prefix}${sink.name}`;

export class ReportIngest {
  private readonly running: { sink: ReportSink<unknown>; group: string; refusals: Refusals<string>; stored: number; error?: string; subscription?: BusSubscription }[];

  constructor(private readonly options: ReportIngestOptions) {
    this.running = options.sinks.map((sink) => {
      const group = ingestGroup(sink, options.groupPrefix);
      const refusals = new Refusals<string>(options.logger, { group, topic: sink.topic }, {
        who: `report ingestion ${sink.name} (group ${group})`,
        outcome: 'it is skipped',
        advice: new Proxy(sink.advice, { get: (advice, reason: string) => advice[reason] ?? 'check who can produce to this topic (Kafka ACLs)' }),
      });
      return { sink, group, refusals, stored: 0 };
    });
  }

  start(): void {
    for (const r of this.running) {
      r.subscription = this.options.bus.subscribe({ topic: r.sink.topic, group: r.group, fromBeginning: true }, (batch) => this.take(r, batch));
    }
  }

  /** Resolves once every sink's consumer is positioned (Kafka: joined its group). */
  async ready(): Promise<void> {
    await Promise.all(this.running.map((r) => r.subscription?.ready?.()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.running.map((r) => r.subscription?.close()));
    for (const r of this.running) r.subscription = undefined;
  }

  status(): IngestStatus[] {
    return this.running.map((r) => ({
      name: r.sink.name, topic: r.sink.topic, group: r.group, stored: r.stored, refused: r.refusals.snapshot(),
      ...(r.error ? { error: r.error } : {}),
    }));
  }

  private async take(r: (typeof this.running)[number], batch: ConsumedMessage[]): Promise<void> {
    const accepted: Accepted<unknown>[] = [];
    for (const message of batch) {
      try {
        const items = await r.sink.accept(message);
        items.forEach((item, i) => accepted.push({ id: `${message.partition ?? 0}-${message.offset}-${i}`, item, message }));
      } catch (err) {
        const reason = err instanceof ReportRefused ? err.reason : 'malformed';
        r.refusals.refuse(message, reason, (err as Error).message ?? String(err));
      }
    }
    r.refusals.looked(batch);
    if (accepted.length === 0) return;
    try {
      await r.sink.store(accepted);
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (r.error === undefined) {
        this.options.logger.warn({ err, sink: r.sink.name }, `report ingestion ${r.sink.name} cannot store a batch: ${message}; it is delivered again until it can`);
      }
      r.error = message;
      throw err;
    }
    if (r.error !== undefined) this.options.logger.info({ sink: r.sink.name }, `report ingestion ${r.sink.name} stores again`);
    r.error = undefined;
    r.stored += accepted.length;
  }
}
