/**
 * The control plane's side of the name service on ZooKeeper (msec-reference §1.2): each
 * service's routing table at `/msec/nameservice/<First>/<Second>` as MSEC's JSON plus
 * `"version"` (schemas/route-table.ts), sharded past 512 KB (zk-shards.ts), written by compare-and-set
 * (zk-table-node.ts), with digest ACLs that it keeps right (zk-acl.ts, zk-access.ts). It never
 * writes without the control plane's credential: nodes it made would be world-writable.
 * Every node it writes is watched, so a change behind its back is reported (watchStored).
 *
 * Client choice: node-zookeeper-client — pure JavaScript (no native addon to build on every
 * machine), speaks ZooKeeper 3.x including multi, watches and digest auth, and is the one
 * maintained Node client that needs nothing but npm. Its rough edges are handled in
 * zk-session.ts.
 */
import pino, { type Logger } from 'pino';
import type { ACL } from 'node-zookeeper-client';
import type { Subscription } from '../eventstore/port.ts';
import { checkRouteTable, splitServiceName, type RouteTable } from '../../schemas/route-table.ts';
import type { RegistryAccessReport, RouteRegistry } from './port.ts';
import { NameServiceAccess, type NodeAccess } from './zk-access.ts';
import { nameServiceAcls } from './zk-acl.ts';
import { isNoAuth, ZooKeeperError } from './zk-errors.ts';
import { ancestorsAndSelf, nameServiceBase, serviceNodePath } from './zk-paths.ts';
import { ZooKeeperSession, type ZkWatcher } from './zk-session.ts';
import { defaultShardThresholdBytes } from './zk-shards.ts';
import { defaultMultiBudgetBytes, readTable, removeTable, writeTable } from './zk-table-node.ts';
import { parseZooKeeperUrl, requireWriterCredential, type ZooKeeperAddress } from './zk-url.ts';

export interface ZooKeeperRegistryOptions {
  /** Where and as whom: parseZooKeeperUrl('zk://user:password@h1:2181,h2:2181/chroot'). A credential is required. */
  address: ZooKeeperAddress;
  /** Parent of `nameservice` (default `/msec`; `/` for MSEC's own layout). */
  root?: string;
  logger?: Logger;
  sessionTimeoutMs?: number;
  operationTimeoutMs?: number;
  /** A table's JSON larger than this is sharded (default 512 KB). */
  shardThresholdBytes?: number;
  /** Largest multi request sent (default 900 KB, under ZooKeeper's 1 MiB jute.maxbuffer). */
  multiBudgetBytes?: number;
}

type StoredListener = (service: string | null) => void;

export class ZooKeeperRegistry implements RouteRegistry {
  private readonly session: ZooKeeperSession;
  private readonly base: string;
  /** The nodes above `base` that the control plane owns (below the chroot). */
  private readonly top: string[];
  private readonly acls: ACL[];
  private readonly access: NameServiceAccess;
  private readonly logger: Logger;
  private readonly storedListeners = new Set<StoredListener>();
  /** One function per service node, so the client keeps one watch however often it is set. */
  private readonly nodeWatchers = new Map<string, ZkWatcher>();

  /** `url`: zk://user:password@h1:2181,h2:2181[/chroot]; the credential may come from MSEC_ZK_AUTH. */
  static fromUrl(url: string, options: Omit<ZooKeeperRegistryOptions, 'address'> = {}): ZooKeeperRegistry {
    return new ZooKeeperRegistry({ ...options, address: parseZooKeeperUrl(url) });
  }

