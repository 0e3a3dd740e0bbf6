/**
 * Reading, writing and removing one service's node (and its shard children, zk-shards.ts).
 *
 * A write is a compare-and-set on the node's ZooKeeper version inside one multi, so it only
 * ever replaces what it read; it is skipped when the stored table's version is the same or
 * newer (a replay, or a late writer, never goes back in time). Losing a race means reading
 * again. Shards that fit in one request with the node go into that multi; bigger tables first
 * create their (immutable, not yet referenced) shards, then flip the manifest in the multi.
 * A new service too big for one request first appears as an empty node (read as "no table").
 */
import type { ACL } from 'node-zookeeper-client';
import type { Logger } from 'pino';
import type { RouteTable } from './port.ts';
import { RouteTableError } from './route-json.ts';
import { isNoNode, isRace, ZooKeeperError } from './zk-errors.ts';
import type { ZkOp, ZkWatcher, ZooKeeperSession } from './zk-session.ts';
import { encodeNode, joinShards, parseNode, ShardMismatch, shardNames, type NodeContent } from './zk-shards.ts';

/** ZooKeeper refuses requests over jute.maxbuffer (1 MiB by default): stay well below. */
export const defaultMultiBudgetBytes = 900 * 1024;
const maxAttempts = 50;

export interface WriteSettings {
  acls: ACL[];
  shardThresholdBytes: number;
  multiBudgetBytes: number;
  /** Creates the node's missing parents (called when a create finds no parent). */
  ensureParent(): Promise<void>;
  logger: Logger;
}

/** The table at `path`, or null. With a watcher, the node is watched (created, changed, deleted). */
export async function readTable(session: ZooKeeperSession, service: string, path: string, watcher?: ZkWatcher): Promise<RouteTable | null> {
  let mismatchAt: number | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (watcher && !(await session.exists(path, watcher))) return null;
    const node = await session.getData(path, watcher);
    if (!node) {
      if (watcher) continue;
      return null;
    }
    const content = parseStored(service, node.data);
    if (!content) return null;
    if (content.kind === 'table') return content.table;
    const parts = await Promise.all(shardNames(content.manifest).map((name) => session.getData(`${path}/${name}`)));
    if (parts.some((p) => p === null)) continue; // a newer manifest replaced these shards
    try {
      return joinShards(service, content.manifest, parts.map((p) => p!.data));
    } catch (error) {
      if (!(error instanceof ShardMismatch)) throw error;
      // Twice under the same manifest: not a race but damage.
      if (mismatchAt === node.stat.version) throw new RouteTableError(`${error.message}: republish the table from the control plane`);
      mismatchAt = node.stat.version;
    }
  }
  throw new ZooKeeperError(`the name-service node ${path} kept changing while it was read: read it again later`, 'BUSY', true);
}

export async function writeTable(session: ZooKeeperSession, service: string, path: string, table: RouteTable, settings: WriteSettings): Promise<'written' | 'unchanged'> {
  const encoded = encodeNode(table, settings.shardThresholdBytes);
  const names = new Set(encoded.shards.map((s) => s.name));
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const current = await session.getData(path);
      if (!current) {
        const fits = encoded.main.length + sum(encoded.shards) <= settings.multiBudgetBytes;
        await createParented(settings, () => fits
          ? session.multi([
            { op: 'create', path, data: encoded.main, acls: settings.acls },
            ...encoded.shards.map((s): ZkOp => ({ op: 'create', path: `${path}/${s.name}`, data: s.data, acls: settings.acls })),
          ])
          : session.create(path, Buffer.alloc(0), settings.acls));
        if (fits) return 'written';
        continue;
      }
      const stored = parseStored(service, current.data, settings.logger);
      const children = current.stat.numChildren > 0 ? (await session.getChildren(path)) ?? [] : [];
      if (stored && versionOf(stored) >= table.version) {
        await removeStrayShards(session, path, stored, children);
        return 'unchanged';
      }
      const missing = encoded.shards.filter((s) => !children.includes(s.name));
      const inline = encoded.main.length + sum(missing) <= settings.multiBudgetBytes;
      if (!inline) {
        await Promise.all(missing.map((s) => session.create(`${path}/${s.name}`, s.data, settings.acls)));
      }
      const created = inline ? new Set(missing.map((s) => s.name)) : new Set<string>();
      await session.multi([
        ...(inline ? missing.map((s): ZkOp => ({ op: 'create', path: `${path}/${s.name}`, data: s.data, acls: settings.acls })) : []),
        ...[...names].filter((n) => !created.has(n)).map((n): ZkOp => ({ op: 'check', path: `${path}/${n}`, version: -1 })),
        { op: 'setData', path, data: encoded.main, version: current.stat.version },
        ...children.filter((c) => !names.has(c)).map((c): ZkOp => ({ op: 'remove', path: `${path}/${c}`, version: -1 })),
      ]);
      return 'written';
    } catch (error) {
      if (!isRace(error)) throw error;
      await pause(attempt);
    }
  }
  throw new ZooKeeperError(`publishing ${service} lost ${maxAttempts} races with other writers of ${path}: try again`, 'BUSY', true);
}

/** Removes the node and its shards; nothing to do when it is absent. */
export async function removeTable(session: ZooKeeperSession, path: string): Promise<void> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stat = await session.exists(path);
    if (!stat) return;
    const children = stat.numChildren > 0 ? (await session.getChildren(path)) ?? [] : [];
    try {
      await session.multi([
        ...children.map((c): ZkOp => ({ op: 'remove', path: `${path}/${c}`, version: -1 })),
        { op: 'remove', path, version: -1 },
      ]);
      return;
    } catch (error) {
      if (!isRace(error)) throw error;
      await pause(attempt);
    }
  }
  throw new ZooKeeperError(`removing ${path} lost ${maxAttempts} races with other writers: try again`, 'BUSY', true);
}

/** Node content; null for an empty node (being created) and, when a logger is given, for junk. */
function parseStored(service: string, data: Buffer, overwriteJunk?: Logger): NodeContent | null {
  if (data.length === 0) return null;
  try {
    return parseNode(service, data);
  } catch (error) {
    if (!overwriteJunk || !(error instanceof RouteTableError)) throw error;
    overwriteJunk.warn({ service }, 'the name-service node holds no route table: overwriting it');
    return null;
  }
}

const versionOf = (content: NodeContent) => (content.kind === 'table' ? content.table.version : content.manifest.version);

/** Shards left by a writer that lost its race: children the current content does not use. */
async function removeStrayShards(session: ZooKeeperSession, path: string, stored: NodeContent, children: string[]): Promise<void> {
  const used = new Set(stored.kind === 'manifest' ? shardNames(stored.manifest) : []);
  const stray = children.filter((c) => !used.has(c));
  await Promise.all(stray.map((c) => session.multi([{ op: 'remove', path: `${path}/${c}`, version: -1 }]).catch(() => {})));
}

async function createParented(settings: WriteSettings, create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (!isNoNode(error)) throw error;
    await settings.ensureParent();
    await create();
  }
}

const sum = (shards: Array<{ data: Buffer }>) => shards.reduce((n, s) => n + s.data.length + 200, 0);
const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.min(50, attempt * 2) * Math.random()));
