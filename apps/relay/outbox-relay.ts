/**
 * The outbox relay: the event store is the outbox of the bus. The relay follows the store's
 * global log from its checkpoint and publishes every event to `msec.events` (key = stream id,
 * value = protobuf envelope, headers = event id, type, position, prev-position and the signature
 * made with the deployment key, which the projector's event feed checks). The checkpoint
 * moves only after the bus acknowledged, so a crash re-sends (consumers drop what they have)
 * and never skips. While the bus is unreachable the relay retries the same batch with backoff,
 * logging once when the outage starts and once when it ends.
 */
import type { Logger } from 'pino';
import type { RecordedEvent } from '../../domain/events.ts';
import { eventMessage } from '../../adapters/bus/event-message.ts';
import { topics, type BusMessage, type CheckpointStore, type MessageBus } from '../../adapters/bus/port.ts';
import { followerDefaults, type RetryDelays } from '../../adapters/eventstore/batch-follower.ts';
import type { EventStore, Subscription } from '../../adapters/eventstore/port.ts';
import type { BusKey } from '../../adapters/signing/bus-key.ts';

/** Most bytes of event envelopes per publish (one event larger than this goes alone). */
export const maxBatchBytes = 512 * 1024;

export interface OutboxRelayOptions {
  store: EventStore;
  bus: MessageBus;
  checkpoints: CheckpointStore;
  /** Signs every message; the event feeds refuse what does not verify with the same key. */
  key?: BusKey;
  /**
   * The message for an event, or undefined to skip it (default: the signed event envelope).
   * The agent command dispatcher relays only AgentCommandIssued, as the signed command itself.
   */
  messageOf?: (event: RecordedEvent, prevPosition: number) => BusMessage | undefined;
  logger: Logger;
  /** Checkpoint name (default "outbox-relay"); two relays on one store need two names and two topics. */
  name?: string;
  /** Most events per publish (default 500). */
  batchSize?: number;
  topic?: string;
  retryDelays?: RetryDelays;
}

export interface RelayStatus {
  name: string;
  running: boolean;
  /** Position of the last event the bus acknowledged. */
  checkpoint: number;
  /** Highest position read from the store so far (unknown before start). */
  head?: number;
  /** Events published since start (re-sends included). */
  published: number;
  /** The latest publish or checkpoint failure, and when it happened (kept after recovery). */
  lastError?: string;
  lastErrorAt?: string;
  /** Set while the bus (or the checkpoint store) is failing. */
  outageSince?: string;
}

export class OutboxRelay {
  private readonly name: string;
  private readonly topic: string;
  private readonly batchSize: number;
  private readonly delays: RetryDelays;
  private readonly log: Logger;
  private subscription: Subscription | undefined;
  private checkpoint = 0;
  private head: number | undefined;
  private published = 0;
  private lastError: { message: string; at: number } | undefined;
  private outage: { since: number; attempts: number } | undefined;
  private stopping = false;
  private stopped: Promise<never> = new Promise(() => {});
  private signalStop: () => void = () => {};

  constructor(private readonly options: OutboxRelayOptions) {
    this.name = options.name ?? 'outbox-relay';
    this.topic = options.topic ?? topics.events;
    this.batchSize = options.batchSize ?? 500;
    this.delays = options.retryDelays ?? followerDefaults.retryDelays;
    this.log = options.logger.child({ relay: this.name, topic: this.topic });
  }

  private messageOf(event: RecordedEvent, prev: number): BusMessage | undefined {
    if (this.options.messageOf) return this.options.messageOf(event, prev);
    if (!this.options.key) throw new Error('the outbox relay needs the bus key to sign the events it publishes');
    return eventMessage(event, prev, this.options.key);
  }

  async start(): Promise<void> {
    if (this.subscription) throw new Error(`outbox relay ${this.name} is already running: stop() it before starting it again`);
    this.stopping = false;
    this.stopped = new Promise<never>((_, reject) => (this.signalStop = () => reject(new Error(`outbox relay ${this.name} stopped before the bus acknowledged`))));
    this.stopped.catch(() => {});
    this.checkpoint = (await this.options.checkpoints.load(this.name)) ?? 0;
    this.head = Math.max(this.checkpoint, await this.options.store.headPosition());
    this.subscription = this.options.store.subscribeAll(this.checkpoint, (events) => this.relay(events));
    this.log.info({ checkpoint: this.checkpoint, head: this.head }, `outbox relay ${this.name} started at position ${this.checkpoint} (store head ${this.head})`);
  }

