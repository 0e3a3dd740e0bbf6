/**
 * Report ingestion: the read side of `msec.reports.*` (design.md: every agent and runtime
 * report is a message on the bus; projections build the views). One consumer group per sink
 * (`msec.ingest.<name>`) takes batches, lets the sink check each message (the bus is
 * untrusted: a message the sink will not take is refused, counted by reason, logged without
 * flooding, and skipped, never stalling the group), and hands what it accepted to the sink's
 * store. The group's offset moves only after the store succeeded, so a crash between the two
 * stores the batch again: stores are idempotent by the item ids they are given.
 *
 * The batches of several partitions are taken at once, and a sink stores one call at a time:
 * what arrives while a store runs goes into the next one, together (fewer, larger inserts).
 * When a store of several batches fails, each is stored alone: a batch the store cannot take
 * fails (and is delivered again) without holding back the others.
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
  readonly id: string;
  readonly item: T;
  readonly message: ConsumedMessage;
}

/** An accepted item; its id is made only when a sink asks (a metrics batch has hundreds of thousands). */
class AcceptedItem<T> implements Accepted<T> {
  constructor(readonly item: T, readonly message: ConsumedMessage, private readonly index: number) {}

  get id(): string {
    return `${this.message.partition ?? 0}-${this.message.offset}-${this.index}`;
  }
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
  /** Partitions taken at once per sink (default 8). */
  partitionsAtOnce?: number;
  /** Items per store call at most, when batches are stored together (default 250 000). */
  maxItemsPerStore?: number;
}

interface Waiting {
  accepted: Accepted<unknown>[];
  done: (err?: unknown) => void;
}

interface Running {
  sink: ReportSink<unknown>;
  group: string;
  refusals: Refusals<string>;
  stored: number;
  error?: string;
  subscription?: BusSubscription;
  /** Accepted batches waiting for the sink's next store call, and the loop making those calls. */
  queue: Waiting[];
  storing?: Promise<void>;
}

export const ingestGroup = (sink: { name: string }, prefix = 'msec.ingest.') => `${prefix}${sink.name}`;

export class ReportIngest {
  private readonly running: Running[];

  constructor(private readonly options: ReportIngestOptions) {
    this.running = options.sinks.map((sink) => {
      const group = ingestGroup(sink, options.groupPrefix);
      const refusals = new Refusals<string>(options.logger, { group, topic: sink.topic }, {
        who: `report ingestion ${sink.name} (group ${group})`,
        outcome: 'it is skipped',
        advice: new Proxy(sink.advice, { get: (advice, reason: string) => advice[reason] ?? 'check who can produce to this topic (Kafka ACLs)' }),
      });
      return { sink, group, refusals, stored: 0, queue: [] };
    });
  }

  start(): void {
    for (const r of this.running) {
      r.subscription = this.options.bus.subscribe(
        { topic: r.sink.topic, group: r.group, fromBeginning: true, concurrency: this.options.partitionsAtOnce ?? 8 },
        (batch) => this.take(r, batch),
      );
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

  private async take(r: Running, batch: ConsumedMessage[]): Promise<void> {
    const accepted: Accepted<unknown>[] = [];
    for (const message of batch) {
      try {
        const items = await r.sink.accept(message);
        items.forEach((item, i) => accepted.push(new AcceptedItem(item, message, i)));
      } catch (err) {
        const reason = err instanceof ReportRefused ? err.reason : 'malformed';
        r.refusals.refuse(message, reason, (err as Error).message ?? String(err));
      }
    }
    r.refusals.looked(batch);
    if (accepted.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      r.queue.push({ accepted, done: (err) => (err === undefined ? resolve() : reject(err)) });
      r.storing ??= this.storeQueued(r);
    });
  }

  /** Stores what waits, one sink call at a time, batches that arrived together in one call. */
  private async storeQueued(r: Running): Promise<void> {
    try {
      // The other partitions of the same fetch are handed over in the same turn: let them join.
      await new Promise((resolve) => setImmediate(resolve));
      const max = this.options.maxItemsPerStore ?? 250_000;
      while (r.queue.length > 0) {
        let items = 0;
        let n = 0;
        while (n < r.queue.length && (n === 0 || items + r.queue[n]!.accepted.length <= max)) items += r.queue[n++]!.accepted.length;
        const taken = r.queue.splice(0, n);
        const failure = await this.storeTogether(r, taken.length === 1 ? taken[0]!.accepted : taken.flatMap((w) => w.accepted));
        if (failure === undefined) {
          for (const w of taken) w.done();
        } else if (taken.length === 1) {
          taken[0]!.done(failure);
        } else {
          // One batch the store cannot take must not hold back the others: each alone again.
          for (const w of taken) w.done(await this.storeTogether(r, w.accepted));
        }
      }
    } catch (err) {
      // Never left half-way: whatever still waits fails, and is delivered again.
      for (const w of r.queue.splice(0)) w.done(err instanceof Error ? err : new Error(String(err)));
    } finally {
      r.storing = undefined;
    }
  }

  /** One sink call; undefined when it stored, else the failure (logged once while it lasts). */
  private async storeTogether(r: Running, accepted: Accepted<unknown>[]): Promise<Error | undefined> {
    try {
      await r.sink.store(accepted);
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(`the ${r.sink.name} store failed: ${String(err)}`);
      if (r.error === undefined) {
        this.options.logger.warn({ err: failure, sink: r.sink.name }, `report ingestion ${r.sink.name} cannot store a batch: ${failure.message}; it is delivered again until it can`);
      }
      r.error = failure.message;
      return failure;
    }
    if (r.error !== undefined) this.options.logger.info({ sink: r.sink.name }, `report ingestion ${r.sink.name} stores again`);
    r.error = undefined;
    r.stored += accepted.length;
    return undefined;
  }
}
