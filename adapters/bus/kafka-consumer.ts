/**
 * One consumer-group subscription of the Kafka bus, at-least-once:
 * - a batch's offsets are resolved (and then committed by kafkajs) only after the handler
 *   resolved;
 * - a handler that throws leaves its offsets alone: the partition is paused for a growing
 *   delay and fetched again from the last resolved offset, so the same messages come back,
 *   while the other partitions go on;
 * - a consumer that kafkajs gives up on (a crash it does not restart) is replaced by a new one
 *   after a delay, until close();
 * - with `concurrency` N, the batches of up to N partitions are handled at once.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { RetryDelays } from '../eventstore/batch-follower.ts';
import { describeKafkaError } from './kafka-client.ts';
import type { KafkaSettings } from './kafka-settings.ts';
import type { KafkaTopics } from './kafka-topics.ts';
import { DeliverLater, type BusSubscription, type ConsumedMessage } from './port.ts';

export interface KafkaGroupOptions {
  kafka: Kafka;
  settings: KafkaSettings;
  topics: KafkaTopics;
  logger: Logger;
  retryDelays: RetryDelays;
  topic: string;
  group: string;
  fromBeginning: boolean;
  /** Partitions whose batches are handled at once. */
  concurrency: number;
}

export type KafkaHandler = (batch: ConsumedMessage[]) => Promise<void> | void;

export function consumeKafkaGroup(options: KafkaGroupOptions, handler: KafkaHandler): BusSubscription {
  const group = new KafkaGroupConsumer(options, handler);
  return { ready: () => group.ready, close: () => group.close() };
}

class KafkaGroupConsumer {
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private closing = false;
  private wakeClosed!: () => void;
  private readonly closed = new Promise<void>((resolve) => (this.wakeClosed = resolve));
  private readonly running: Promise<void>;
  private readonly handling = new Set<Promise<unknown>>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly nextDelay = new Map<number, number>();
  private readonly description: string;

  constructor(private readonly options: KafkaGroupOptions, private readonly handler: KafkaHandler) {
    this.description = `Kafka group "${options.group}" on topic ${options.topic}`;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.running = this.run();
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.wakeClosed();
      for (const t of this.resumeTimers) clearTimeout(t);
      this.resumeTimers.clear();
    }
    await this.running;
    await Promise.all(this.handling);
    this.markReady();
  }

  /** Starts a kafkajs consumer and keeps one running until close(). */
  private async run(): Promise<void> {
    const { retryDelays, logger } = this.options;
    let delay = retryDelays.initialMs;
    let outage = false;
    while (!this.closing) {
      const consumer = this.newConsumer();
      const gaveUp = new Promise<Error>((resolve) =>
        consumer.on(consumer.events.CRASH, ({ payload }) => void (payload.restart ? undefined : resolve(payload.error))));
      let problem: Error | undefined;
      try {
        const started = this.start(consumer);
        started.catch(() => {}); // awaited through the race; close() may win it
        await Promise.race([started, this.closed]);
        // A start still under way when close() came: disconnect again once it got wherever it gets.
        if (this.closing) void started.finally(() => consumer.disconnect()).catch(() => {});
        if (!this.closing) {
          if (outage) logger.info({ group: this.options.group, topic: this.options.topic }, `${this.description}: consuming again`);
          outage = false;
          delay = retryDelays.initialMs;
          problem = await Promise.race([gaveUp, this.closed.then(() => undefined)]);
        }
      } catch (err) {
        problem = err as Error;
      }
      await consumer.disconnect().catch(() => {});
      if (this.closing) break;
      if (!outage) {
        logger.warn({ err: problem, group: this.options.group, topic: this.options.topic },
          `${this.description} stopped: ${describeKafkaError(problem)}; starting a new consumer with backoff (from ${delay} ms) until the cluster answers`);
      }
      outage = true;
      await Promise.race([new Promise((resolve) => setTimeout(resolve, delay)), this.closed]);
      delay = Math.min(delay * 2, retryDelays.maxMs);
    }
  }

  private newConsumer(): Consumer {
    const { kafka, settings, group } = this.options;
    const consumer = kafka.consumer({
      groupId: group,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: Math.max(300, Math.floor(settings.sessionTimeoutMs / 4)),
      maxWaitTimeInMs: settings.maxWaitMs,
      allowAutoTopicCreation: false,
    });
    // Ready once joined and positioned: offsets are resolved before the first fetch after a join.
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      joined = true;
      const assigned = Object.values(payload.memberAssignment).some((partitions) => partitions.length > 0);
      if (!assigned) this.markReady();
    });
    consumer.on(consumer.events.FETCH, () => joined && this.markReady());
    return consumer;
  }

  private async start(consumer: Consumer): Promise<void> {
    const { topics, topic, fromBeginning } = this.options;
    await topics.ensure(topic);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Math.floor(this.options.concurrency)),
      eachBatch: (payload) => this.deliver(payload),
    });
  }

  private async deliver({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.closing || !isRunning() || isStale() || batch.messages.length === 0) return;
    const messages = batch.messages.map((m) => consumed(batch.topic, batch.partition, m));
    // The handler may take longer than a session: keep the membership alive meanwhile.
    const beat = setInterval(() => void heartbeat().catch(() => {}), Math.max(300, Math.floor(this.options.settings.sessionTimeoutMs / 4)));
    const handled = (async () => this.handler(messages))();
    const tracked = handled.catch(() => {});
    this.handling.add(tracked);
    void tracked.then(() => this.handling.delete(tracked));
    try {
      await handled;
      resolveOffset(batch.lastOffset());
      this.nextDelay.delete(batch.partition);
    } catch (err) {
      this.retryLater(batch.partition, `${batch.firstOffset()}..${batch.lastOffset()}`, err, pause);
    } finally {
      clearInterval(beat);
    }
  }

  private retryLater(partition: number, offsets: string, err: unknown, pause: () => () => void): void {
    const { retryDelays, logger, group, topic } = this.options;
    // A batch waiting for another partition usually gets its turn in the same fetch round: try
    // again soon, backing off only if the wait drags on.
    const waiting = err instanceof DeliverLater;
    const delay = this.nextDelay.get(partition) ?? (waiting ? Math.min(retryDelays.initialMs, 10) : retryDelays.initialMs);
    this.nextDelay.set(partition, Math.min(delay * 2, retryDelays.maxMs));
    const line = `${this.description}: handling offsets ${offsets} of partition ${partition} failed; delivering them again in ${delay} ms`;
    if (waiting) logger.debug({ group, topic, partition, offsets, reason: (err as Error).message }, line);
    else logger.warn({ err, group, topic, partition, offsets }, line);
    if (this.closing) return;
    const resume = pause();
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      resume();
    }, delay);
    this.resumeTimers.add(timer);
  }
}

function consumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) headers[name] = last.toString();
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key?.toString() ?? '',
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestamp: Number(m.timestamp),
  };
}
