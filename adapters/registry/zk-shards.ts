/**
 * What the service node and its shard children hold. A table whose JSON is at most the
 * threshold (512 KB) is stored whole in the node, as MSEC did. A bigger one (ZooKeeper refuses
 * a node or request over ~1 MB) is cut into byte shards stored as children named after the
 * content's sha256, and the node holds a small manifest:
 *   {"version":42,"Policy":"standard","sharded":{"count":2,"bytes":612345,"sha256":"…"}}
 * Shards are immutable (a new content gets new names), so a reader that found the manifest
 * reads shards that cannot change under it; if one is gone, a newer manifest replaced it and
 * the reader starts again. The checksum catches any mix-up. The manifest has no IPInfo on
 * purpose: a reader that does not know shards fails loudly instead of routing to nobody.
 * A manifest is input from ZooKeeper, so a reader checks its claims against fixed limits
 * before it allocates or reads anything: at most 64 shards, 16 MiB in all, 1 MiB per shard
 * (ZooKeeper's default jute.maxbuffer). The writer refuses tables past the same limits.
 */
import { createHash } from 'node:crypto';
import { decodeRouteTable, encodeRouteTable, RouteTableError, type RouteTable } from '../../schemas/route-table.ts';

export const defaultShardThresholdBytes = 512 * 1024;
/** Largest table (its JSON) a reader accepts: ~300 000 instances. */
export const maxTableBytes = 16 * 1024 * 1024;
/** Most shards a reader reads: 32 at the default threshold; room for a threshold down to 256 KB. */
export const maxShardCount = 64;
/** A node's data cannot exceed ZooKeeper's jute.maxbuffer (1 MiB by default). */
export const maxShardBytes = 1024 * 1024;

export interface ShardManifest {
  version: number;
  policy: RouteTable['policy'];
  count: number;
  bytes: number;
  sha256: string;
}

export interface EncodedNode {
  version: number;
  /** The service node's data: the table, or the manifest. */
  main: Buffer;
  /** Children to create first (empty for a table stored whole). */
  shards: Array<{ name: string; data: Buffer }>;
}

export type NodeContent =
  | { kind: 'table'; table: RouteTable }
  | { kind: 'manifest'; manifest: ShardManifest };

export function encodeNode(table: RouteTable, thresholdBytes = defaultShardThresholdBytes): EncodedNode {
  if (!Number.isInteger(thresholdBytes) || thresholdBytes < 1 || thresholdBytes > maxShardBytes) {
    throw new RouteTableError(`shard threshold ${thresholdBytes} must be 1-${maxShardBytes} bytes (ZooKeeper's node limit)`);
  }
  const body = Buffer.from(encodeRouteTable(table), 'utf8');
  if (body.length <= thresholdBytes) return { version: table.version, main: body, shards: [] };
  const sha256 = createHash('sha256').update(body).digest('hex');
  const count = Math.ceil(body.length / thresholdBytes);
  if (body.length > maxTableBytes || count > maxShardCount) {
    throw new RouteTableError(`the route table of ${table.service} is ${body.length} bytes in ${count} shards, past what readers accept ` +
      `(${maxTableBytes} bytes, ${maxShardCount} shards): split the service or raise the shard threshold`);
  }
  const manifest: ShardManifest = { version: table.version, policy: table.policy, count, bytes: body.length, sha256 };
  const names = shardNames(manifest);
  const shards = names.map((name, i) => ({ name, data: body.subarray(i * thresholdBytes, (i + 1) * thresholdBytes) }));
  const main = Buffer.from(JSON.stringify({ version: table.version, Policy: table.policy, sharded: { count, bytes: body.length, sha256 } }));
  return { version: table.version, main, shards };
}

/** Throws RouteTableError when the node holds neither a table nor a manifest. */
export function parseNode(service: string, data: Buffer): NodeContent {
  const text = data.toString('utf8');
  const manifest = manifestOf(service, text);
  if (manifest) return { kind: 'manifest', manifest };
  return { kind: 'table', table: decodeRouteTable(service, text) };
}

export function shardNames(manifest: ShardManifest): string[] {
  return Array.from({ length: manifest.count }, (_, i) => `shard-${manifest.sha256.slice(0, 16)}-${i}`);
}

export class ShardMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardMismatch';
  }
}

/** The table from its shards, checked against the manifest. */
export function joinShards(service: string, manifest: ShardManifest, parts: Buffer[]): RouteTable {
  const body = Buffer.concat(parts);
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (body.length !== manifest.bytes || sha256 !== manifest.sha256) {
    throw new ShardMismatch(`shards of ${service} do not match their manifest (${body.length} bytes, sha256 ${sha256.slice(0, 12)}…)`);
  }
  const table = decodeRouteTable(service, body.toString('utf8'));
  if (table.version !== manifest.version) throw new ShardMismatch(`shards of ${service} hold version ${table.version}, manifest ${manifest.version}`);
  return table;
}

function manifestOf(service: string, text: string): ShardManifest | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const o = json as { version?: unknown; Policy?: unknown; sharded?: { count?: unknown; bytes?: unknown; sha256?: unknown } } | null;
  if (!o || typeof o !== 'object' || o.sharded === undefined) return null;
  const s = o.sharded;
  const ok = Number.isSafeInteger(o.version) && (o.version as number) >= 0 && (o.Policy === 'standard' || o.Policy === 'odd') &&
    Number.isInteger(s?.count) && (s!.count as number) > 0 && Number.isInteger(s?.bytes) && typeof s?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.sha256);
  if (!ok) throw new RouteTableError(`the name-service node of ${service} has a malformed manifest: republish it from the control plane`);
  const count = s!.count as number;
  const bytes = s!.bytes as number;
  // Each shard holds at least one byte and at most one node's worth.
  if (count > maxShardCount || bytes > maxTableBytes || bytes < count || bytes > count * maxShardBytes) {
    throw new RouteTableError(`the name-service node of ${service} claims ${bytes} bytes in ${count} shards; a reader accepts at most ` +
      `${maxShardCount} shards of 1-${maxShardBytes} bytes, ${maxTableBytes} bytes in all: refused unread, republish it from the control plane`);
  }
  return { version: o.version as number, policy: o.Policy as ShardManifest['policy'], count, bytes, sha256: s!.sha256 as string };
}
