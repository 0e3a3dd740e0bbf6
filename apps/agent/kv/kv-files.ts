/**
 * The folder of one Redis instance, `<root>/kv/<cluster>/<port>/` = {bin/start, etc/redis.conf,
 * data/, log/}: every path goes through insideRoot (nothing planted under the root — a symlink
 * out of it — is followed), files are replaced whole (a crash leaves the old one or the new one).
 */
import { accessSync, chmodSync, constants, mkdirSync, rmdirSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { KvPayload } from '../../../schemas/agent.ts';
import { insideRoot } from '../executors.ts';
import { kvPathOf } from './kv-payload.ts';
import { redisStartScript } from './redis-config.ts';

export interface KvInstanceDirs {
  /** Absolute (the root's real path): the supervisor's install folder. */
  installDir: string;
  dataDir: string;
}

/** The instance's folders (made when missing); `fresh` empties data/ first. */
export function prepareInstance(root: string, p: KvPayload, fresh: boolean): KvInstanceDirs {
  const rel = kvPathOf(p);
  const installDir = insideRoot(root, rel, { createParents: true });
  mkdirSync(installDir, { recursive: true, mode: 0o755 });
  for (const dir of ['bin', 'etc', 'log']) mkdirSync(insideRoot(root, `${rel}/${dir}`), { recursive: true, mode: 0o755 });
  const dataDir = insideRoot(root, `${rel}/data`);
  // A new node: never an old node's keys, AOF or nodes.conf (its cluster identity).
  if (fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return { installDir, dataDir };
}

/** Writes etc/redis.conf and bin/start (the config made by redisConfig). */
export function writeInstanceFiles(root: string, p: KvPayload, config: string): void {
  const rel = kvPathOf(p);
  writeFileAtomic(insideRoot(root, `${rel}/etc/redis.conf`), config, 0o644);
  writeFileAtomic(insideRoot(root, `${rel}/bin/start`), redisStartScript, 0o755);
}

/** Deletes the instance's folder, and the cluster's when that leaves it empty. False when there was none. */
export function removeInstance(root: string, p: KvPayload): boolean {
  let dir: string;
  try {
    dir = insideRoot(root, kvPathOf(p));
  } catch (err) {
    // No kv/<cluster>/ at all: nothing to remove.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  let existed = true;
  try {
    accessSync(dir);
  } catch {
    existed = false;
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(dirname(dir));
  } catch {
    // other instances of the cluster remain (or it is gone already)
  }
  return existed;
}

/** The redis-server program on `searchPath` (a PATH), or undefined when it is not installed. */
export function findRedisServer(searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function writeFileAtomic(target: string, content: string, mode: number): void {
  const temp = `${target}.msec-${process.pid}.tmp`;
  // 'wx' after removing whatever sits at the temporary name: a planted link is never written through.
  rmSync(temp, { force: true });
  writeFileSync(temp, content, { mode, flag: 'wx' });
  chmodSync(temp, mode);
  renameSync(temp, target);
}
