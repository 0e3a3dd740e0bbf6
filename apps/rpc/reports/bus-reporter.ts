/**
 * The CallReporter of a process (client SDK and server runtime): call records are buffered and
 * flushed to the bus every `flushEveryMs`, every `flushEveryRecords` records, and on close, as
 * route feedback, frm.* metrics and call edges (aggregate.ts, schemas/reports.proto).
 *
 * The bus never fails a call: record() only appends to memory. A failed flush keeps the
 * records for the next one; when the buffer is full the oldest are dropped and counted (the
 * count travels in the next metrics report), and the failure is logged once per outage.
 */
import type { Logger } from 'pino';
import type { MessageBus } from '../../../adapters/bus/port.ts';
import { encodeReport } from '../../../schemas/reports.ts';
import type { CallRecord, CallReporter } from '../contracts.ts';
import { rpcLogger } from '../client/logger.ts';
import { aggregateCalls } from './aggregate.ts';

export interface BusCallReporterOptions {
  bus: MessageBus;
  /** Names this process in reports (default env MSEC_SERVICE, else 'client'). */
  reporter?: string;
  /** Flush period; 0 = no timer, only record counts, flush() and close() (default 10 000, MSEC's monitor agent). */
  flushEveryMs?: number;
  /** Flush as soon as this many records wait (default 1000). */
  flushEveryRecords?: number;
  /** Most records kept while the bus does not take them (default 50 000). */
  maxBuffered?: number;
  logger?: Logger;
}

export interface ReporterStats {
  buffered: number;
  /** Records dropped because the buffer was full, since the start. */
  dropped: number;
  /** Bus messages published, since the start. */
  published: number;
  failedFlushes: number;
}

export class BusCallReporter implements CallReporter {
  private buffer: CallRecord[] = [];
  private droppedUnreported = 0;
  private readonly totals = { dropped: 0, published: 0, failedFlushes: 0 };
  private flushing: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly reporter: string;
  private readonly flushEveryRecords: number;
  private readonly maxBuffered: number;
  private readonly logger: Logger;

  constructor(private readonly options: BusCallReporterOptions) {
    this.reporter = options.reporter ?? process.env.MSEC_SERVICE ?? 'client';
    this.flushEveryRecords = Math.max(1, options.flushEveryRecords ?? 1000);
    this.maxBuffered = Math.max(this.flushEveryRecords, options.maxBuffered ?? 50_000);
    this.logger = options.logger ?? rpcLogger();
    const every = options.flushEveryMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.flush(), every);
      this.timer.unref();
    }
  }

  record(call: CallRecord): void {
    if (this.closed) return;
    this.buffer.push(call);
    if (this.buffer.length > this.maxBuffered) this.dropOldest();
    // While the bus refuses, only the timer (and flush/close) retries: no storm of attempts.
    if (this.buffer.length >= this.flushEveryRecords && !this.flushing && !this.failing) void this.flush();
  }

  /** Publishes what is buffered; never rejects. Concurrent calls share one flush (and one more after it). */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.flushOnce();
        } while (this.again && this.buffer.length > 0 && !this.failing);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.closed) return;
    this.closed = true;
    await this.flush();
  }

  stats(): ReporterStats {
    return { buffered: this.buffer.length, ...this.totals };
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.length === 0 && this.droppedUnreported === 0) return;
    const records = this.buffer;
    const dropped = this.droppedUnreported;
    this.buffer = [];
    this.droppedUnreported = 0;
    const byTopic = new Map<string, { key: string; value: Uint8Array }[]>();
    for (const m of aggregateCalls(records, this.reporter, dropped)) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ key: m.key, value: encodeReport(m.topic, m.report) });
      byTopic.set(m.topic, list);
    }
    try {
      for (const [topic, messages] of byTopic) {
        await this.options.bus.publish(topic, messages);
        this.totals.published += messages.length;
      }
      if (this.failing) this.logger.warn({ reporter: this.reporter }, 'call reports reach the bus again');
      this.failing = false;
    } catch (error) {
      // Keep them for the next flush (a topic that did get through may see them twice).
      this.buffer = records.concat(this.buffer);
      this.droppedUnreported += dropped;
      if (this.buffer.length > this.maxBuffered) this.dropOldest();
      this.totals.failedFlushes++;
      if (!this.failing) {
        this.logger.warn({ err: error, reporter: this.reporter, buffered: this.buffer.length }, 'cannot publish call reports; keeping them and retrying at the next flush (oldest are dropped when the buffer is full)');
      }
      this.failing = true;
    }
  }

  /** Drops the oldest tenth of the buffer (at least down to the limit), so a full buffer costs O(1) per record. */
  private dropOldest(): void {
    const excess = this.buffer.length - this.maxBuffered;
    const n = Math.min(this.buffer.length, Math.max(excess, Math.ceil(this.maxBuffered / 10)));
    this.buffer.splice(0, n);
    this.droppedUnreported += n;
    this.totals.dropped += n;
  }
}
