/**
 * The control plane's side of the name service on ZooKeeper (msec-reference §1.2): each
 * service's routing table at `/msec/nameservice/<First>/<Second>` as MSEC's JSON plus
 * `"version"` (route-json.ts), sharded past 512 KB (zk-shards.ts), written by compare-and-set
 * so it only moves forward (zk-table-node.ts), with digest ACLs (zk-acl.ts).
 *
 * Client choice: node-zookeeper-client — pure JavaScript (no native addon to build on every
 * machine), speaks ZooKeeper 3.x including multi, watches and digest auth, and is the one
 * maintained Node client that needs nothing but npm. Its rough edges are handled in
 * zk-session.ts.
 */
import pino, { type Logger } from 'pino';
import type { ACL } from 'node-zookeeper-client';
import type { RouteRegistry, RouteTable } from './port.ts';
import { checkRouteTable, splitServiceName } from './route-json.ts';
import { nameServiceAcls } from './zk-acl.ts';
import { ancestorsAndSelf, nameServiceBase, serviceNodePath } from './zk-paths.ts';
import { ZooKeeperSession } from './zk-session.ts';
import { defaultShardThresholdBytes } from './zk-shards.ts';
import { defaultMultiBudgetBytes, readTable, removeTable, writeTable } from './zk-table-node.ts';
import { describeZooKeeperAddress, parseZooKeeperUrl, type ZooKeeperAddress } from './zk-url.ts';

export interface ZooKeeperRegistryOptions {
  /** Where and as whom: parseZooKeeperUrl('zk://user:password@h1:2181,h2:2181/chroot'). */
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

export class ZooKeeperRegistry implements RouteRegistry {
  private readonly session: ZooKeeperSession;
  private readonly base: string;
  private readonly acls: ACL[];
  private readonly logger: Logger;
  private warnedOpen = false;

  /** `url`: zk://[user:password@]h1:2181,h2:2181[/chroot]; credentials may come from MSEC_ZK_AUTH. */
  static fromUrl(url: string, options: Omit<ZooKeeperRegistryOptions, 'address'> = {}): ZooKeeperRegistry {
    return new ZooKeeperRegistry({ ...options, address: parseZooKeeperUrl(url) });
  }

  constructor(private readonly options: ZooKeeperRegistryOptions) {
    this.logger = options.logger ?? pino({ name: 'msec-registry' }, pino.destination(2));
    this.base = nameServiceBase(options.address, options.root);
    this.acls = nameServiceAcls(options.address.credential);
    this.session = new ZooKeeperSession({
      address: options.address,
      logger: this.logger,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
      ...(options.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.operationTimeoutMs }),
    });
  }

  async publish(table: RouteTable): Promise<'written' | 'unchanged'> {
    checkRouteTable(table);
    this.warnIfOpen();
    const path = serviceNodePath(this.base, table.service);
    return writeTable(this.session, table.service, path, table, {
      acls: this.acls,
      shardThresholdBytes: this.options.shardThresholdBytes ?? defaultShardThresholdBytes,
      multiBudgetBytes: this.options.multiBudgetBytes ?? defaultMultiBudgetBytes,
      ensureParent: () => this.ensureParents(path),
      logger: this.logger,
    });
  }

  async remove(service: string): Promise<void> {
    await removeTable(this.session, serviceNodePath(this.base, service));
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

  async close(): Promise<void> {
    await this.session.close();
  }

  /** Creates the missing nodes above `path` (sequentially: each needs its parent). */
  private async ensureParents(path: string): Promise<void> {
    for (const node of ancestorsAndSelf(path).slice(0, -1)) {
      await this.session.create(node, Buffer.alloc(0), this.acls);
    }
  }

  private warnIfOpen(): void {
    if (this.options.address.credential || this.warnedOpen) return;
    this.warnedOpen = true;
    this.logger.warn({ server: describeZooKeeperAddress(this.options.address) },
      'publishing routes to ZooKeeper without a credential: the nodes are world-writable (open ACL). ' +
      'Set MSEC_ZK_AUTH=user:password (or zk://user:password@…) so only the control plane can write them');
  }
}

function isServiceName(service: string): boolean {
  try {
    splitServiceName(service);
    return true;
  } catch {
    return false;
  }
}
