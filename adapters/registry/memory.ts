/**
 * The embedded name service: one process holds the tables and serves its own RPC clients.
 * Same rules as ZooKeeper: a publish makes the stored table equal to the one given (whatever
 * its version), watchers get the current table (null when none) and then every change, tables
 * come back canonical (schemas/route-table.ts). Nothing outside the process can write it, so there is
 * no access to check.
 * Notifications are asynchronous, like a watch: a publisher never runs client code inline.
 * Tables handed out are frozen and shared (frozenRouteTable).
 */
import pino, { type Logger } from 'pino';
import type { Subscription } from '../eventstore/port.ts';
import { canonicalRouteTable, frozenRouteTable, sameRouteTable, splitServiceName, type RouteTable } from '../../schemas/route-table.ts';
import { routeListener } from './route-source.ts';
import type { RegistryAccessReport, RouteListener, RouteRegistry, RouteSource } from './port.ts';

type Listener = RouteListener;

export class MemoryRegistry implements RouteRegistry, RouteSource {
  private readonly tables = new Map<string, RouteTable>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly storedListeners = new Set<(service: string | null) => void>();
  private closed = false;
  private readonly logger: Logger;

  /** `logger`: where a listener that throws is reported (default pino on stderr). */
  constructor(options: { logger?: Logger } = {}) {
    this.logger = options.logger ?? pino({ name: 'msec-registry' }, pino.destination(2));
  }

  async publish(table: RouteTable): Promise<'written' | 'unchanged'> {
    this.checkOpen();
    const stored = frozenRouteTable(canonicalRouteTable(table));
    if (sameRouteTable(this.tables.get(table.service), stored)) return 'unchanged';
    this.tables.set(table.service, stored);
    this.notify(table.service);
    return 'written';
  }

  async remove(service: string): Promise<void> {
    this.checkOpen();
    splitServiceName(service);
    if (this.tables.delete(service)) this.notify(service);
  }

  async checkAccess(): Promise<RegistryAccessReport> {
    this.checkOpen();
    return { checked: this.tables.size, repaired: [], recreated: [], problems: [] };
  }

  watchStored(onChange: (service: string | null) => void): Subscription {
    this.checkOpen();
    this.storedListeners.add(onChange);
    return { close: async () => void this.storedListeners.delete(onChange) };
  }

  async read(service: string): Promise<RouteTable | null> {
    this.checkOpen();
    splitServiceName(service);
    return this.tables.get(service) ?? null;
  }

  async list(): Promise<string[]> {
    this.checkOpen();
    return [...this.tables.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  watch(service: string, onChange: Listener): Subscription {
    this.checkOpen();
    splitServiceName(service);
    let set = this.listeners.get(service);
    if (!set) this.listeners.set(service, (set = new Set()));
    const listener = routeListener(service, onChange, this.logger);
    set.add(listener);
    queueMicrotask(() => {
      if (set.has(listener)) listener(this.tables.get(service) ?? null);
    });
    return {
      close: async () => {
        set.delete(listener);
        if (set.size === 0 && this.listeners.get(service) === set) this.listeners.delete(service);
      },
    };
  }

  current(service: string): RouteTable | null | undefined {
    return this.tables.get(service) ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.storedListeners.clear();
  }

  private notify(service: string): void {
    for (const listener of this.storedListeners) queueMicrotask(() => this.storedListeners.has(listener) && this.tellStored(listener, service));
    const set = this.listeners.get(service);
    if (!set) return;
    queueMicrotask(() => {
      // The latest table at delivery time, like a re-read after a watch fires.
      for (const listener of [...set]) if (set.has(listener)) listener(this.tables.get(service) ?? null);
    });
  }

  private tellStored(listener: (service: string | null) => void, service: string): void {
    try {
      listener(service);
    } catch (error) {
      this.logger.error({ service, err: (error as Error).message }, 'a name-service change listener failed');
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the embedded registry is closed: open a new one');
  }
}
