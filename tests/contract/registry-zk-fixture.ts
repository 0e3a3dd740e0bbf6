/**
 * Shared by the ZooKeeper name-service tests: one real server per test file (started on first
 * use), quiet adapters, a plain node-zookeeper-client (no msec code) to look at what is stored,
 * and log capture to see what the adapters report.
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import zookeeper, { type ACL, type Client } from 'node-zookeeper-client';
import { digestId } from '../../adapters/registry/zk-acl.ts';
import { ZooKeeperRegistry, type ZooKeeperRegistryOptions } from '../../adapters/registry/zookeeper.ts';
import { ZooKeeperRouteWatcher, type ZooKeeperRouteWatcherOptions } from '../../adapters/registry/zookeeper-watcher.ts';
import type { ZooKeeperAddress, ZooKeeperCredential } from '../../adapters/registry/zk-url.ts';
import { startZooKeeper, zooKeeperUnavailable, type ZooKeeperServer } from '../services/zookeeper.ts';

export const skipReason = zooKeeperUnavailable();
export const controlPlane: ZooKeeperCredential = { user: 'msec-console', password: 'test-secret-1' };
/** Someone else who writes nodes with their own digest. */
export const intruder: ZooKeeperCredential = { user: 'evil', password: 'evil-secret' };
/** The server's superuser (the operator who deletes what msec may not). */
export const superuser: ZooKeeperCredential = { user: 'super', password: 'super-secret' };
export const quiet = pino({ level: 'silent' });

let server: Promise<ZooKeeperServer> | undefined;
/** The file's ZooKeeper server, started on first use and stopped when the process exits. */
export function zkServer(): Promise<ZooKeeperServer> {
  server ??= startZooKeeper({ superDigest: digestId(superuser) }).then((s) => {
    process.once('beforeExit', () => void s.stop());
    return s;
  });
  return server;
}

export async function address(credential?: ZooKeeperCredential, port?: number): Promise<ZooKeeperAddress> {
  const s = await zkServer();
  return { hosts: `127.0.0.1:${port ?? s.port}`, chroot: '', ...(credential ? { credential } : {}) };
}

/** Closes everything a test opened, in reverse order. */
export class Closer {
  private readonly items: Array<() => Promise<unknown> | unknown> = [];
  add<T extends { close(): Promise<unknown> | unknown }>(item: T): T {
    this.items.push(() => item.close());
    return item;
  }
  async closeAll(): Promise<void> {
    for (const close of this.items.splice(0).reverse()) await close();
  }
}

export function registryOn(addr: ZooKeeperAddress, options: Partial<ZooKeeperRegistryOptions> = {}): ZooKeeperRegistry {
  return new ZooKeeperRegistry({ address: addr, logger: quiet, sessionTimeoutMs: 4_000, operationTimeoutMs: 5_000, ...options });
}

export function watcherOn(addr: ZooKeeperAddress, options: Partial<ZooKeeperRouteWatcherOptions> = {}): ZooKeeperRouteWatcher {
  return new ZooKeeperRouteWatcher({ address: addr, logger: quiet, sessionTimeoutMs: 4_000, retryDelays: { initialMs: 20, maxMs: 200 }, ...options });
}

/** A logger whose lines a test can read. */
export function capturingLogger(): { logger: Logger; lines: Array<{ level: number; msg: string } & Record<string, unknown>> } {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

/** A bare node-zookeeper-client, connected; digest credential optional. */
export async function plainClient(credential?: ZooKeeperCredential): Promise<PlainClient> {
  const s = await zkServer();
  const client = zookeeper.createClient(s.connectString, { sessionTimeout: 4_000 });
  if (credential) client.addAuthInfo('digest', Buffer.from(`${credential.user}:${credential.password}`));
  const connected = new Promise<void>((resolve) => client.once('connected', () => resolve()));
  client.connect();
  await connected;
  return new PlainClient(client);
}

/** Promise wrappers over the raw client; errors keep the client's exception (getCode()). */
export class PlainClient {
  constructor(readonly client: Client) {}
  getData(path: string): Promise<Buffer> {
    return new Promise((resolve, reject) => this.client.getData(path, (e, data) => (e ? reject(e) : resolve(data))));
  }
  getChildren(path: string): Promise<string[]> {
    return new Promise((resolve, reject) => this.client.getChildren(path, (e, children) => (e ? reject(e) : resolve(children))));
  }
  getACL(path: string): Promise<Array<{ permission: number; id: { scheme: string; id: string } }>> {
    return new Promise((resolve, reject) => this.client.getACL(path, (e, acls) => (e ? reject(e) : resolve(acls as never))));
  }
  setData(path: string, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.client.setData(path, data, (e) => (e ? reject(e) : resolve())));
  }
  remove(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.client.remove(path, (e) => (e ? reject(e) : resolve())));
  }
  /** Creates the node, open to everyone unless `acls` are given. */
  create(path: string, data: Buffer, acls?: ACL[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (e: unknown) => (e ? reject(e) : resolve());
      if (acls) this.client.create(path, data, acls, done);
      else this.client.create(path, data, done);
    });
  }
  setACL(path: string, acls: ACL[]): Promise<void> {
    return new Promise((resolve, reject) => this.client.setACL(path, acls, (e) => (e ? reject(e) : resolve())));
  }
  exists(path: string): Promise<boolean> {
    return new Promise((resolve, reject) => this.client.exists(path, (e, stat) => (e ? reject(e) : resolve(Boolean(stat)))));
  }
  /** The node and everything below it (zkCli's deleteall). */
  async removeAll(path: string): Promise<void> {
    for (const child of await this.getChildren(path)) await this.removeAll(`${path}/${child}`);
    await this.remove(path);
  }
  close(): void {
    this.client.close();
  }
}

/** The ZooKeeper error name of a raw client exception ("NO_AUTH", …). */
export const zkErrorName = (error: unknown) => (error as { name?: string }).name;
