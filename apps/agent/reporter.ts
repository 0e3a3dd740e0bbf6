/**
 * The agent's reports: numbered (strictly growing across restarts: numbers are reserved in
 * blocks in the state file), signed with the agent's key, and sent to msec.reports.* directly
 * on Kafka or through the console. Results and refusals are queued and retried until sent
 * (bounded); heartbeats and output chunks are best effort.
 */
import type { Logger } from 'pino';
import type { MessageBus } from '../../adapters/bus/port.ts';
import type { SigningKey } from '../../adapters/signing/ed25519.ts';
import { encodeReportBody, encodeSignedReport, type ReportBody, type ReportKind, type ReportKindName } from '../../schemas/agent.ts';
import { topicOfKind } from '../projector/agent-reports.ts';
import type { ConsoleLink } from './console-link.ts';

const reserveBlock = 1000;

export interface ReporterOptions {
  ip: string;
  key: SigningKey;
  link: ConsoleLink;
  /** Kafka: reports (but output chunks) go to the bus directly. */
  bus?: MessageBus;
  logger: Logger;
  /** The last number handed out before a restart, and a way to reserve the next block durably. */
  reserved: number;
  reserve(upTo: number): void;
  clock?: () => number;
  maxQueued?: number;
}

export class AgentReporter {
  private sequence: number;
  private reservedUpTo: number;
  private readonly queue: { kind: ReportKindName; bytes: Uint8Array }[] = [];
  private sending: Promise<void> | undefined;
  private failing = false;
  private dropped = 0;
  private readonly clock: () => number;

  constructor(private readonly options: ReporterOptions) {
    this.sequence = options.reserved;
    this.reservedUpTo = options.reserved;
    this.clock = options.clock ?? Date.now;
  }

  /** Signs a report now (so its time and number are now) and sends it; `reliable` ones are retried until sent. */
  send(kind: ReportKind, reliable: boolean): Promise<void> {
    const name = Object.keys(kind)[0] as ReportKindName;
    const bytes = this.sign(kind);
    if (!reliable) return this.deliver(name, bytes).catch((err) => this.options.logger.debug({ err, kind: name }, 'a report was not delivered (best effort)'));
    if (this.queue.length >= (this.options.maxQueued ?? 10_000)) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ kind: name, bytes });
    return this.flush();
  }

  /** Sends what is queued, in order; a failure keeps it for the next try. Concurrent calls share one pass. */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    const pass = this.drain();
    this.sending = pass;
    void pass.finally(() => {
      if (this.sending === pass) this.sending = undefined;
    });
    return pass;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        try {
          await this.deliver(next.kind, next.bytes);
        } catch (err) {
          // The console refused this report for good (a 4xx other than throttling): keeping it
          // at the head of the queue would hold back every report behind it. Dropped, counted.
          const status = (err as { status?: number }).status;
          if (status === undefined || status < 400 || status >= 500 || status === 408 || status === 429) throw err;
          this.dropped++;
          this.options.logger.error({ err, kind: next.kind, dropped: this.dropped }, 'the console refused a report for good; it is dropped');
        }
        this.queue.shift();
        if (this.failing) this.options.logger.info({ queued: this.queue.length }, 'reports go through again');
        this.failing = false;
      }
    } catch (err) {
      if (!this.failing) this.options.logger.warn({ err, queued: this.queue.length }, 'cannot send reports; keeping them and trying again');
      this.failing = true;
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  private sign(kind: ReportKind): Uint8Array {
    this.sequence += 1;
    if (this.sequence > this.reservedUpTo) {
      this.reservedUpTo = this.sequence + reserveBlock;
      this.options.reserve(this.reservedUpTo);
    }
    const body = encodeReportBody({ agent: this.options.ip, sequence: this.sequence, atMs: this.clock(), ...kind } as ReportBody);
    return encodeSignedReport({ agent: this.options.ip, body, signature: this.options.key.sign('report', body) });
  }

  private async deliver(kind: ReportKindName, bytes: Uint8Array): Promise<void> {
    if (this.options.bus && kind !== 'output') {
      await this.options.bus.publish(topicOfKind(kind), [{ key: this.options.ip, value: bytes }]);
      return;
    }
    await this.options.link.request('POST', '/api/agent/reports', { body: bytes, timeoutMs: 10_000 });
  }
}
