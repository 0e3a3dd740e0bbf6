/**
 * Opens the adapter each URL selects (backend-urls.ts). Adapters of servers are imported only
 * when selected, so `msec up` on embedded defaults never loads kafkajs or the ZooKeeper client.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { CheckpointStore, MessageBus } from '../../adapters/bus/port.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import type { RouteRegistry } from '../../adapters/registry/port.ts';
import type { ViewStore } from '../../adapters/views/port.ts';
import type { ClickHouse } from '../../adapters/views/clickhouse-client.ts';
import { msecDatabaseFile, openSqlite } from '../../adapters/sqlite/open.ts';
import { parseZooKeeperUrl, requireWriterCredential } from '../../adapters/registry/zk-url.ts';
import { isEmbedded, redactUrl, type BackendUrls } from './backend-urls.ts';

export interface Backends {
  home: string;
  urls: BackendUrls;
  store: EventStore;
  bus: MessageBus;
  /** State projections (catalog, routing, users): SQLite in the home, beside the process that folds them. */
  stateViews: ViewStore;
  /** Row projections (audit): chdb under the home, a ClickHouse server, or SQLite. */
  analyticViews: ViewStore;
  /** Where the routing tables are published; undefined on embedded defaults (clients use the console's long-poll API). */
  registry?: RouteRegistry;
  /**
   * The ClickHouse of the analytic views (chdb embedded, or a server), for the views that need
   * SQL of their own (metrics, logs, call graphs); absent when the views are in SQLite.
   */
  clickhouse?: { client: ClickHouse; database: string };
  /** Positions of consumers that keep their own (the outbox relay). */
  checkpoints: CheckpointStore;
  /** For `msec status`: the backend of each port, passwords removed. */
  describe(): Record<keyof BackendUrls, string>;
  close(): Promise<void>;
}

export interface OpenOptions {
  home: string;
  urls: BackendUrls;
  logger: Logger;
  /** Which pieces this process needs (default: all). */
  need?: { registry?: boolean; analyticViews?: boolean };
  /** File name of the state views in the home (two processes on one home each keep their own). */
  stateViewsFile?: string;
}

