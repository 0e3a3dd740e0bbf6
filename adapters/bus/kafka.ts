/**
 * The message bus on Kafka (kafkajs). Selected by MSEC_BUS=kafka://host:9092,...; see
 * kafka-settings.ts for the options. Topics are created on first use where the cluster allows
 * it. Publishing resolves once the brokers acknowledged (acks=all by default, idempotent
 * producer). Consumer groups commit a batch's offsets only after its handler resolved.
 */
import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { followerDefaults, type RetryDelays } from '../eventstore/batch-follower.ts';
import { OpenSubscriptions } from '../eventstore/open-subscriptions.ts';
import { closedBusError, type GroupOptions, type MessageHandler } from './consumer-group.ts';
import { describeKafkaError, kafkaClient } from './kafka-client.ts';
import { consumeKafkaGroup } from './kafka-consumer.ts';
import { describeKafkaSettings, parseKafkaUrl, type KafkaSettings } from './kafka-settings.ts';
import { KafkaTopics } from './kafka-topics.ts';
import type { BusMessage, BusSubscription, MessageBus } from './port.ts';

export interface KafkaBusOptions {
  /** Defaults to pino on stderr. */
  logger?: Logger;
  /** Pause before a failed batch is delivered again, and between consumer restarts. */
  retryDelays?: RetryDelays;
}

export class KafkaBus implements MessageBus {
  /** `url` is MSEC_BUS, e.g. kafka://k1:9092,k2:9092?acks=all; the password comes from MSEC_KAFKA_PASSWORD. */
  static fromUrl(url: string, options: KafkaBusOptions = {}, env: NodeJS.ProcessEnv = process.env): KafkaBus {
    return new KafkaBus(parseKafkaUrl(url, env), options);
  }

  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly topics: KafkaTopics;
  private readonly subscriptions = new OpenSubscriptions();
  private readonly retryDelays: RetryDelays;
  private producer: Promise<Producer> | undefined;
  private closed = false;

  constructor(readonly settings: KafkaSettings, options: KafkaBusOptions = {}) {
    this.logger = (options.logger ?? pino({ name: 'msec-kafka' }, pino.destination(2))).child({ bus: 'kafka' });
    this.retryDelays = options.retryDelays ?? followerDefaults.retryDelays;
    this.kafka = kafkaClient(settings, this.logger);
    this.topics = new KafkaTopics(this.kafka, settings, this.logger);
    this.logger.debug({ settings: describeKafkaSettings(settings) }, 'Kafka bus configured');
  }

  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    await this.topics.ensure(topic);
    const producer = this.connectedProducer();
    try {
      await (await producer).send({
        topic,
        acks: this.settings.acks,
        compression: this.settings.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        // Copies, so a publisher reusing its buffers cannot change what is being sent.
        messages: messages.map((m): Message => ({ key: m.key, value: Buffer.from(m.value), ...(m.headers ? { headers: { ...m.headers } } : {}) })),
      });
    } catch (err) {
      // A fresh producer (new producer id, sequence numbers from 0) for the next attempt:
      // after a failed idempotent send the old one may be out of step with the broker.
      this.dropProducer(producer);
      throw new Error(`publishing ${messages.length} message(s) to Kafka topic ${topic} failed: ${describeKafkaError(err)}; publish them again (the bus is at-least-once)`, { cause: err });
    }
  }

  subscribe(options: GroupOptions, handler: MessageHandler): BusSubscription {
    this.assertOpen();
    const inner = consumeKafkaGroup(
      {
        kafka: this.kafka,
        settings: this.settings,
        topics: this.topics,
        logger: this.logger,
        retryDelays: this.retryDelays,
        topic: options.topic,
        group: options.group,
        fromBeginning: options.fromBeginning ?? false,
        concurrency: options.concurrency ?? 1,
      },
      handler,
    );
    const tracked = this.subscriptions.add(inner);
    return { ready: () => inner.ready!(), close: () => tracked.close() };
  }

  lag(topic: string, group: string): Promise<{ committed: number; end: number }> {
    this.assertOpen();
    return this.topics.lag(topic, group);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriptions.closeAll();
    const producer = this.producer;
    this.producer = undefined;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => {}),
      this.topics.close().catch(() => {}),
    ]);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: this.settings.idempotent,
        ...(this.settings.idempotent ? { maxInFlightRequests: 1 } : {}),
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const connecting = producer.connect().then(() => producer);
      this.producer = connecting;
      connecting.catch(() => this.dropProducer(connecting));
    }
    return this.producer;
  }

  private dropProducer(producer: Promise<Producer>): void {
    if (this.producer !== producer) return;
    this.producer = undefined;
    producer.then((p) => p.disconnect()).catch(() => {});
  }

  private assertOpen(): void {
    if (this.closed) throw closedBusError('Kafka');
  }
}
