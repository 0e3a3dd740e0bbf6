/**
 * Delivers AlarmRaised / AlarmResolved to the webhooks of their service: follows the event
 * store's global log from a checkpoint, POSTs each alarm signed (webhook-signing.ts) to every
 * webhook the service had when the alarm happened, retries a failed POST on a growing delay,
 * and moves its checkpoint only past events whose deliveries all ended (delivered or given up),
 * so a restart sends again what was in flight: at least once, with the event id as delivery id
 * for the receiver to drop repeats. It starts at the log's head the first time (no history).
 */
import type { Logger } from 'pino';
import type { CheckpointStore } from '../../adapters/bus/port.ts';
import type { EventStore, Subscription } from '../../adapters/eventstore/port.ts';
import type { RecordedEvent } from '../../domain/events.ts';
import type { AlarmRaisedData, AlarmResolvedData } from '../../domain/monitoring/events.ts';
import { webhookReachesConsole } from '../../domain/monitoring/webhook-url.ts';
import type { WebhookRecord } from '../../projections/monitoring.ts';
import { postJson } from './webhook-post.ts';
import { WebhookTargets } from './webhook-targets.ts';
import type { WebhookSigner } from './webhook-signing.ts';

export interface WebhookDelivererOptions {
  store: EventStore;
  checkpoints: CheckpointStore;
  signer: WebhookSigner;
  /** The service's webhooks now (the monitoring read model). */
  webhooks: (service: string) => readonly WebhookRecord[];
  /** Resolves once the read model has folded the log up to `position`. */
  caughtUp?: (position: number) => Promise<unknown>;
  /** Where the console listens (webhooks to it are refused), once it does. */
  consoleAddress: () => { hosts: readonly string[]; port: number } | undefined;
  logger: Logger;
  clock?: () => number;
  /** Delays between attempts (default 1 s, 5 s, 30 s, 2 min, 10 min, 30 min: then it gives up). */
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  /** Checkpoint name (default `alarm-webhooks`). */
  name?: string;
  /** Addresses webhooks may reach (default: public ones, and MSEC_WEBHOOK_ALLOW). */
  targets?: WebhookTargets;
}

export interface DelivererStatus {
  checkpoint: number;
  inFlight: number;
  delivered: number;
  failedAttempts: number;
  givenUp: number;
  lastError?: string;
}

interface Delivery {
  position: number;
  url: string;
  delivery: string;
  body: string;
  attempt: number;
}

const maxInFlight = 1_000;

/** Positions read past without an alarm before the checkpoint is stored anyway. */
const checkpointEvery = 1000;

export class WebhookDeliverer {
  private subscription: Subscription | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Unfinished deliveries per event position. */
  private readonly open = new Map<number, number>();
  private seen = 0;
  private saved = 0;
  private stopped = false;
  private readonly counts = { delivered: 0, failedAttempts: 0, givenUp: 0 };
  private lastError: string | undefined;
  private roomWaiters: (() => void)[] = [];
  private readonly clock: () => number;
  private readonly delays: readonly number[];
  private readonly name: string;

  private readonly targets: WebhookTargets;

  constructor(private readonly options: WebhookDelivererOptions) {
    this.targets = options.targets ?? WebhookTargets.fromEnv();
    this.clock = options.clock ?? Date.now;
    this.delays = options.retryDelaysMs ?? [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000];
    this.name = options.name ?? 'alarm-webhooks';
  }

