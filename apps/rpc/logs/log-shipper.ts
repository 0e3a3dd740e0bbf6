/**
 * Ships the log records a process keeps to msec.reports.logs (MSEC's local flume agent):
 * buffered in memory and published in batches every `flushEveryMs`, as soon as
 * `flushEveryRecords` wait, and on close. Logging never waits for the bus and never fails:
 * `ship()` only appends. While the bus does not take them, records stay buffered up to
 * `maxBuffered` records and `maxBufferedBytes`; past that the oldest are dropped, counted,
 * and the count travels in the next report (`droppedRecords`), and the outage is logged once.
 */
import type { Logger } from 'pino';
import type { MessageBus } from '../../../adapters/bus/port.ts';
import { encodeReport, reportTopics, type LogRecord } from '../../../schemas/reports.ts';
import { rpcLogger } from '../client/logger.ts';
import { CoalescedFlush } from '../reports/coalesced-flush.ts';

export interface LogShipperOptions {
  bus: MessageBus;
  /** Names this process in reports (default env MSEC_SERVICE, else 'client'). */
  reporter?: string;
  /** Flush period; 0 = no timer (default 1000 ms). */
  flushEveryMs?: number;
  /** Flush as soon as this many records wait (default 500). */
  flushEveryRecords?: number;
  /** Most records kept while the bus does not take them (default 20 000). */
  maxBuffered?: number;
  /** Most bytes (about) kept while the bus does not take them (default 16 MiB). */
  maxBufferedBytes?: number;
  logger?: Logger;
}

export interface ShipperStats {
  buffered: number;
  /** Records handed to ship() since the start. */
  kept: number;
  /** Records dropped because the buffer was full, since the start. */
  dropped: number;
  /** Records the bus took, since the start. */
  shipped: number;
  failedFlushes: number;
}

/** Records in one bus message, and about how many bytes: well under Kafka's 1 MB default. */
export const recordsPerMessage = 500;
const bytesPerMessage = 512 * 1024;

/** What a record costs in memory and on the wire, roughly: its text plus the headers. */
function weight(r: LogRecord): number {
  let n = 96 + r.message.length + r.service.length + r.rpcName.length + r.caller.length;
  for (let i = 0; i < r.fieldNames.length; i++) n += r.fieldNames[i]!.length + r.fieldValues[i]!.length + 4;
  return n;
}

export class LogShipper {
  private buffer: LogRecord[] = [];
  private bufferedBytes = 0;
  private droppedUnreported = 0;
  private readonly totals = { kept: 0, dropped: 0, shipped: 0, failedFlushes: 0 };
  private readonly flusher = new CoalescedFlush(() => this.flushOnce(), () => this.buffer.length > 0 && !this.failing);
  private failing = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  readonly reporter: string;
  private readonly flushEveryRecords: number;
  private readonly maxBuffered: number;
  private readonly maxBufferedBytes: number;
  private readonly logger: Logger;

  constructor(private readonly options: LogShipperOptions) {
    this.reporter = options.reporter ?? process.env.MSEC_SERVICE ?? 'client';
    this.flushEveryRecords = Math.max(1, options.flushEveryRecords ?? recordsPerMessage);
    this.maxBuffered = Math.max(this.flushEveryRecords, options.maxBuffered ?? 20_000);
    this.maxBufferedBytes = Math.max(64 * 1024, options.maxBufferedBytes ?? 16 * 1024 * 1024);
    this.logger = options.logger ?? rpcLogger();
    const every = options.flushEveryMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => void this.flush(), every);
      this.timer.unref();
    }
  }

  /** Takes a record to ship; never throws, never waits. */
  ship(record: LogRecord): void {
    if (this.closed) return;
    this.totals.kept++;
    this.buffer.push(record);
    this.bufferedBytes += weight(record);
    if (this.buffer.length > this.maxBuffered || this.bufferedBytes > this.maxBufferedBytes) this.dropOldest();
    // While the bus refuses, only the timer (and flush/close) retries: no storm of attempts.
    if (this.buffer.length >= this.flushEveryRecords && !this.flusher.busy && !this.failing) void this.flush();
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

  stats(): ShipperStats {
    return { buffered: this.buffer.length, ...this.totals };
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.length === 0 && this.droppedUnreported === 0) return;
    const records = this.buffer;
    const dropped = this.droppedUnreported;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.droppedUnreported = 0;
    const messages = this.messages(records, dropped);
    let sent = 0;
    try {
      // One publish per message: a failure keeps only what the bus has not taken.
      for (; sent < messages.length; sent++) {
        const m = messages[sent]!;
        await this.options.bus.publish(reportTopics.logs, [{ key: m.key, value: m.value }]);
        this.totals.shipped += m.records.length;
      }
      if (this.failing) this.logger.warn({ reporter: this.reporter }, 'log records reach the bus again');
      this.failing = false;
    } catch (error) {
      const left = messages.slice(sent);
      this.buffer = left.flatMap((m) => m.records).concat(this.buffer);
      this.bufferedBytes = this.buffer.reduce((n, r) => n + weight(r), 0);
      this.droppedUnreported += left.reduce((n, m) => n + m.dropped, 0);
      if (this.buffer.length > this.maxBuffered || this.bufferedBytes > this.maxBufferedBytes) this.dropOldest();
      this.totals.failedFlushes++;
      if (!this.failing) {
        this.logger.warn({ err: error, reporter: this.reporter, buffered: this.buffer.length },
          'cannot ship log records to the bus; keeping them and retrying (the oldest are dropped and counted when the buffer is full)');
      }
      this.failing = true;
    }
  }

  /** Records grouped by service (the bus key), cut into messages; the drop count rides on the first. */
  private messages(records: readonly LogRecord[], dropped: number): { key: string; value: Uint8Array; records: LogRecord[]; dropped: number }[] {
    const byService = new Map<string, LogRecord[]>();
    for (const r of records) {
      const list = byService.get(r.service);
      if (list) list.push(r);
      else byService.set(r.service, [r]);
    }
    const out: { key: string; value: Uint8Array; records: LogRecord[]; dropped: number }[] = [];
    let dropsLeft = dropped;
    const emit = (key: string, chunk: LogRecord[]) => {
      out.push({ key, value: encodeReport('msec.reports.logs', { reporter: this.reporter, records: chunk, droppedRecords: dropsLeft }), records: chunk, dropped: dropsLeft });
      dropsLeft = 0;
    };
    for (const [service, list] of byService) {
      let chunk: LogRecord[] = [];
      let bytes = 0;
      for (const r of list) {
        const w = weight(r);
        if (chunk.length > 0 && (chunk.length >= recordsPerMessage || bytes + w > bytesPerMessage)) {
          emit(service, chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(r);
        bytes += w;
      }
      if (chunk.length) emit(service, chunk);
    }
    if (dropsLeft > 0) emit(this.reporter, []);
    return out;
  }

  /** Drops the oldest tenth of the buffer (at least down to the limits), so a full buffer costs O(1) per record. */
  private dropOldest(): void {
    let n = Math.min(this.buffer.length, Math.max(this.buffer.length - this.maxBuffered, Math.ceil(this.maxBuffered / 10)));
    let freed = 0;
    for (let i = 0; i < n; i++) freed += weight(this.buffer[i]!);
    while (n < this.buffer.length && this.bufferedBytes - freed > this.maxBufferedBytes * 0.9) freed += weight(this.buffer[n++]!);
    this.buffer.splice(0, n);
    this.bufferedBytes -= freed;
    this.droppedUnreported += n;
    this.totals.dropped += n;
  }
}
