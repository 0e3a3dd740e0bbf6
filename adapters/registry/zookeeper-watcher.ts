/**
 * The RPC client's side of the name service on ZooKeeper: a local copy of each table it asked
 * for, kept fresh by a watch on the service's node (shards need none: they are immutable and
 * any change rewrites the node, zk-shards.ts).
 *  - every change is re-read and handed to the listeners (identical re-reads are not): the
 *    table the node holds now wins, whatever version it claims — a lower one is the control
 *    plane repairing a table someone else pinned with a high version. What is newer is ZooKeeper's
 *    order (the node's mzxid), so a read from a server behind one already seen is ignored;
 *  - after a reconnect everything is re-read; after a session EXPIRY a new session is opened
 *    (zk-session.ts) and everything is re-read and re-watched;
 *  - while ZooKeeper is unreachable the last copy keeps being served (msec_faq Q11), and with
 *    `cacheDir` a restarted client starts from the copy saved on disk.
 * Tables handed out are frozen and shared: current() is cheap enough for every RPC call.
 */
import pino, { type Logger } from 'pino';
import type { Subscription } from '../eventstore/port.ts';
import { frozenRouteTable, RouteTableError, sameRouteTable, type RouteTable } from '../../schemas/route-table.ts';
import { routeListener } from './route-source.ts';
import type { RouteListener, RouteSource } from './port.ts';
import { RouteDiskCache } from './route-cache.ts';
import { nameServiceBase, serviceNodePath } from './zk-paths.ts';
import { ZooKeeperSession } from './zk-session.ts';
import { readStoredTable, type StoredTable } from './zk-table-node.ts';
import { parseZooKeeperUrl, type ZooKeeperAddress } from './zk-url.ts';

export interface ZooKeeperRouteWatcherOptions {
  /** Readers need no credential (the nodes are world-readable). */
  address: ZooKeeperAddress;
  /** Parent of `nameservice` (default `/msec`). */
  root?: string;
  logger?: Logger;
  sessionTimeoutMs?: number;
  operationTimeoutMs?: number;
  /** Keep the last copy of each watched table here, for restarts while ZooKeeper is down. */
  cacheDir?: string;
  /** Between failed reads of one table (default 100 ms growing to 5 s). */
  retryDelays?: { initialMs: number; maxMs: number };
}

type Listener = RouteListener;

interface Watched {
  service: string;
  path: string;
  /** undefined until first known. */
  value: RouteTable | null | undefined;
  /** The mzxid of the node `value` was read from. */
  zxid?: bigint;
  listeners: Set<Listener>;
  reading: boolean;
  again: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
  /** One function per service, so the client keeps one watch however often it is set. */
  onEvent: () => void;
}

export class ZooKeeperRouteWatcher implements RouteSource {
  private readonly session: ZooKeeperSession;
  private readonly base: string;
  private readonly logger: Logger;
  private readonly cache?: RouteDiskCache;
  private readonly watched = new Map<string, Watched>();
  private readonly retryDelays: { initialMs: number; maxMs: number };
  private closed = false;

  static fromUrl(url: string, options: Omit<ZooKeeperRouteWatcherOptions, 'address'> = {}): ZooKeeperRouteWatcher {
    return new ZooKeeperRouteWatcher({ ...options, address: parseZooKeeperUrl(url) });
  }

  constructor(options: ZooKeeperRouteWatcherOptions) {
    this.logger = options.logger ?? pino({ name: 'msec-route-watcher' }, pino.destination(2));
    this.base = nameServiceBase(options.address, options.root);
    this.retryDelays = options.retryDelays ?? { initialMs: 100, maxMs: 5_000 };
    if (options.cacheDir) this.cache = new RouteDiskCache(options.cacheDir, this.logger);
    this.session = new ZooKeeperSession({
      address: options.address,
      logger: this.logger,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
      ...(options.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.operationTimeoutMs }),
    });
    // Reconnected (watches may have missed changes) or a new session (watches are gone).
    this.session.onConnected(() => {
      for (const entry of this.watched.values()) void this.refresh(entry);
    });
  }

  watch(service: string, onChange: Listener): Subscription {
    if (this.closed) throw new Error('the route watcher is closed: create a new one');
    const path = serviceNodePath(this.base, service);
    let entry = this.watched.get(service);
    if (!entry) {
      const created: Watched = {
        service, path, value: this.cache?.load(service), listeners: new Set(), reading: false, again: false, failures: 0,
        onEvent: () => void this.refresh(created),
      };
      entry = created;
      this.watched.set(service, entry);
      void this.refresh(entry);
    }
    const watched = entry;
    const listener = routeListener(service, onChange, this.logger);
    watched.listeners.add(listener);
    queueMicrotask(() => {
      if (watched.listeners.has(listener) && watched.value !== undefined) listener(watched.value);
    });
    return {
      close: async () => {
        watched.listeners.delete(listener);
        if (watched.listeners.size === 0 && this.watched.get(service) === watched) {
          clearTimeout(watched.retry);
          this.watched.delete(service);
        }
      },
    };
  }

  current(service: string): RouteTable | null | undefined {
    return this.watched.get(service)?.value;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.watched.values()) clearTimeout(entry.retry);
    this.watched.clear();
    await this.session.close();
    await this.cache?.flush();
  }

  private async refresh(entry: Watched): Promise<void> {
    if (this.closed || this.watched.get(entry.service) !== entry) return;
    if (entry.reading) {
      entry.again = true;
      return;
    }
    // While disconnected, the next connection re-reads everything.
    if (!this.session.isConnected) return;
    entry.reading = true;
    clearTimeout(entry.retry);
    try {
      const stored = await readStoredTable(this.session, entry.service, entry.path, entry.onEvent);
      entry.failures = 0;
      if (!isStaleRead(entry.zxid, stored)) {
        entry.zxid = stored.zxid;
        this.set(entry, stored.table);
      }
    } catch (error) {
      this.failed(entry, error);
    } finally {
      entry.reading = false;
      if (entry.again) {
        entry.again = false;
        void this.refresh(entry);
      }
    }
  }

  private set(entry: Watched, table: RouteTable | null): void {
    if (this.closed || this.watched.get(entry.service) !== entry) return;
    if (entry.value !== undefined && sameRouteTable(entry.value, table)) return;
    entry.value = table && frozenRouteTable(table);
    this.cache?.save(entry.service, table);
    for (const listener of [...entry.listeners]) if (entry.listeners.has(listener)) listener(table);
  }

  private failed(entry: Watched, error: unknown): void {
    if (this.closed) return;
    const { service } = entry;
    if (error instanceof RouteTableError) {
      // The watch is set: the next write of the node is read again. Until then, the last copy.
      this.logger.error({ service, err: error.message }, 'the name-service node is unreadable: serving the last copy');
      return;
    }
    entry.failures++;
    if (entry.failures === 1) this.logger.warn({ service, err: (error as Error).message }, 'reading routes from ZooKeeper failed: serving the last copy and retrying');
    const delay = Math.min(this.retryDelays.maxMs, this.retryDelays.initialMs * 2 ** (entry.failures - 1));
    entry.retry = setTimeout(() => void this.refresh(entry), delay);
  }
}

/**
 * Whether a read comes from a ZooKeeper server behind the one the held copy came from (after a
 * reconnect to another server of the ensemble): its node is older than the held one. The
 * tables' own versions play no part (a writer sets those).
 */
export function isStaleRead(heldZxid: bigint | undefined, read: StoredTable): boolean {
  return heldZxid !== undefined && read.zxid !== undefined && read.zxid < heldZxid;
}
