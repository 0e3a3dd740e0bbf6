/**
 * One ZooKeeper session that outlives session expiry, with promise operations.
 *
 * Client: node-zookeeper-client (pure JS, no native build; watches, multi and digest auth work
 * against 3.8). Its traps, handled here:
 *  - an expired session leaves the client closed for good: a new client (and session) replaces
 *    it, and `onConnected` listeners learn that every watch must be set again;
 *  - requests made while disconnected wait in its queue forever: operations first wait for a
 *    connection (bounded by operationTimeoutMs) and are themselves bounded by it;
 *  - close() while the server is unreachable keeps reconnecting forever: the connection
 *    manager is stopped by hand;
 *  - it has no read timeout, so a silent connection hangs it: zk-watchdog.ts adds one;
 *  - Transaction.setData/check/remove send version 0 as -1 ("any version", `version || -1`):
 *    multi() puts the requested version back before committing.
 */
import type { Logger } from 'pino';
import zookeeper, { type ACL, type Client, type Event, type Stat } from 'node-zookeeper-client';
import { describeZkError, isNoNode, isNodeExists, ZooKeeperError } from './zk-errors.ts';
import { describeZooKeeperAddress, type ZooKeeperAddress } from './zk-url.ts';
import { watchConnection } from './zk-watchdog.ts';

export type ZkOp =
  | { op: 'create'; path: string; data: Buffer; acls: ACL[] }
  | { op: 'setData'; path: string; data: Buffer; version: number }
  | { op: 'check'; path: string; version: number }
  | { op: 'remove'; path: string; version: number };

export type ZkWatcher = (event: Event) => void;

export interface ZooKeeperSessionOptions {
  address: ZooKeeperAddress;
  logger: Logger;
  /** Requested session timeout (the server clamps it to 2–20 ticks). Default 10 000 ms. */
  sessionTimeoutMs?: number;
  /** Longest wait for a connection plus an answer. Default 10 000 ms. */
  operationTimeoutMs?: number;
}

/** `newSession`: the previous session expired (or this is the first): watches are gone. */
export type ConnectedListener = (info: { newSession: boolean }) => void;

interface ConnectionManagerInternals {
  state: number;
  socket?: { destroy(): void };
  connect(): void;
  setState(state: number): void;
}

const closingState = -1;

export class ZooKeeperSession {
  readonly server: string;
  private client!: Client;
  private connected = false;
  private sessionIsNew = true;
  private closed = false;
  private readonly connectedListeners = new Set<ConnectedListener>();
  private readonly waiting = new Set<() => void>();
  /** Calls waiting for an answer: failed at once by close() (a closed client never answers). */
  private readonly inFlight = new Set<(error: Error) => void>();
  private readonly watchdogs = new WeakMap<Client, () => void>();
  private readonly sessionTimeoutMs: number;
  private readonly operationTimeoutMs: number;