  /** Throws ZooKeeperUrlError, before connecting, when the address has no credential. */
  constructor(private readonly options: ZooKeeperRegistryOptions) {
    const credential = requireWriterCredential(options.address);
    this.logger = options.logger ?? pino({ name: 'msec-registry' }, pino.destination(2));
    this.base = nameServiceBase(options.address, options.root);
    this.top = ancestorsAndSelf(this.base).slice(0, -1).filter((node) => node.length > options.address.chroot.length);
    this.acls = nameServiceAcls(credential);
    this.session = new ZooKeeperSession({
      address: options.address,
      logger: this.logger,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
      ...(options.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.operationTimeoutMs }),
    });
    this.access = new NameServiceAccess(this.session, this.acls, credential.user);
    let connectedBefore = false;
    this.session.onConnected(({ newSession }) => {
      // A new session after the first has lost every watch: changes may have gone unseen.
      if (newSession && connectedBefore) this.tellStored(null);
      connectedBefore = true;
    });
  }

  async publish(table: RouteTable): Promise<'written' | 'unchanged'> {
    checkRouteTable(table);
    const path = serviceNodePath(this.base, table.service);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.secureParents(path);
        return await writeTable(this.session, table.service, path, table, {
          acls: this.acls,
          shardThresholdBytes: this.options.shardThresholdBytes ?? defaultShardThresholdBytes,
          multiBudgetBytes: this.options.multiBudgetBytes ?? defaultMultiBudgetBytes,
          ensureParent: () => this.ensureParents(path),
          access: this.access,
          watcher: this.watcherFor(table.service, path),
        });
      } catch (error) {
        // A node checked before was refused: its ACL changed since (an ACL change fires no watch).
        if (attempt > 1 || !isNoAuth(error)) throw error;
        this.access.forgetAll();
      }
    }
  }

  async remove(service: string): Promise<void> {
    const path = serviceNodePath(this.base, service);
    await removeTable(this.session, path);
    this.access.forget(path);
  }

  async read(service: string): Promise<RouteTable | null> {
    return readTable(this.session, service, serviceNodePath(this.base, service));
  }

  async list(): Promise<string[]> {
    const firsts = (await this.session.getChildren(this.base)) ?? [];
    const names: string[] = [];
    await Promise.all(firsts.map(async (first) => {
      for (const second of (await this.session.getChildren(`${this.base}/${first}`)) ?? []) {
        const service = `${first}.${second}`;
        if (isServiceName(service)) names.push(service);
      }
    }));
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async checkAccess(): Promise<RegistryAccessReport> {
    const report = await this.access.secureTree(this.top, this.base);
    if (report.repaired.length) {
      this.logger.warn({ nodes: report.repaired.length, first: report.repaired.slice(0, 10) },
        'name-service nodes had another ACL (open, or someone else\'s): set to the control plane\'s digest ALL + world READ');
    }
    if (report.recreated.length) {
      this.logger.warn({ nodes: report.recreated }, 'name-service nodes with an ACL msec may not change were deleted, to be written again');
    }
    for (const problem of report.problems) this.logger.error({ base: this.base }, problem);
    return report;
  }

  watchStored(onChange: StoredListener): Subscription {
    this.storedListeners.add(onChange);
    return { close: async () => void this.storedListeners.delete(onChange) };
  }

  async close(): Promise<void> {
    this.storedListeners.clear();
    await this.session.close();
  }

  private watcherFor(service: string, path: string): ZkWatcher {
    let watcher = this.nodeWatchers.get(path);
    if (!watcher) this.nodeWatchers.set(path, (watcher = () => this.tellStored(service)));
    return watcher;
  }

  private tellStored(service: string | null): void {
    for (const listener of [...this.storedListeners]) {
      try {
        listener(service);
      } catch (error) {
        this.logger.error({ service, err: (error as Error).message }, 'a name-service change listener failed');
      }
    }
  }

  /** Checks (once each) the ACL of the owned nodes above a service node. */
  private async secureParents(path: string): Promise<void> {
    for (const node of this.owned(path)) refuse(await this.access.ensure(node));
  }

  /** Creates the missing nodes above `path` (sequentially: each needs its parent). */
  private async ensureParents(path: string): Promise<void> {
    const owned = new Set(this.owned(path));
    for (const node of ancestorsAndSelf(path).slice(0, -1)) {
      if (await this.session.create(node, Buffer.alloc(0), this.acls)) {
        this.access.created(node);
      } else if (owned.has(node)) {
        const access = refuse(await this.access.ensure(node));
        if (access.kind === 'removed' && await this.session.create(node, Buffer.alloc(0), this.acls)) this.access.created(node);
      }
    }
  }

  /** The nodes above `path` that the control plane owns, from the top down. */
  private owned(path: string): string[] {
    return ancestorsAndSelf(path).slice(0, -1).filter((node) => node.length > this.options.address.chroot.length);
  }
}

function refuse(access: NodeAccess): NodeAccess {
  if (access.kind === 'problem') throw new ZooKeeperError(access.message, 'NO_AUTH', false);
  return access;
}

function isServiceName(service: string): boolean {
  try {
    splitServiceName(service);
    return true;
  } catch {
    return false;
  }
}