  /** Stops after the batch in flight; a batch that was not acknowledged is sent again by the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }

  status(): RelayStatus {
    return {
      name: this.name,
      running: this.subscription !== undefined,
      checkpoint: this.checkpoint,
      ...(this.head === undefined ? {} : { head: this.head }),
      published: this.published,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: new Date(this.lastError.at).toISOString() } : {}),
      ...(this.outage ? { outageSince: new Date(this.outage.since).toISOString() } : {}),
    };
  }

  private async relay(events: RecordedEvent[]): Promise<void> {
    // The store hands a batch again after a failed handler: what was acknowledged stays sent.
    const fresh = events.filter((e) => e.position > this.checkpoint);
    for (let i = 0; i < fresh.length;) {
      // Cut by count and by size: a config or IDL version may be 1 MiB, and a produce request
      // past the broker's limit (max.message.bytes, ~1 MB by default) can never succeed.
      let prev = this.checkpoint;
      const messages: BusMessage[] = [];
      let bytes = 0;
      for (; i < fresh.length && messages.length < this.batchSize; i++) {
        const message = this.messageOf(fresh[i]!, prev);
        if (message && messages.length > 0 && bytes + message.value.byteLength > maxBatchBytes) break;
        if (message) messages.push(message);
        bytes += message?.value.byteLength ?? 0;
        prev = fresh[i]!.position;
      }
      const chunk = messages;
      const last = prev;
      this.head = Math.max(this.head ?? 0, last);
      if (messages.length > 0) await this.untilDone(() => this.options.bus.publish(this.topic, messages), {
        what: `hand events after position ${this.checkpoint} to the bus`,
        hint: 'Check that the brokers in MSEC_BUS are up and reachable.',
        target: 'the bus',
      });
      await this.untilDone(() => this.options.checkpoints.save(this.name, last), {
        what: `save its checkpoint at position ${last}`,
        hint: 'Check the checkpoint store (the database under MSEC_HOME); the events are published, a restart before this succeeds sends them again.',
        target: 'the checkpoint store',
      });
      this.checkpoint = last;
      this.published += chunk.length;
    }
  }

  /**
   * Runs `attempt` until it succeeds, with backoff. stop() abandons it at once (a publish may be
   * deep in the client's own retries): the batch was not checkpointed, so the next start re-sends it.
   */
  private async untilDone(attempt: () => Promise<void>, step: { what: string; hint: string; target: string }): Promise<void> {
    let delay = this.delays.initialMs;
    for (;;) {
      try {
        if (this.stopping) await this.stopped;
        const attempted = attempt();
        attempted.catch(() => {}); // its failure is seen through the race unless stop() won it
        await Promise.race([attempted, this.stopped]);
        if (this.outage) {
          const downMs = Date.now() - this.outage.since;
          this.log.info({ downMs, attempts: this.outage.attempts, checkpoint: this.checkpoint },
            `outbox relay ${this.name}: ${step.target} answers again after ${Math.round(downMs / 1000)} s; relaying resumes from position ${this.checkpoint}`);
          this.outage = undefined;
        }
        return;
      } catch (err) {
        if (this.stopping) throw err;
        const message = (err as Error).message ?? String(err);
        this.lastError = { message, at: Date.now() };
        if (!this.outage) {
          this.outage = { since: Date.now(), attempts: 0 };
          this.log.warn({ err, checkpoint: this.checkpoint },
            `outbox relay ${this.name} cannot ${step.what}: ${message}. Retrying with backoff until it answers; nothing is skipped. ${step.hint}`);
        }
        this.outage.attempts += 1;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, delay))), this.stopped]).finally(() => clearTimeout(timer));
        delay = Math.min(delay * 2, this.delays.maxMs);
      }
    }
  }
}
