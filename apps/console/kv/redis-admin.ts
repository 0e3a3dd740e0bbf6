/**
 * The console's connections to the KV's Redis instances: one short-lived connection per
 * instance while a task or a view needs it, no retries behind the caller's back (a dead
 * instance must answer "unreachable" fast, not queue commands), every reply as Redis sent it.
 */
import { Redis } from 'ioredis';
import { parseClusterNodes, parseInfo, type ClusterNode } from './cluster-nodes.ts';

export class RedisUnreachable extends Error {
  constructor(readonly address: string, why: string) {
    super(`${address} does not answer (${why})`);
    this.name = 'RedisUnreachable';
  }
}

export interface RedisAdminOptions {
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export class RedisAdmin {
  /** One connection per instance; `ready` is shared, so callers at once wait for one connect. */
  private readonly connections = new Map<string, { redis: Redis; ready: Promise<void> }>();
  constructor(private readonly options: RedisAdminOptions = {}) {}

  private connection(ip: string, port: number, address: string): { redis: Redis; ready: Promise<void> } {
    const known = this.connections.get(address);
    if (known && known.redis.status !== 'end' && known.redis.status !== 'close') return known;
    const redis = new Redis({
      host: ip, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null,
      connectTimeout: this.options.connectTimeoutMs ?? 1500, commandTimeout: this.options.commandTimeoutMs ?? 60_000, enableReadyCheck: false,
    });
    redis.on('error', () => { /* reported by the command that needed it */ });
    const entry = { redis, ready: redis.connect() };
    entry.ready.catch(() => undefined);
    this.connections.set(address, entry);
    return entry;
  }

  /** Runs one command on ip:port; a connection that cannot be made or breaks is RedisUnreachable. */
  async call(ip: string, port: number, ...args: (string | number | Buffer)[]): Promise<unknown> {
    const address = `${ip}:${port}`;
    const c = this.connection(ip, port, address);
    try {
      await c.ready;
      const [cmd, ...rest] = args;
      return await c.redis.call(String(cmd), ...rest);
    } catch (err) {
      const e = err as Error & { code?: string };
      // A Redis error reply (ERR ..., MOVED ...) is an answer; anything else means the instance is not reachable.
      if (e.name === 'ReplyError') throw err;
      if (this.connections.get(address) === c) this.connections.delete(address);
      c.redis.disconnect();
      throw new RedisUnreachable(address, e.code ?? e.message);
    }
  }

  async nodes(ip: string, port: number): Promise<ClusterNode[]> {
    return parseClusterNodes(String(await this.call(ip, port, 'CLUSTER', 'NODES')));
  }

  async info(ip: string, port: number, section?: string): Promise<Map<string, string>> {
    return parseInfo(String(await this.call(ip, port, 'INFO', ...(section ? [section] : ['everything']))));
  }

  /** CLUSTER INFO: cluster_state, cluster_slots_assigned, cluster_known_nodes, … */
  async clusterInfo(ip: string, port: number): Promise<Map<string, string>> {
    return parseInfo(String(await this.call(ip, port, 'CLUSTER', 'INFO')));
  }

  async myId(ip: string, port: number): Promise<string> {
    return String(await this.call(ip, port, 'CLUSTER', 'MYID'));
  }

  /** Whether ip:port answers PING (within the connect timeout). */
  async answers(ip: string, port: number): Promise<boolean> {
    try {
      return (await this.call(ip, port, 'PING')) === 'PONG';
    } catch {
      return false;
    }
  }

  close(): void {
    for (const c of this.connections.values()) c.redis.disconnect();
    this.connections.clear();
  }
}
