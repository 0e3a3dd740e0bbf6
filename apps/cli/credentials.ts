import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.ts';

/**
 * Tokens written by `msec login`, one per console URL, in `credentials.json` under
 * $MSEC_CONFIG_DIR (default ~/.config/msec). The file holds secrets: mode 0600, folder 0700.
 */

export interface StoredToken {
  token: string;
  tokenId: string;
  user: string;
  createdAt: string;
}

export interface CredentialsFile {
  version: 1;
  consoles: Record<string, StoredToken>;
}

export type Env = Record<string, string | undefined>;

export function configDir(env: Env): string {
  return env.MSEC_CONFIG_DIR || join(env.HOME || homedir(), '.config', 'msec');
}

export function credentialsPath(env: Env): string {
  return join(configDir(env), 'credentials.json');
}

/** The key a console is stored under: its URL without a trailing slash. */
export function consoleKey(url: string): string {
  return url.replace(/\/+$/, '');
}

export async function readCredentials(env: Env): Promise<CredentialsFile> {
  const path = credentialsPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, consoles: {} };
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    const consoles = parsed && typeof parsed.consoles === 'object' && parsed.consoles ? parsed.consoles : {};
    return { version: 1, consoles };
  } catch {
    throw new CliError(`${path} is not valid JSON: fix or delete it, then run \`msec login\``);
  }
}

export async function findToken(env: Env, consoleUrl: string): Promise<StoredToken | undefined> {
  const file = await readCredentials(env);
  return file.consoles[consoleKey(consoleUrl)];
}

/** Writes the whole file through a 0600 temp file and a rename, so a crash never leaves half a file. */
export async function writeCredentials(env: Env, file: CredentialsFile): Promise<void> {
  const dir = configDir(env);
  const path = credentialsPath(env);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    await chmod(tmp, 0o600); // the umask or an old file must not widen it
    await rename(tmp, path);
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

export async function storeToken(env: Env, consoleUrl: string, entry: StoredToken): Promise<StoredToken | undefined> {
  const file = await readCredentials(env);
  const key = consoleKey(consoleUrl);
  const previous = file.consoles[key];
  file.consoles[key] = entry;
  await writeCredentials(env, file);
  return previous;
}

/** Removes the entry of a console; answers the removed entry, if there was one. */
export async function forgetToken(env: Env, consoleUrl: string): Promise<StoredToken | undefined> {
  const file = await readCredentials(env);
  const key = consoleKey(consoleUrl);
  const previous = file.consoles[key];
  if (!previous) return undefined;
  delete file.consoles[key];
  await writeCredentials(env, file);
  return previous;
}
