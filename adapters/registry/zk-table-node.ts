/**
 * Reading, writing and removing one service's node (and its shard children, zk-shards.ts).
 *
 * A write makes the node hold the given table: it is skipped only when the node already holds
 * exactly that content (same bytes, its shards present), whatever version the node claims —
 * the control plane's one writer decides what is current (port.ts), not the stored version,
 * which anyone who could write the node could have set. The write is a compare-and-set on the
 * node's ZooKeeper version inside one multi, so it only ever replaces what it read; losing a
 * race means reading again. Shards that fit in one request with the node go into that multi;
 * bigger tables first create their (immutable, not yet referenced) shards, then flip the
 * manifest in the multi. A new service too big for one request first appears as an empty node
 * (read as "no table"). A node met for the first time has its ACL checked (zk-access.ts).
 */
import type { ACL } from 'node-zookeeper-client';
import { RouteTableError, type RouteTable } from '../../schemas/route-table.ts';
import type { NameServiceAccess } from './zk-access.ts';
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
  /** Checks the ACL of nodes met that this process did not create. */
  access: NameServiceAccess;
  /** Set on the node by the read that starts every attempt: fires on the next change. */
  watcher?: ZkWatcher;
}

/** What a read found: the table (null when none) and the ZooKeeper zxid of its last change. */
export interface StoredTable {
  table: RouteTable | null;
  /** The node's mzxid: orders what readers see by ZooKeeper's own history. Absent with no node. */
  zxid?: bigint;
}

/** The table at `path`, or null. With a watcher, the node is watched (created, changed, deleted). */
export async function readTable(session: ZooKeeperSession, service: string, path: string, watcher?: ZkWatcher): Promise<RouteTable | null> {
  return (await readStoredTable(session, service, path, watcher)).table;
}

/** readTable with the node's zxid. */
export async function readStoredTable(session: ZooKeeperSession, service: string, path: string, watcher?: ZkWatcher): Promise<StoredTable> {
  let mismatchAt: number | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (watcher && !(await session.exists(path, watcher))) return { table: null };
    const node = await session.getData(path, watcher);
    if (!node) {
      if (watcher) continue;
      return { table: null };
    }
    const zxid = node.stat.mzxid.readBigInt64BE(0);
    const content = parseStored(service, node.data);
    if (!content) return { table: null, zxid };
    if (content.kind === 'table') return { table: content.table, zxid };
    const parts = await Promise.all(shardNames(content.manifest).map((name) => session.getData(`${path}/${name}`)));
    if (parts.some((p) => p === null)) continue; // a newer manifest replaced these shards
    try {
      return { table: joinShards(service, content.manifest, parts.map((p) => p!.data)), zxid };
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
  const { access, acls, watcher } = settings;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const current = await session.getData(path, watcher);
      if (!current) {
        // Watches the creation (ours, then the data watch is set by the next read).
        if (watcher && await session.exists(path, watcher)) continue;
        const fits = encoded.main.length + sum(encoded.shards) <= settings.multiBudgetBytes;
        await createParented(settings, () => fits
          ? session.multi([
            { op: 'create', path, data: encoded.main, acls },
            ...encoded.shards.map((s): ZkOp => ({ op: 'create', path: `${path}/${s.name}`, data: s.data, acls })),
          ])
          : session.create(path, Buffer.alloc(0), acls));
        access.created(path);
        if (!fits) continue;
        for (const name of names) access.created(`${path}/${name}`);
        return 'written';
      }
      const children = current.stat.numChildren > 0 ? (await session.getChildren(path)) ?? [] : [];
      const kept = children.filter((c) => names.has(c));
      if (!(await secured(access, [path, ...kept.map((c) => `${path}/${c}`)]))) continue;
      if (current.data.equals(encoded.main) && kept.length === names.size) {
        await removeStrayShards(session, path, children.filter((c) => !names.has(c)));
        return 'unchanged';
      }
      const missing = encoded.shards.filter((s) => !children.includes(s.name));
      const inline = encoded.main.length + sum(missing) <= settings.multiBudgetBytes;
      if (!inline) {
        await Promise.all(missing.map((s) => session.create(`${path}/${s.name}`, s.data, acls)));
      }
      const created = inline ? new Set(missing.map((s) => s.name)) : new Set<string>();
      await session.multi([
        ...(inline ? missing.map((s): ZkOp => ({ op: 'create', path: `${path}/${s.name}`, data: s.data, acls })) : []),
        ...[...names].filter((n) => !created.has(n)).map((n): ZkOp => ({ op: 'check', path: `${path}/${n}`, version: -1 })),
        { op: 'setData', path, data: encoded.main, version: current.stat.version },
        ...children.filter((c) => !names.has(c)).map((c): ZkOp => ({ op: 'remove', path: `${path}/${c}`, version: -1 })),
      ]);
      for (const s of missing) access.created(`${path}/${s.name}`);
      for (const c of children) if (!names.has(c)) access.forget(`${path}/${c}`);
      return 'written';
    } catch (error) {
      if (!isRace(error)) throw error;
      await pause(attempt);
    }
  }
  throw new ZooKeeperError(`publishing ${service} lost ${maxAttempts} races with other writers of ${path}: try again`, 'BUSY', true);
}

/**
 * Whether every node is protected as it must be (repaired where needed); false when one was
 * deleted to be written again. Throws when one can be neither repaired nor deleted.
 */
async function secured(access: NameServiceAccess, paths: string[]): Promise<boolean> {
  let intact = true;
  for (const path of paths) {
    const result = await access.ensure(path);
    if (result.kind === 'problem') throw new ZooKeeperError(result.message, 'NO_AUTH', false);
    if (result.kind === 'removed' || result.kind === 'absent') intact = false;
  }
  return intact;
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

/** Node content; null for an empty node (being created). */
function parseStored(service: string, data: Buffer): NodeContent | null {
  return data.length === 0 ? null : parseNode(service, data);
}

/** Shards left by a writer that lost its race: children the current content does not use. */
async function removeStrayShards(session: ZooKeeperSession, path: string, stray: string[]): Promise<void> {
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
