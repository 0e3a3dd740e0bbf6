/**
 * Files that hold secrets (keys): readable by their owner alone, written whole or not at all.
 * A file that other users can read is refused with the command that fixes it.
 */
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class SecretFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFileError';
  }
}

/** The file's text, or undefined when it does not exist. */
export function readSecretFile(file: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new SecretFileError(`${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${file}\` and start again`);
  }
  return readFileSync(file, 'utf8');
}

/**
 * Writes `text` to `file` (mode 0600) unless it exists. Written whole under another name, then
 * linked: a crash never leaves half a secret, and of two processes creating it at once the
 * first link wins and the other gets the winner's text.
 */
export function createSecretFile(file: string, text: string): { text: string; created: boolean } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600); // the umask may have narrowed the mode, never widened it; make it exact
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { text: readSecretFile(file)!, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { text, created: true };
}
