/** Shared pieces of the relay and Kafka fault tests: a stream of real events, a counting consumer. */
import type { RecordedEvent } from '../../domain/events.ts';
import { streams } from '../../domain/streams.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { BusKey } from '../../adapters/signing/bus-key.ts';
import { command, hostAdded } from './support.ts';

/** The deployment key the relays of these tests sign with and their feeds check. */
export const busKey = BusKey.generate();

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/**
 * Appends `count` HostAdded events, numbered from `first`, spread round-robin over `services`
 * services (one stream each), `perAppend` events per append, as the console's commands would.
 * Returns the store's head afterwards.
 */
export async function appendHosts(store: EventStore, count: number, options: { first?: number; services?: number; perAppend?: number } = {}): Promise<number> {
  const first = options.first ?? 0;
  const services = options.services ?? 8;
  const perAppend = options.perAppend ?? 1;
  let head = 0;
  for (let i = first; i < first + count; i += perAppend) {
    const service = `Relay.svc${Math.floor(i / perAppend) % services}`;
    const n = Math.min(perAppend, first + count - i);
    const events = Array.from({ length: n }, (_, k) => hostAdded(service, ipOf(i + k)));
    head = (await store.append(streams.service(service), 'any', command(events))).position;
  }
  return head;
}

/** What a consumer of the global log saw: every event once, in position order? */
export class LogCounter {
  readonly ids = new Set<string>();
  delivered = 0;
  duplicates = 0;
  outOfOrder = 0;
  last = 0;

  readonly handler = (events: RecordedEvent[]): void => {
    for (const e of events) {
      this.delivered += 1;
      if (this.ids.has(e.id)) this.duplicates += 1;
      this.ids.add(e.id);
      if (e.position <= this.last) this.outOfOrder += 1;
      this.last = Math.max(this.last, e.position);
    }
  };

  get unique(): number {
    return this.ids.size;
  }

  summary(sent: number): string {
    return `sent ${sent}, arrived ${this.unique} unique, ${this.duplicates} duplicates delivered, ${this.outOfOrder} out of order`;
  }
}