export async function openBackends(options: OpenOptions): Promise<Backends> {
  const home = resolve(options.home);
  mkdirSync(home, { recursive: true });
  const { urls, logger } = options;
  const needsRegistry = options.need?.registry !== false && !isEmbedded(urls.registry);
  // Before anything is opened: a publisher without a credential would leave the routes world-writable.
  if (needsRegistry) requireWriterCredential(parseZooKeeperUrl(urls.registry));
  const stateViewsPath = join(home, options.stateViewsFile ?? 'views.db');
  const closers: (() => Promise<void> | void)[] = [];
  const opened = async <T>(what: string, open: () => Promise<T> | T, close: (t: T) => Promise<void> | void): Promise<T> => {
    try {
      const value = await open();
      closers.unshift(() => close(value));
      return value;
    } catch (err) {
      await closeAll();
      throw new Error(`cannot open the ${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  const closeAll = async () => {
    for (const close of closers.splice(0)) await Promise.resolve(close()).catch((err) => logger.warn({ err }, 'closing a backend failed'));
  };

  const store = await opened(`event store (${redactUrl(urls.eventstore)})`, async () => {
    if (isEmbedded(urls.eventstore)) {
      const { SqliteEventStore } = await import('../../adapters/eventstore/sqlite.ts');
      return SqliteEventStore.open(msecDatabaseFile(home), { logger }) as EventStore;
    }
    const { EsdbEventStore } = await import('../../adapters/eventstore/esdb.ts');
    return EsdbEventStore.open(urls.eventstore, { env: process.env, logger }) as EventStore;
  }, (s) => s.close());

  const bus = await opened(`bus (${redactUrl(urls.bus)})`, async () => {
    if (isEmbedded(urls.bus)) {
      const { SqliteMessageBus } = await import('../../adapters/bus/sqlite.ts');
      return SqliteMessageBus.open(msecDatabaseFile(home)) as MessageBus;
    }
    const { KafkaBus } = await import('../../adapters/bus/kafka.ts');
    return KafkaBus.fromUrl(urls.bus, { logger }) as MessageBus;
  }, (b) => b.close());

  const checkpoints = await opened('checkpoint store', async () => {
    const { SqliteCheckpointStore } = await import('../../adapters/checkpoints/sqlite.ts');
    return new SqliteCheckpointStore(openSqlite(join(home, 'checkpoints.db')), { ownsDatabase: true });
  }, (c) => c.close());

  const stateViews = await opened('state views', async () => {
    const { SqliteViewStore } = await import('../../adapters/views/sqlite.ts');
    return SqliteViewStore.open(stateViewsPath) as ViewStore;
  }, (v) => v.close());

  const analyticViews = options.need?.analyticViews === false ? stateViews : await opened(`analytic views (${redactUrl(urls.views)})`, async () => {
    if (urls.views === 'sqlite') return stateViews;
    const { ClickHouseViewStore } = await import('../../adapters/views/clickhouse.ts');
    if (urls.views === 'embedded') {
      const chdbPath = join(home, 'views.chdb');
      mkdirSync(chdbPath, { recursive: true });
      return ClickHouseViewStore.open({ chdbPath }) as Promise<ViewStore>;
    }
    const url = new URL(urls.views);
    const database = url.pathname.replace(/^\/+/, '') || undefined;
    const target = {
      url: `${url.protocol}//${url.host}`,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password || process.env.MSEC_CLICKHOUSE_PASSWORD ? { password: decodeURIComponent(url.password) || process.env.MSEC_CLICKHOUSE_PASSWORD } : {}),
    };
    // A server still starting (compose, a restart) is waited for, up to a minute.
    for (let attempt = 0; ; attempt++) {
      try {
        return await ClickHouseViewStore.open(target, database ? { database } : {}) as ViewStore;
      } catch (err) {
        if ((err as { retriable?: unknown }).retriable !== true || attempt >= 30) throw err;
        if (attempt === 0) logger.warn({ err }, `ClickHouse at ${redactUrl(urls.views)} does not answer yet; waiting for it`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }, (v) => (v === stateViews ? undefined : v.close()));

  let registry: RouteRegistry | undefined;
  if (needsRegistry) {
    registry = await opened(`registry (${redactUrl(urls.registry)})`, async () => {
      const { ZooKeeperRegistry } = await import('../../adapters/registry/zookeeper.ts');
      return ZooKeeperRegistry.fromUrl(urls.registry, { logger }) as RouteRegistry;
    }, (r) => r.close());
  }

  const { ClickHouseViewStore } = await import('../../adapters/views/clickhouse.ts');
  const clickhouse = analyticViews instanceof ClickHouseViewStore ? { client: analyticViews.client, database: analyticViews.database } : undefined;

  let closing: Promise<void> | undefined;
  return {
    home, urls, store, bus, stateViews, analyticViews, registry, checkpoints, ...(clickhouse ? { clickhouse } : {}),
    describe: () => ({
      eventstore: isEmbedded(urls.eventstore) ? `embedded (SQLite ${msecDatabaseFile(home)})` : redactUrl(urls.eventstore),
      bus: isEmbedded(urls.bus) ? `embedded (SQLite ${msecDatabaseFile(home)})` : redactUrl(urls.bus),
      views: urls.views === 'embedded' ? `embedded (chdb ${join(home, 'views.chdb')})` : urls.views === 'sqlite' ? `sqlite (${stateViewsPath})` : redactUrl(urls.views),
      registry: isEmbedded(urls.registry) ? 'embedded (console routing API)' : redactUrl(urls.registry),
    }),
    close: () => (closing ??= closeAll()),
  };
}
