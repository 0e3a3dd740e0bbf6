/**
 * Small JSON files the release host keeps (supervised services, the journal, an install's
 * record): written whole and flushed before they replace the old one, so a crash leaves the
 * old file or the new one, never half of either.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';

export function writeJsonAtomic(file: string, data: unknown, mode = 0o600): void {
  const temp = `${file}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  // 'wx': a planted file or link at the temporary name is never written through.
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, JSON.stringify(data, null, 1));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** The parsed file, or undefined when there is none. A damaged file throws, naming it. */
export function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file} is damaged (${(err as Error).message}): move it away and start again`);
  }
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}
