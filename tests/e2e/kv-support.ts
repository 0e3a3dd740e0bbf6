/**
 * What the KV's end-to-end tests share: a free block of instance ports on the test hosts, a
 * Redis cluster client (ioredis, as a user's program would use), and writing and reading back
 * N keys with their values.
 */
import { createServer } from 'node:net';
import { Cluster } from 'ioredis';

/** Whether ip:port can be bound now. */
function bindable(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, ip, () => s.close(() => resolve(true)));
  });
}

/** A base port whose `count` ports (and their cluster bus ports, + 10000) are free on every host. */
export async function freePortBlock(ips: readonly string[], count = 20): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 250);
    let free = true;
    for (const ip of ips) {
      for (let p = base; p < base + count && free; p++) free = (await bindable(ip, p)) && (await bindable(ip, p + 10_000));
      if (!free) break;
    }
    if (free) return base;
  }
  throw new Error('no free block of ports for the KV test');
}

export function clusterClient(seeds: readonly string[]): Cluster {
  return new Cluster(seeds.map((s) => ({ host: s.split(':')[0]!, port: Number(s.split(':')[1]) })), {
    scaleReads: 'master', clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 20 }, retryDelayOnMoved: 10, retryDelayOnTryAgain: 50, retryDelayOnClusterDown: 200,
  });
}

const keyOf = (i: number) => `key:${i}`;
const valueOf = (i: number) => `value-${i}-${(i * 2654435761) % 1000003}`;

/** Writes key:0 … key:n-1, `parallel` requests in flight. */
export async function writeKeys(c: Cluster, n: number, parallel = 2000): Promise<void> {
  for (let i = 0; i < n; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, (_, k) => c.set(keyOf(i + k), valueOf(i + k))));
  }
}

/** How many of key:0 … key:n-1 read back with their own value (errors count as wrong). */
export async function readKeys(c: Cluster, n: number, parallel = 2000): Promise<{ right: number; wrong: number; errors: string[] }> {
  let right = 0;
  const errors: string[] = [];
  for (let i = 0; i < n; i += parallel) {
    const got = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, (_, k) => c.get(keyOf(i + k)).catch((e: Error) => {
      errors.push(e.message);
      return null;
    })));
    got.forEach((v, k) => { if (v === valueOf(i + k)) right++; });
  }
  return { right, wrong: n - right, errors: [...new Set(errors)].slice(0, 5) };
}
