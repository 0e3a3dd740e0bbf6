/**
 * A message bus in memory, for fast tests: same consumer-group rules as the SQLite bus.
 */
import type { FollowerOptions } from '../eventstore/batch-follower.ts';
import { OpenSubscriptions } from '../eventstore/open-subscriptions.ts';
import type { Subscription } from '../eventstore/port.ts';
import { ActiveGroups, closedBusError, type GroupOptions, type MessageHandler, type TopicLog } from './consumer-group.ts';
import type { BusMessage, ConsumedMessage, MessageBus } from './port.ts';

/**
 * The topics and committed offsets. Hand one broker to several MemoryMessageBuses to play a
 * restart or a second process.
 */
export class MemoryBroker {
  readonly topics = new Map<string, ConsumedMessage[]>();
  readonly committed = new Map<string, number>();
  readonly listeners = new Map<string, Set<() => void>>();
}

export interface MemoryMessageBusOptions extends FollowerOptions {
  broker?: MemoryBroker;
}

const groupKey = (topic: string, group: string) => `${topic}\u0000${group}`;

export class MemoryMessageBus implements MessageBus {
  readonly broker: MemoryBroker;
  private readonly subscriptions = new OpenSubscriptions();
  private readonly groups = new ActiveGroups();
  private readonly log: TopicLog;
  private closed = false;

  constructor(private readonly options: MemoryMessageBusOptions = {}) {
    const broker = (this.broker = options.broker ?? new MemoryBroker());
    this.log = {
      name: 'in-memory bus',
      read: (topic, from, limit) => (broker.topics.get(topic) ?? []).slice(from, from + limit).map((m) => ({ ...m, headers: { ...m.headers } })),
      committed: (topic, group) => broker.committed.get(groupKey(topic, group)) ?? null,
      commit: (topic, group, next) => void broker.committed.set(groupKey(topic, group), next),
      endOffset: (topic) => broker.topics.get(topic)?.length ?? 0,
      listen: (topic, wake) => {
        let set = broker.listeners.get(topic);
        if (!set) broker.listeners.set(topic, (set = new Set()));
        set.add(wake);
        return () => set.delete(wake);
      },
    };
  }

  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const log = this.broker.topics.get(topic) ?? [];
    const timestamp = Date.now();
    for (const m of messages) {
      // Copies, so a publisher reusing its buffers cannot change what was published.
      log.push({ topic, offset: log.length, key: m.key, value: Buffer.from(m.value), headers: { ...(m.headers ?? {}) }, timestamp });
    }
    this.broker.topics.set(topic, log);
    for (const wake of [...(this.broker.listeners.get(topic) ?? [])]) wake();
  }

  subscribe(options: GroupOptions, handler: MessageHandler): Subscription {
    this.assertOpen();
    return this.subscriptions.add(this.groups.consume(this.log, options, handler, this.options));
  }

  async lag(topic: string, group: string): Promise<{ committed: number; end: number }> {
    this.assertOpen();
    return { committed: this.log.committed(topic, group) ?? -1, end: this.log.endOffset(topic) };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscriptions.closeAll();
  }

  private assertOpen(): void {
    if (this.closed) throw closedBusError('in-memory');
  }
}
