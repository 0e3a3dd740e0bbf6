/**
 * Where a projector takes its bus key from:
 * - `MSEC_BUS_KEY` (base64 of at least 32 random bytes) when set: the way to give several
 *   projector processes, on one machine or many, the same key (docker-compose passes it to
 *   the projector service);
 * - else the file `bus.key` in MSEC_HOME, created on the first start (mode 0600). Enough for
 *   one projector; a second projector elsewhere would create a key of its own, and each would
 *   refuse the other's messages (counted as `wrong-key` in `msec status`).
 */
import { join } from 'node:path';
import { BusKey, BusKeyError } from './bus-key.ts';
import { createSecretFile, readSecretFile, SecretFileError } from './secret-file.ts';

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
  const created = createSecretFile(file, `${BusKey.generate().toBase64()}\n`);
  return { key: BusKey.fromBase64(created.text, file), source: file, created: created.created };
}

function readKeyFile(file: string): BusKey | undefined {
  try {
    const text = readSecretFile(file);
    return text === undefined ? undefined : BusKey.fromBase64(text, file);
  } catch (err) {
    if (err instanceof SecretFileError) throw new BusKeyError(err.message);
    throw err;
  }
}
