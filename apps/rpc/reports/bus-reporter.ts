/**
 * The CallReporter of a process (client SDK and server runtime): call records and user metrics
 * are buffered and flushed to the bus every `flushEveryMs`, every `flushEveryRecords` records,
 * and on close, as route feedback, frm.* and usr.* metrics and call edges (aggregate.ts,
 * schemas/reports.proto).
 *
 * The bus never fails a call: record() and metric() only write to memory. A flush turns what is
 * buffered into messages once; a message the bus did not take waits, as it is (same report id),
 * for the next flush, so a report the bus did get and reports failed is stored once by the
 * views. When more than `maxBuffered` records wait, the oldest are dropped and counted (the count
 * travels in the next metrics report), and the failure is logged once per outage.
 */
import type { Logger } from 'pino';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import { encodeReport } from '../../../schemas/reports.ts';
import type { CallRecord, CallReporter, MetricPoint } from '../contracts.ts';
import { rpcLogger } from '../client/logger.ts';
import { aggregateCalls, reportIp } from './aggregate.ts';
import { MetricBuffer } from './metric-buffer.ts';
import { CoalescedFlush } from './coalesced-flush.ts';

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
  /** Most distinct user metric series (name, ip, minute) between two flushes (default 10 000). */
  maxMetricSeries?: number;
  logger?: Logger;
}

export interface ReporterStats {
  /** Records (and metric series) waiting: buffered, or in messages the bus has not taken yet. */
  buffered: number;
  /** Records dropped because the buffer was full, since the start. */
  dropped: number;
  /** Bus messages published, since the start. */
  published: number;
  failedFlushes: number;
  /** User metric points dropped (too many series between two flushes), since the start. */
  droppedMetrics: number;
}

/** Messages made by one flush that the bus has not all taken yet. */
interface PendingBatch {
  /** By topic; the metrics topic is published last. */
  topics: Map<string, BusMessage[]>;
  /** Records (and metric series) in it, for the buffer's bound. */
  weight: number;
  /** The drop count carried by its metrics messages, given back when the batch is dropped unsent. */
  droppedCarried: number;
}

const metricsTopic = 'msec.reports.metrics';

export class BusCallReporter implements CallReporter {
  private buffer: CallRecord[] = [];
  private readonly metrics: MetricBuffer;
  private pending: PendingBatch[] = [];
  private pendingWeight = 0;
  private droppedUnreported = 0;
  private readonly totals = { dropped: 0, published: 0, failedFlushes: 0, droppedMetrics: 0 };
  private readonly flusher = new CoalescedFlush(() => this.flushOnce(), () => (this.buffer.length > 0 || this.metrics.size > 0) && !this.failing);
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
    this.metrics = new MetricBuffer(options.maxMetricSeries ?? 10_000);
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
    if (this.buffer.length + this.pendingWeight > this.maxBuffered) this.dropOldest();
    // While the bus refuses, only the timer (and flush/close) retries: no storm of attempts.
    if (this.buffer.length >= this.flushEveryRecords && !this.flusher.busy && !this.failing) void this.flush();
  }

  metric(point: MetricPoint): void {
    if (this.closed) return;
    if (!this.metrics.put({ ...point, ip: reportIp(point.ip) })) this.totals.droppedMetrics++;
  }

  /** Publishes what is buffered; never rejects. Concurrent calls share one flush (and one more after it). */
  flush(): Promise<void> {
    return this.flusher.run();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.closed) return;
    this.closed = true;
    await this.flush();
  }

  stats(): ReporterStats {
    return { buffered: this.buffer.length + this.pendingWeight + this.metrics.size, ...this.totals };
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.length > 0 || this.metrics.size > 0 || this.droppedUnreported > 0) this.seal();
    while (this.pending.length > 0) {
      const batch = this.pending[0]!;
      for (const [topic, messages] of batch.topics) {
        try {
          await this.options.bus.publish(topic, messages);
        } catch (error) {
          this.totals.failedFlushes++;
          if (!this.failing) {
            this.logger.warn({ err: error, reporter: this.reporter, buffered: this.stats().buffered }, 'cannot publish call reports; keeping them and retrying at the next flush (oldest are dropped when the buffer is full)');
          }
          this.failing = true;
          return;
        }
        this.totals.published += messages.length;
        batch.topics.delete(topic);
      }
      this.pending.splice(this.pending.indexOf(batch), 1);
      this.pendingWeight -= batch.weight;
    }
    if (this.failing) this.logger.warn({ reporter: this.reporter }, 'call reports reach the bus again');
    this.failing = false;
  }

  /** Turns the buffers into messages, once: a retry sends the very same reports. */
  private seal(): void {
    const records = this.buffer;
    const user = this.metrics.take();
    const dropped = this.droppedUnreported;
    this.buffer = [];
    this.droppedUnreported = 0;
    const topics = new Map<string, BusMessage[]>();
    for (const m of aggregateCalls(records, this.reporter, dropped, user)) {
      const list = topics.get(m.topic) ?? [];
      list.push({ key: m.key, value: encodeReport(m.topic, m.report) });
      topics.set(m.topic, list);
    }
    const metrics = topics.get(metricsTopic);
    if (metrics) {
      topics.delete(metricsTopic);
      topics.set(metricsTopic, metrics);
    }
    const weight = records.length + user.metrics.length;
    this.pending.push({ topics, weight, droppedCarried: dropped });
    this.pendingWeight += weight;
  }

  /** Drops the oldest waiting batch, else the oldest tenth of the buffer, so a full buffer costs O(1) per record. */
  private dropOldest(): void {
    // The first batch may be on its way to the bus right now: it is not dropped under the flush's feet.
    const at = this.flusher.busy ? 1 : 0;
    const oldest = this.pending[at];
    if (oldest) {
      this.pending.splice(at, 1);
      this.pendingWeight -= oldest.weight;
      this.droppedUnreported += oldest.weight + (oldest.topics.has(metricsTopic) ? oldest.droppedCarried : 0);
      this.totals.dropped += oldest.weight;
      return;
    }
    const excess = this.buffer.length + this.pendingWeight - this.maxBuffered;
    const n = Math.min(this.buffer.length, Math.max(excess, Math.ceil(this.maxBuffered / 10)));
    this.buffer.splice(0, n);
    this.droppedUnreported += n;
    this.totals.dropped += n;
  }
}