  constructor(private readonly options: ZooKeeperSessionOptions) {
    this.server = describeZooKeeperAddress(options.address);
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
    this.startClient();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  onConnected(listener: ConnectedListener): () => void {
    this.connectedListeners.add(listener);
    return () => this.connectedListeners.delete(listener);
  }

  getData(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: Stat } | null> {
    return this.call('read', path, (c, done) => {
      const cb = (e: unknown, data: Buffer, stat: Stat) => (isNoNode(e) ? done(null, null) : done(e, { data: data ?? Buffer.alloc(0), stat }));
      if (watcher) c.getData(path, watcher, cb);
      else c.getData(path, cb);
    });
  }

  /** The node's stat, or null; with a watcher, a watch on its creation, change or deletion. */
  exists(path: string, watcher?: ZkWatcher): Promise<Stat | null> {
    return this.call('stat', path, (c, done) => {
      const cb = (e: unknown, stat: Stat) => done(e, stat ?? null);
      if (watcher) c.exists(path, watcher, cb);
      else c.exists(path, cb);
    });
  }

  getChildren(path: string): Promise<string[] | null> {
    return this.call('list', path, (c, done) => c.getChildren(path, (e, children) => (isNoNode(e) ? done(null, null) : done(e, children))));
  }

  /** Creates the node; false when it already exists. */
  create(path: string, data: Buffer, acls: ACL[]): Promise<boolean> {
    return this.call('create', path, (c, done) => c.create(path, data, acls, (e) => (isNodeExists(e) ? done(null, false) : done(e, true))));
  }

  /** The node's ACL and stat, or null when it does not exist. */
  getACL(path: string): Promise<{ acls: ACL[]; stat: Stat } | null> {
    return this.call('read the ACL of', path, (c, done) => c.getACL(path, (e, acls, stat) => (isNoNode(e) ? done(null, null) : done(e, { acls, stat }))));
  }

  /** Replaces the node's ACL if its ACL version is still `aclVersion` (needs ADMIN permission). */
  setACL(path: string, acls: ACL[], aclVersion: number): Promise<void> {
    return this.call('set the ACL of', path, (c, done) => c.setACL(path, acls, aclVersion, (e) => done(e, undefined)));
  }

  /** One atomic transaction; fails with the first failing operation's error. */
  multi(ops: ZkOp[]): Promise<void> {
    const path = ops[0]?.path ?? '/';
    return this.call('transaction on', path, (c, done) => {
      const tx = c.transaction();
      for (const o of ops) {
        if (o.op === 'create') tx.create(o.path, o.data, o.acls);
        else if (o.op === 'setData') tx.setData(o.path, o.data, o.version);
        else if (o.op === 'check') tx.check(o.path, o.version);
        else tx.remove(o.path, o.version);
      }
      const built = (tx as unknown as { ops: Array<{ version?: number }> }).ops;
      ops.forEach((o, i) => {
        if (o.op !== 'create') built[i]!.version = o.version;
      });
      tx.commit((e) => done(e, undefined));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const wasConnected = this.connected;
    this.connected = false;
    for (const wake of this.waiting) wake();
    for (const fail of this.inFlight) fail(new ZooKeeperError(`ZooKeeper at ${this.server}: the session was closed`, 'CLOSED', false));
    await this.stopClient(this.client, wasConnected);
  }

  private startClient(): void {
    const { address, logger } = this.options;
    const client = zookeeper.createClient(address.hosts, { sessionTimeout: this.sessionTimeoutMs, spinDelay: 200, retries: 0 });
    if (address.credential) client.addAuthInfo('digest', Buffer.from(`${address.credential.user}:${address.credential.password}`));
    client.on('state', (state) => {
      if (client !== this.client || this.closed) return;
      const { State } = zookeeper;
      if (state === State.SYNC_CONNECTED) {
        this.connected = true;
        const newSession = this.sessionIsNew;
        this.sessionIsNew = false;
        for (const wake of this.waiting) wake();
        for (const listener of this.connectedListeners) listener({ newSession });
      } else if (state === State.DISCONNECTED) {
        this.connected = false;
      } else if (state === State.EXPIRED) {
        this.connected = false;
        logger.warn({ server: this.server }, 'ZooKeeper session expired: opening a new session and reading everything again');
        void this.stopClient(client, false);
        this.sessionIsNew = true;
        this.startClient();
      } else if (state === State.AUTH_FAILED) {
        logger.error({ server: this.server }, 'ZooKeeper refused the digest credential: check MSEC_ZK_AUTH or the user:password in the zk:// URL');
      }
    });
    this.client = client;
    this.watchdogs.set(client, watchConnection(client));
    client.connect();
  }

  /** Closes a client for good, even when its server cannot be reached. */
  private async stopClient(client: Client, graceful: boolean): Promise<void> {
    const manager = (client as unknown as { connectionManager: ConnectionManagerInternals }).connectionManager;
    this.watchdogs.get(client)?.();
    if (graceful) {
      const gone = new Promise<void>((resolve) => client.once('disconnected', () => resolve()));
      client.close();
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    }
    manager.connect = () => {};
    if (manager.state >= 0) manager.setState(closingState);
    manager.socket?.destroy();
  }

  /** Runs one client call once connected; bounded by the operation timeout. */
  private async call<T>(operation: string, path: string, run: (client: Client, done: (error: unknown, value: T) => void) => void): Promise<T> {
    const deadline = Date.now() + this.operationTimeoutMs;
    const fail = (error: unknown) => describeZkError(error, operation, path, this.server);
    await this.waitForConnection(deadline, operation, path);
    return new Promise<T>((resolve, reject) => {
      const settle = (error: Error | undefined, value?: T) => {
        if (!this.inFlight.delete(abort)) return;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value as T);
      };
      const abort = (error: Error) => settle(error);
      this.inFlight.add(abort);
      const timer = setTimeout(() => {
        settle(new ZooKeeperError(`ZooKeeper ${operation} ${path} at ${this.server} got no answer in ${this.operationTimeoutMs} ms: ` +
          'check that ZooKeeper runs and is reachable; msec retries', 'TIMEOUT', true));
      }, Math.max(1, deadline - Date.now()));
      run(this.client, (error, value) => settle(error ? fail(error) : undefined, value));
    });
  }

  private async waitForConnection(deadline: number, operation: string, path: string): Promise<void> {
    while (!this.connected) {
      if (this.closed) throw new ZooKeeperError(`ZooKeeper ${operation} ${path}: the session is closed`, 'CLOSED', false);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ZooKeeperError(`ZooKeeper at ${this.server} is not connected (waited ${this.operationTimeoutMs} ms to ${operation} ${path}): ` +
          'check that it runs and is reachable; msec retries', 'CONNECTION_LOSS', true);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiting.add(wake);
      });
    }
  }
}
