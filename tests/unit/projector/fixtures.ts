/** Shared pieces of the runner tests: a quiet logger, a scripted history, a faulty view store. */
import { pino } from 'pino';
import { MemoryEventLog, MemoryEventStore } from '../../../adapters/eventstore/memory.ts';
import type { EventStore } from '../../../adapters/eventstore/port.ts';
import type { RowFilter, ViewRow, ViewStore } from '../../../adapters/views/port.ts';
import type { DomainEvent, RecordedEvent } from '../../../domain/events.ts';
import * as e from '../projections/events.ts';

export const silent = pino({ level: 'silent' });

/** A memory store that retries a failed batch at once, so failure tests stay fast. */
export function memoryStore(log = new MemoryEventLog()): MemoryEventStore {
  return new MemoryEventStore({ log, logger: silent, pollIntervalMs: 5, batchSize: 7, retryDelays: { initialMs: 1, maxMs: 5 } });
}

/** Appends events one by one, each to its own stream, with ids that follow the global position. */
export async function append(store: EventStore, events: DomainEvent[]): Promise<number> {
  let head = await store.headPosition();
  for (const event of events) {
    head = (await store.append(e.streamOf(event), 'any', e.toAppend([event], head + 1))).position;
  }
  return head;
}

export async function readEverything(store: EventStore): Promise<RecordedEvent[]> {
  return store.readAll(0, Number.MAX_SAFE_INTEGER);
}

const svc = 'Flight.mod_flight';
/** A history that touches every projection: services, hosts, versions, users, tokens. */
export function history(round: number): DomainEvent[] {
  const ip = (n: number) => `10.0.${round}.${n}:7963`;
  return [
    ...(round === 0 ? [e.firstLevelCreated('Flight'), e.childLinked('Flight', 'mod_flight'), e.serviceCreated(svc), e.userCreated('admin')] : []),
    e.hostAdded(svc, ip(1)), e.hostAdded(svc, ip(2), { protocol: 'udp', weight: 50 }), e.hostEnabled(svc, ip(1)),
    e.configAdded(svc, `v${round}`, `[LOG]\nLevel=${round}`, `round ${round}`),
    e.hostWeightSet(svc, ip(1), 100 + round), e.hostEnabled(svc, ip(2)), e.hostDisabled(svc, ip(1)),
    e.tokenIssued('admin', `t${round}`, `hash${round}`),
    e.childLinked('Flight', `mod_${round}`), e.serviceCreated(`Flight.mod_${round}`),
    ...(round % 2 ? [e.serviceDeleted(`Flight.mod_${round}`), e.tokenRevoked('admin', `t${round}`)] : []),
  ];
}

/**
 * A ViewStore that stops working after a number of writes, as if the process died there:
 * every later call fails. Wraps a real store, which keeps whatever was written before.
 */
export class DyingViewStore implements ViewStore {
  writes = 0;
  /** Resolves at the first write refused. */
  readonly died: Promise<void>;
  private die!: () => void;

  constructor(private readonly inner: ViewStore, private readonly writesBeforeDeath: number) {
    this.died = new Promise((resolve) => (this.die = resolve));
  }

  get dead(): boolean {
    return this.writes >= this.writesBeforeDeath;
  }

  private write<T>(run: () => Promise<T>): Promise<T> {
    if (this.dead) {
      this.die();
      return Promise.reject(new Error('the process died'));
    }
    this.writes += 1;
    return run();
  }

  loadState<S>(key: string) { return this.inner.loadState<S>(key); }
  saveState(key: string, state: unknown, checkpoint: number) { return this.write(() => this.inner.saveState(key, state, checkpoint)); }
  appendRows(key: string, rows: readonly ViewRow[], checkpoint: number) { return this.write(() => this.inner.appendRows(key, rows, checkpoint)); }
  queryRows(key: string, filter?: RowFilter) { return this.inner.queryRows(key, filter); }
  scanRows(key: string, after: number, limit: number) { return this.inner.scanRows(key, after, limit); }
  checkpoint(key: string) { return this.inner.checkpoint(key); }
  promote(source: string, target: string) { return this.write(() => this.inner.promote(source, target)); }
  drop(key: string) { return this.write(() => this.inner.drop(key)); }
  async close() {}
}

/** A ViewStore whose row appends wait until `release()` (an audit store that is slow to answer). */
export class HeldRows implements ViewStore {
  private opened!: () => void;
  private readonly open = new Promise<void>((resolve) => (this.opened = resolve));

  constructor(private readonly inner: ViewStore) {}

  release(): void {
    this.opened();
  }

  loadState<S>(key: string) { return this.inner.loadState<S>(key); }
  saveState(key: string, state: unknown, checkpoint: number) { return this.inner.saveState(key, state, checkpoint); }
  async appendRows(key: string, rows: readonly ViewRow[], checkpoint: number) {
    await this.open;
    return this.inner.appendRows(key, rows, checkpoint);
  }
  queryRows(key: string, filter?: RowFilter) { return this.inner.queryRows(key, filter); }
  scanRows(key: string, after: number, limit: number) { return this.inner.scanRows(key, after, limit); }
  checkpoint(key: string) { return this.inner.checkpoint(key); }
  promote(source: string, target: string) { return this.inner.promote(source, target); }
  drop(key: string) { return this.inner.drop(key); }
  async close() {}
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
