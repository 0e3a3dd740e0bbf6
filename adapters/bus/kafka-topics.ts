/**
 * Topics and offsets through the Kafka admin API. A topic the bus needs is created with
 * CreateTopics where the cluster allows it; otherwise it must exist already or be created by
 * the broker's auto-creation (librdkafka's mock broker has no CreateTopics at all).
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { describeKafkaError } from './kafka-client.ts';
import type { KafkaSettings } from './kafka-settings.ts';

export class KafkaTopics {
  private admin: Promise<Admin> | undefined;
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(private readonly kafka: Kafka, private readonly settings: KafkaSettings, private readonly logger: Logger) {}

  /** Makes sure `topic` exists; remembered once it does. */
  ensure(topic: string): Promise<void> {
    let done = this.ensured.get(topic);
    if (!done) {
      done = this.create(topic);
      this.ensured.set(topic, done);
      done.catch(() => this.ensured.delete(topic));
    }
    return done;
  }

  async exists(topic: string): Promise<boolean> {
    if (this.ensured.has(topic)) return true;
    return (await (await this.connected()).listTopics()).includes(topic);
  }

  /** Committed offsets of `group` (summed; -1 when none) and end offsets of `topic` (summed). */
  async lag(topic: string, group: string): Promise<{ committed: number; end: number }> {
    // Asked only for an existing topic: a metadata request for an unknown one may create it.
    if (!(await this.exists(topic))) return { committed: -1, end: 0 };
    const admin = await this.connected();
    const [ends, groups] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
    const committedBy = new Map((groups[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    let end = 0;
    let committed = 0;
    let anyCommitted = false;
    for (const p of ends) {
      end += Number(p.high);
      const c = committedBy.get(p.partition);
      if (c !== undefined && c >= 0) {
        anyCommitted = true;
        committed += c;
      } else {
        committed += Number(p.low);
      }
    }
    return { committed: anyCommitted ? committed : -1, end };
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await (await admin.catch(() => undefined))?.disconnect();
  }

  private connected(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      const connecting = admin.connect().then(() => admin);
      this.admin = connecting;
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = undefined;
      });
    }
    return this.admin;
  }

  private async create(topic: string): Promise<void> {
    const admin = await this.connected();
    const { partitions, replicationFactor } = this.settings;
    let refused: string;
    try {
      // Asked even when the topic may exist: the answer (TOPIC_ALREADY_EXISTS) is as cheap as a
      // listing, and a listing would fail for every topic when one of them is broken.
      const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor }], waitForLeaders: true });
      if (created) this.logger.info({ topic, partitions, replicationFactor }, `created Kafka topic ${topic}`);
      return;
    } catch (err) {
      if (hasType(err, 'TOPIC_ALREADY_EXISTS')) return;
      refused = describeKafkaError(err);
    }
    // No CreateTopics here (or not allowed): the topic must exist, or a metadata request for
    // it lets a broker with auto.create.topics.enable create it.
    const probe = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } });
    try {
      await probe.connect();
      const meta = await probe.fetchTopicMetadata({ topics: [topic] });
      const found = meta.topics.find((t) => t.name === topic);
      if (!found || found.partitions.length === 0) throw new Error('the broker answered without the topic');
      this.logger.info({ topic, partitions: found.partitions.length, createTopics: refused },
        `Kafka topic ${topic} is there with ${found.partitions.length} partitions (made beforehand or by the broker's auto-creation; the cluster refused CreateTopics)`);
    } catch (err) {
      throw new Error(
        `Kafka topic ${topic} does not exist and this client cannot create it (CreateTopics: ${refused}; auto-creation: ${describeKafkaError(err)}). ` +
          `Create it yourself, e.g. kafka-topics.sh --create --topic ${topic} --partitions ${partitions}, or let this client create topics.`,
      );
    } finally {
      await probe.disconnect().catch(() => {});
    }
  }
}

function hasType(err: unknown, type: string): boolean {
  const e = err as { type?: string; errors?: unknown[] };
  return e?.type === type || (Array.isArray(e?.errors) && e.errors.some((x) => hasType(x, type)));
}
