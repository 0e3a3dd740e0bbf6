/**
 * The console's connections to the KV's Redis instances: one connection per instance while a
 * task or a view needs it, closed after `idleMs` without a command (a console watching many
 * caches does not keep a connection to each for ever), no retries behind the caller's back (a
 * dead instance must answer "unreachable" fast, not queue commands), every reply as Redis sent it.
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
  /** A connection without a command for this long is closed (default 5 minutes). */
  idleMs?: number;
}

interface Connection {
  redis: Redis;
  ready: Promise<void>;
  /** Commands under way on it. */
  busy: number;
  lastUsedMs: number;
}

export class RedisAdmin {
  /** One connection per instance; `ready` is shared, so callers at once wait for one connect. */
  private readonly connections = new Map<string, Connection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly idleMs: number;
  constructor(private readonly options: RedisAdminOptions = {}) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
  }

  /** How many connections are open now. */
  get openConnections(): number {
    return this.connections.size;
  }

  private connection(ip: string, port: number, address: string): Connection {
    const known = this.connections.get(address);
    if (known && known.redis.status !== 'end' && known.redis.status !== 'close') return known;
    const redis = new Redis({
      host: ip, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null,
      connectTimeout: this.options.connectTimeoutMs ?? 1500, commandTimeout: this.options.commandTimeoutMs ?? 60_000, enableReadyCheck: false,
    });
    redis.on('error', () => { /* reported by the command that needed it */ });
    const entry: Connection = { redis, ready: redis.connect(), busy: 0, lastUsedMs: Date.now() };
    entry.ready.catch(() => undefined);
    this.connections.set(address, entry);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.closeIdle(), Math.max(10, Math.min(this.idleMs / 2, 60_000)));
      this.sweeper.unref();
    }
    return entry;
  }

  /** Closes the connections that ran no command for `idleMs`. */
  private closeIdle(): void {
    const now = Date.now();
    for (const [address, c] of this.connections) {
      if (c.busy > 0 || now - c.lastUsedMs < this.idleMs) continue;
      this.connections.delete(address);
      c.redis.disconnect();
    }
    if (this.connections.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Runs one command on ip:port; a connection that cannot be made or breaks is RedisUnreachable. */
  async call(ip: string, port: number, ...args: (string | number | Buffer)[]): Promise<unknown> {
    const address = `${ip}:${port}`;
    const c = this.connection(ip, port, address);
    c.busy++;
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
    } finally {
      c.busy--;
      c.lastUsedMs = Date.now();
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
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const c of this.connections.values()) c.redis.disconnect();
    this.connections.clear();
  }
}
