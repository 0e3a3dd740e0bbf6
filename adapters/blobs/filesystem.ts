/**
 * Content-addressed files (by sha256) in a folder: what the console pushes to agents and what
 * agents send back (pulled files). Written whole under another name and renamed, so a reader
 * never sees half a blob; a blob is stored once however often it is used. Reads check the
 * digest again: a file damaged on disk is never served as the content it claims to be.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const digestPattern = /^[0-9a-f]{64}$/;

export class BlobStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  static isDigest(text: string): boolean {
    return digestPattern.test(text);
  }

  put(bytes: Uint8Array): { sha256: string; size: number } {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = this.fileOf(sha256);
    if (!this.has(sha256)) {
      mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(temp, bytes, { mode: 0o600 });
      renameSync(temp, file);
    }
    return { sha256, size: bytes.length };
  }

  has(sha256: string): boolean {
    if (!BlobStore.isDigest(sha256)) return false;
    try {
      return statSync(this.fileOf(sha256)).isFile();
    } catch {
      return false;
    }
  }

  /** The content, or undefined when absent or damaged. */
  get(sha256: string): Buffer | undefined {
    if (!this.has(sha256)) return undefined;
    const bytes = readFileSync(this.fileOf(sha256));
    return createHash('sha256').update(bytes).digest('hex') === sha256 ? bytes : undefined;
  }

  private fileOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }
}
