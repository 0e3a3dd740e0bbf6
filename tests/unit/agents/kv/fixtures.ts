/**
 * What the kv tests share: agent roots in a temp folder, a loopback address per test host,
 * free ports (the instance's and its cluster bus, + 10000), kv payloads, KvHosts, a tiny RESP
 * client to talk to the real redis-server, and a teardown that kills every redis any of them
 * started (found by their working folder in /proc, so a detached host's instances go too).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { KvHost, type KvHostOptions } from '../../../../apps/agent/kv/kv-host.ts';
import type { KvPayload } from '../../../../schemas/agent.ts';
import { agentRoots, waitFor } from '../host-fixtures.ts';

export { hostIp, waitFor } from '../host-fixtures.ts';
export const { base, agentRoot, removeBase } = agentRoots('msec-kv-');

function canListen(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on `ip` whose cluster bus port (+ 10000) is free too. */
export async function freePort(ip: string): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if ((await canListen(ip, port)) && (await canListen(ip, port + 10_000))) return port;
  }
  throw new Error(`no free port pair on ${ip}`);
}

export function kvPayload(o: Partial<KvPayload> & Pick<KvPayload, 'port'>): KvPayload {
  return {
    cluster: 'c1', operation: 'start', maxmemoryBytes: 64 * 1024 * 1024, maxmemoryPolicy: 'noeviction', nodeTimeoutMs: 5000,
    appendonly: true, fresh: false, healthTimeoutMs: 10_000, stopTimeoutMs: 5000, ...o,
  };
}

/** The paths a kv command's signature binds. */
export const bodyFor = (p: Pick<KvPayload, 'cluster' | 'port'>) => ({ paths: [`kv/${p.cluster}/${p.port}`] });

export const quick: Partial<KvHostOptions> = { backoff: { firstMs: 200, maxMs: 800, resetAfterMs: 60_000 }, watchEveryMs: 100 };

const hosts: KvHost[] = [];

export function kvHost(root: string, ip: string, o: Partial<KvHostOptions> = quick): KvHost {
  const host = new KvHost({ root, ip, logger: pino({ level: 'silent' }), ...o });
  hosts.push(host);
  return host;
}

/** Detaches every host made, then kills every redis-server any of them started, and waits until they are gone. */
export async function teardown(): Promise<void> {
  for (const host of hosts.splice(0)) host.detach();
  for (const pid of redisPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await waitFor('the tests\' redis-servers gone', () => redisPids().length === 0);
}

/**
 * redis-servers started by the tests' hosts, by their working folder (redis moves to its data/;
 * its environment cannot tell: redis writes its process title over it): under the temp folder,
 * or under `installDir` when given.
 */
export function redisPids(installDir?: string): number[] {
  const under = `${installDir ?? base}/`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readlinkSync(`/proc/${name}/cwd`).startsWith(under)) continue;
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').startsWith('redis-server')) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (!/^ [ZX] /.test(stat.slice(stat.lastIndexOf(')') + 1))) pids.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

/** One command to redis on a connection of its own: the reply as text (`+OK`, `-ERR …`, `:1`, the bulk's content, or null), or the connection error's code. */
export function redis(ip: string, port: number, ...args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    let buffer = Buffer.alloc(0);
    socket.setTimeout(3000, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const text = buffer.toString();
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      const first = text.slice(0, end);
      let reply: string | null | undefined = first;
      if (first.startsWith('$')) {
        const length = Number(first.slice(1));
        if (length < 0) reply = null;
        else if (buffer.length >= end + 2 + length + 2) reply = buffer.subarray(end + 2, end + 2 + length).toString();
        else reply = undefined;
      }
      if (reply === undefined) return;
      socket.end();
      resolve(reply);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Every file and folder under `dir` (folders end in /), for "nothing was written" checks. */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string, rel: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        out.push(`${r}/`);
        walk(join(at, entry.name), r);
      } else out.push(r);
    }
  };
  walk(dir, '');
  return out;
}
