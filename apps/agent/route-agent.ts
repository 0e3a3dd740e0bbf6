/**
 * MSEC's local route lookup (nlbagent answered on 127.0.0.1:2841), so services in any
 * language route by name without a ZooKeeper client: a UDP request names a service, the answer
 * is one instance chosen by weighted random among the enabled ones that are not down (all of
 * them when every one is down). Protocol: schemas/route-agent.md. Routes come from the console
 * (the agent may read routing tables) as the one RouteTable (schemas/route-table.ts), checked
 * on arrival, and are kept fresh by long-polls; a table stays in use while the console is away.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { frozenRouteTable, routeTableFromJson, type RouteInstance, type RouteTable } from '../../schemas/route-table.ts';
import type { ConsoleLink } from './console-link.ts';

export const routeAgentResults = { ok: 0, malformed: -1, unknownService: -2, noInstance: -3, nameTooLong: -4, unavailable: -5 } as const;
const maxNameBytes = 256;
const typeCode: Record<string, number> = { udp: 1, tcp: 2, both: 3 };
const maxWatched = 1000;
/** How long a name the console does not know is answered as unknown without asking again. */
const unknownForMs = 30_000;
const maxUnknown = 10_000;

export interface RouteAgentOptions {
  ip: string;
  port: number;
  link: ConsoleLink;
  logger: Logger;
  /** Random numbers in [0, 1) (tests fix them). */
  random?: () => number;
}

export class RouteAgent {
  private readonly tables = new Map<string, { table: RouteTable | null; fetching?: Promise<void>; watching: boolean }>();
  /** Names the console does not know, until when (anyone can send names: only real services are watched). */
  private readonly unknown = new Map<string, number>();
  private closed = false;

  private constructor(private readonly socket: Socket, private readonly options: RouteAgentOptions, readonly port: number) {}

  static async start(options: RouteAgentOptions): Promise<RouteAgent> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.ip, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const agent = new RouteAgent(socket, options, socket.address().port);
    socket.on('message', (msg, from) => void agent.answer(msg).then((reply) => {
      if (reply) socket.send(reply, from.port, from.address);
    }));
    socket.on('error', (err) => options.logger.warn({ err }, 'route agent socket error'));
    options.logger.info({ address: `${options.ip}:${agent.port}` }, `route agent answers lookups on udp ${options.ip}:${agent.port}`);
    return agent;
  }

  async close(): Promise<void> {
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** The reply to one datagram; undefined sends nothing (a datagram that is not a lookup). */
  async answer(msg: Buffer): Promise<Buffer | undefined> {
    if (msg.length < 4) return undefined;
    const length = msg.readUInt32BE(0);
    if (length !== msg.length - 4) return undefined;
    if (length === 0) return result(routeAgentResults.malformed);
    if (length > maxNameBytes) return result(routeAgentResults.nameTooLong);
    const name = msg.subarray(4).toString('utf8');
    if (!/^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/.test(name)) return result(routeAgentResults.malformed);
    const table = await this.table(name);
    if (table === undefined) return result(routeAgentResults.unavailable);
    if (table === null) return result(routeAgentResults.unknownService);
    const chosen = this.pick(table.instances);
    if (!chosen) return result(routeAgentResults.noInstance);
    const reply = Buffer.alloc(16);
    reply.writeUInt32BE(12, 0);
    reply.writeInt32BE(routeAgentResults.ok, 4);
    chosen.ip.split('.').forEach((octet, i) => reply.writeUInt8(Number(octet), 8 + i));
    reply.writeUInt16BE(chosen.port, 12);
    reply.writeUInt16BE(typeCode[chosen.protocol] ?? 3, 14);
    return reply;
  }

  /** Weighted random among the instances that are up (among all when none is). */
  private pick(instances: readonly RouteInstance[]): RouteInstance | undefined {
    const up = instances.filter((i) => !i.down && i.weight > 0);
    const pool = up.length ? up : instances.filter((i) => i.weight > 0);
    const total = pool.reduce((s, i) => s + i.weight, 0);
    let r = (this.options.random ?? Math.random)() * total;
    for (const i of pool) {
      r -= i.weight;
      if (r < 0) return i;
    }
    return pool[pool.length - 1];
  }

  /** The service's table (null: no such service), undefined when the console cannot be asked and nothing is cached. */
  private async table(name: string): Promise<RouteTable | null | undefined> {
    const unknownUntil = this.unknown.get(name);
    if (unknownUntil !== undefined) {
      if (Date.now() < unknownUntil) return null;
      this.unknown.delete(name);
    }
    let entry = this.tables.get(name);
    if (!entry) {
      if (this.tables.size >= maxWatched) return undefined;
      entry = { table: null, watching: false };
      this.tables.set(name, entry);
      entry.fetching = this.fetch(name).finally(() => (entry!.fetching = undefined));
      try {
        await withTimeout(entry.fetching, 1000);
      } catch {
        this.tables.delete(name);
        return undefined;
      }
      if (entry.table === null) {
        this.forget(name);
        return null;
      }
      if (!entry.watching) void this.watch(name);
    } else if (entry.fetching) {
      await withTimeout(entry.fetching, 1000).catch(() => undefined);
    }
    return entry.table;
  }

  private async fetch(name: string, wait = 0): Promise<void> {
    const entry = this.tables.get(name);
    if (!entry) return;
    try {
      const res = await this.options.link.request('GET', `/api/routes/${encodeURIComponent(name)}${wait ? `?wait=${wait}` : ''}`, {
        timeoutMs: (wait + 10) * 1000,
        headers: entry.table ? { 'if-none-match': `"${entry.table.version}"` } : {},
      });
      if (res.status === 304) return;
      const table = routeTableFromJson(await res.json());
      if (table.service !== name) throw new Error(`the console answered the table of ${table.service} for ${name}`);
      entry.table = frozenRouteTable(table);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 304) return; // unchanged while the long-poll waited
      if (status === 404) entry.table = null;
      else throw err;
    }
  }

  private forget(name: string): void {
    this.tables.delete(name);
    if (this.unknown.size >= maxUnknown) this.unknown.clear();
    this.unknown.set(name, Date.now() + unknownForMs);
  }

  /** Keeps a looked-up table fresh: long-polls the console for its next change. */
  private async watch(name: string): Promise<void> {
    const entry = this.tables.get(name);
    if (!entry || entry.watching) return;
    entry.watching = true;
    let delay = 500;
    while (!this.closed) {
      try {
        await this.fetch(name, 25);
        delay = 500;
        // The service is gone: no more watching (a lookup asks again, at most every 30 s).
        if (entry.table === null) return this.forget(name);
      } catch {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }
}

function result(code: number): Buffer {
  const reply = Buffer.alloc(8);
  reply.writeUInt32BE(4, 0);
  reply.writeInt32BE(code, 4);
  return reply;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