  async start(): Promise<void> {
    let from = await this.options.checkpoints.load(this.name);
    if (from === null) {
      from = await this.options.store.headPosition();
      await this.options.checkpoints.save(this.name, from);
    }
    this.seen = this.saved = from;
    this.subscription = this.options.store.subscribeAll(from, (events) => this.take(events));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.saveCheckpoint(true);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  status(): DelivererStatus {
    let inFlight = 0;
    for (const n of this.open.values()) inFlight += n;
    return { checkpoint: this.saved, inFlight, ...this.counts, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  private async take(events: RecordedEvent[]): Promise<void> {
    let alarms = false;
    for (const event of events) {
      if (this.stopped) return;
      if (event.type === 'AlarmRaised' || event.type === 'AlarmResolved') {
        alarms = true;
        await this.options.caughtUp?.(event.position);
        const webhooks = this.options.webhooks(event.data.service).filter((w) => w.since < event.position);
        if (webhooks.length) {
          while (this.inFlight() >= maxInFlight && !this.stopped) await new Promise<void>((r) => this.roomWaiters.push(r));
          const body = JSON.stringify(payload(event as RecordedEvent & { data: AlarmRaisedData | AlarmResolvedData }));
          this.open.set(event.position, webhooks.length);
          for (const w of webhooks) void this.attempt({ position: event.position, url: w.url, delivery: event.id, body, attempt: 1 });
        }
      }
      this.seen = event.position;
    }
    // Other events cost a restart only a read again (they deliver nothing): stored every so often, and at stop.
    if (alarms || this.seen - this.saved >= checkpointEvery) await this.saveCheckpoint();
  }

  private inFlight(): number {
    let n = 0;
    for (const v of this.open.values()) n += v;
    return n;
  }

  private async attempt(d: Delivery): Promise<void> {
    if (this.stopped) return;
    const timestamp = Math.floor(this.clock() / 1000);
    let problem: string;
    try {
      const address = this.options.consoleAddress();
      const { status } = await postJson(d.url, d.body, {
        'x-msec-delivery': d.delivery, 'x-msec-timestamp': String(timestamp), 'x-msec-signature': this.options.signer.sign(timestamp, d.delivery, d.body),
      }, {
        timeoutMs: this.options.timeoutMs ?? 5_000,
        refuseAddress: (resolved) => (address !== undefined && webhookReachesConsole(d.url, address, resolved) ? 'the console itself' : this.targets.refusal(resolved)),
      });
      if (status >= 200 && status < 300) {
        this.counts.delivered++;
        return this.finished(d.position);
      }
      problem = `answered ${status}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    this.counts.failedAttempts++;
    this.lastError = `${d.url}: ${problem}`;
    const delay = this.delays[d.attempt - 1];
    // A URL that leads back to the console stays refused: no point in trying again.
    if (delay === undefined || /the console itself/.test(problem)) {
      this.counts.givenUp++;
      this.options.logger.error({ url: d.url, delivery: d.delivery, attempts: d.attempt }, `alarm webhook ${d.url} failed ${d.attempt} time(s) (${problem}); giving up on this alarm`);
      return this.finished(d.position);
    }
    if (d.attempt === 1) this.options.logger.warn({ url: d.url, delivery: d.delivery }, `alarm webhook ${d.url} failed (${problem}); retrying in ${delay} ms`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt({ ...d, attempt: d.attempt + 1 });
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private finished(position: number): void {
    const left = (this.open.get(position) ?? 1) - 1;
    if (left > 0) this.open.set(position, left);
    else this.open.delete(position);
    for (const wake of this.roomWaiters.splice(0)) wake();
    void this.saveCheckpoint();
  }

  /** Past every event read, except those with deliveries still going. */
  private async saveCheckpoint(stopping = false): Promise<void> {
    let upTo = this.seen;
    for (const position of this.open.keys()) upTo = Math.min(upTo, position - 1);
    if (upTo <= this.saved || (this.stopped && !stopping)) return;
    this.saved = upTo;
    try {
      await this.options.checkpoints.save(this.name, upTo);
    } catch (e) {
      this.options.logger.warn({ err: e }, 'could not save the alarm webhook checkpoint; a restart may deliver some alarms again');
    }
  }
}

/** What a webhook receives. */
export function payload(event: RecordedEvent & { data: AlarmRaisedData | AlarmResolvedData }) {
  const d = event.data;
  const minute = new Date(d.minute * 1000).toISOString();
  return {
    id: event.id,
    type: event.type,
    service: d.service,
    name: d.name,
    alarmType: d.alarmType,
    ip: d.ip,
    minute,
    value: d.value,
    ...('threshold' in d ? { threshold: d.threshold, previous: d.previous, forMinutes: d.forMinutes } : {}),
    ...('raisedMinute' in d ? { raisedMinute: new Date(d.raisedMinute * 1000).toISOString(), reason: d.reason } : {}),
    occurredAt: event.occurredAt,
  };
}
