/**
 * Where a projector takes its bus key from:
 * - `MSEC_BUS_KEY` (base64 of at least 32 random bytes) when set: the way to give several
 *   projector processes, on one machine or many, the same key (docker-compose passes it to
 *   the projector service);
 * - else the file `bus.key` in MSEC_HOME, created on the first start (mode 0600). Enough for
 *   one projector; a second projector elsewhere would create a key of its own, and each would
 *   refuse the other's messages (counted as `wrong-key` in `msec status`).
 */
import { chmodSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusKey, BusKeyError } from './bus-key.ts';

export const busKeyEnv = 'MSEC_BUS_KEY';
export const busKeyFileName = 'bus.key';

export interface LoadedBusKey {
  key: BusKey;
  /** `MSEC_BUS_KEY`, or the key file's path (with "created" on the first start). */
  source: string;
  created: boolean;
}

export function loadBusKey(home: string, env: Record<string, string | undefined> = process.env): LoadedBusKey {
  const fromEnv = env[busKeyEnv];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { key: BusKey.fromBase64(fromEnv, busKeyEnv), source: busKeyEnv, created: false };
  const file = join(home, busKeyFileName);
  const existing = readKeyFile(file);
  if (existing) return { key: existing, source: file, created: false };
  const key = BusKey.generate();
  // Written whole under another name, then linked: a crash never leaves half a key, and of two
  // processes starting on one home at once the first link wins and the other reads its key.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${key.toBase64()}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600); // the umask may have narrowed the mode, never widened it; make it exact
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: readKeyFile(file)!, source: file, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { key, source: file, created: true };
}

function readKeyFile(file: string): BusKey | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new BusKeyError(`${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${file}\` and start again`);
  }
  return BusKey.fromBase64(readFileSync(file, 'utf8'), file);
}
