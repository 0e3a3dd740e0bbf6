/**
 * Someone who can produce to (and read) `msec.events` but does not hold the deployment key:
 * a plain kafkajs client that copies what the relay publishes and writes forgeries of its own
 * choosing, each labelled with the reason the projector must refuse it for.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Consumer, type Message, type Producer } from 'kafkajs';
import { eventHeaders, type RefusalReason } from '../../adapters/bus/event-message.ts';
import type { NewEvent } from '../../domain/events.ts';
import { encodeEnvelope } from '../../schemas/codec.ts';

export const forgedIp = '6.6.6.6';

interface Copied {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
}

export interface BurstResult {
  /** Forged messages the projector must refuse, by the reason it must give. */
  refusable: Partial<Record<RefusalReason, number>>;
  /** Genuine messages sent again, reordered and on other partitions: harmless duplicates. */
  copies: number;
}

export class BusAttacker {
  static async connect(bootstrap: string, topic = 'msec.events'): Promise<BusAttacker> {
    const kafka = new Kafka({ clientId: 'attacker', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    const spy = kafka.consumer({ groupId: `attacker-spy-${randomUUID().slice(0, 8)}`, sessionTimeout: 6000, maxWaitTimeInMs: 50 });
    await Promise.all([producer.connect(), spy.connect()]);
    const attacker = new BusAttacker(producer, spy, topic);
    await spy.subscribe({ topic, fromBeginning: true });
    await spy.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = value.toString();
        const value = message.value ?? Buffer.alloc(0);
        // What the attacker wrote itself is not the relay's, whatever its headers say.
        if (headers[eventHeaders.position] && !attacker.written.has(fingerprint(value, headers))) {
          attacker.genuine.push({ key: message.key?.toString() ?? '', value, headers, partition });
        }
      },
    });
    return attacker;
  }

  /** Genuine messages read from the topic so far. */
  readonly genuine: Copied[] = [];
  sent = 0;
  private readonly written = new Set<string>();

  private constructor(private readonly producer: Producer, private readonly spy: Consumer, private readonly topic: string) {}

  /**
   * One round of forgeries around the store's `head`: the routing change an attacker wants
   * (host 6.6.6.6 added and enabled on `service`) placed just after the head, with and without
   * plausible headers and signatures, a position near 2^53, garbage, and reordered copies.
   */
  async burst(service: string, head: number, round: number): Promise<BurstResult> {
    const latest = this.genuine.at(-1);
    const withPrev = this.genuine.filter((m) => Number(m.headers[eventHeaders.prevPosition]) >= 1).at(-1);
    if (!latest || !withPrev) throw new Error('the attacker has not seen a genuine message yet');
    const keyId = latest.headers[eventHeaders.signature]?.split(':')[1] ?? 'a1b2c3d4e5f6';
    const stream = `service-${service}`;
    const added = forgedEnvelope(service, 'HostAdded', head + 1);
    const enabled = forgedEnvelope(service, 'HostEnabled', head + 2);
    const headersOf = (e: { id: string; type: string }, position: number | string, prev: number) => ({
      [eventHeaders.id]: e.id, [eventHeaders.type]: e.type, [eventHeaders.position]: String(position), [eventHeaders.prevPosition]: String(prev),
    });
    const madeUp = () => `hmac-sha256:${keyId}:${randomBytes(32).toString('base64')}`;
    const forged: [RefusalReason, Message][] = [
      ['malformed', { key: stream, value: added.bytes }],
      ['malformed', { key: 'x', value: randomBytes(200) }],
      ['malformed', { key: stream, value: added.bytes, headers: headersOf(added.event, '9007199254740993', head) }],
      ['malformed', { key: 'x', value: randomBytes(300 * 1024), partition: round % 3 }],
      ['malformed', { key: 'x', value: randomBytes(100), headers: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`h${i}`, randomBytes(512).toString('hex')])) }],
      ['unsigned', { key: stream, value: added.bytes, headers: headersOf(added.event, head + 1, head) }],
      ['unsigned', { key: stream, value: enabled.bytes, headers: headersOf(enabled.event, head + 2, head + 1) }],
      ['bad-signature', { key: stream, value: added.bytes, headers: { ...headersOf(added.event, head + 1, head), [eventHeaders.signature]: madeUp() } }],
      ['bad-signature', { key: stream, value: enabled.bytes, headers: { ...headersOf(enabled.event, head + 2, head + 1), [eventHeaders.signature]: latest.headers[eventHeaders.signature] ?? madeUp() } }],
      ['bad-signature', { key: stream, value: enabled.bytes, headers: { ...headersOf(enabled.event, 2 ** 53 - 2, head), [eventHeaders.signature]: madeUp() } }],
      ['bad-signature', { key: withPrev.key, value: withPrev.value, headers: { ...withPrev.headers, [eventHeaders.prevPosition]: String(Number(withPrev.headers[eventHeaders.prevPosition]) - 1) } }],
      ['wrong-key', { key: stream, value: added.bytes, headers: { ...headersOf(added.event, head + 1, head), [eventHeaders.signature]: `hmac-sha256:0123456789ab:${randomBytes(32).toString('base64')}` } }],
      // The relay's own signature and envelope, under a position header of the attacker's choosing.
      ['mismatch', { key: latest.key, value: latest.value, headers: { ...latest.headers, [eventHeaders.position]: String(head + 1000) } }],
    ];
    const copies = this.genuine.slice(-5).reverse().map((m): Message => ({ key: m.key, value: m.value, headers: m.headers, partition: (m.partition + 1) % 3 }));
    // Interleaved: copies between the forgeries, each send its own request.
    const order = [...forged.map(([, m]) => m)];
    copies.forEach((c, i) => order.splice(Math.min(order.length, 2 + 3 * i), 0, c));
    for (const m of order) this.written.add(fingerprint(m.value as Buffer, (m.headers ?? {}) as Record<string, string>));
    for (let i = 0; i < order.length; i += 4) await this.producer.send({ topic: this.topic, acks: -1, messages: order.slice(i, i + 4) });
    this.sent += order.length;
    const refusable: BurstResult['refusable'] = {};
    for (const [reason] of forged) refusable[reason] = (refusable[reason] ?? 0) + 1;
    return { refusable, copies: copies.length };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.spy.disconnect(), this.producer.disconnect()]);
  }
}

function fingerprint(value: Buffer, headers: Record<string, string>): string {
  const sorted = Object.keys(headers).sort().map((k) => [k, headers[k]]);
  return createHash('sha256').update(value).update(JSON.stringify(sorted)).digest('hex');
}

function forgedEnvelope(service: string, type: 'HostAdded' | 'HostEnabled', position: number): { event: NewEvent; bytes: Buffer } {
  const id = randomUUID();
  const data = type === 'HostAdded' ? { service, ip: forgedIp, port: 7963, protocol: 'tcp', weight: 100 } : { service, ip: forgedIp, port: 7963 };
  const event = { type, data, id, occurredAt: new Date().toISOString(), actor: 'admin', reason: 'scale out', correlationId: id, causationId: id } as NewEvent;
  return { event, bytes: Buffer.from(encodeEnvelope(event, `service-${service}`, { revision: 50 + position, position })) };
}
