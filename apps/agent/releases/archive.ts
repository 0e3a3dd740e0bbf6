/**
 * Unpacks a service's build (a gzip tar) into a fresh staging folder. Our own reader rather
 * than tar(1): every entry is judged from its header before any byte of it is written, so an
 * archive made to escape (a `..` or absolute name, a hard link, a device, a symlink leading
 * out, a file written through a symlink, a size meant to fill the disk) writes nothing outside
 * the staging folder and is refused whole. Symlinks are made last, once every file is written,
 * so no entry can be written through one; each is then checked where it really leads.
 */
import { closeSync, constants, lstatSync, openSync, readlinkSync, realpathSync, symlinkSync, writeSync } from 'node:fs';
import { isAbsolute, join, posix, relative } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { makeFoldersStepwise } from '../stepwise-folders.ts';

export interface ArchiveLimits {
  /** Sum of the files' sizes. */
  maxBytes: number;
  maxEntries: number;
}

export const defaultArchiveLimits: ArchiveLimits = { maxBytes: 1024 ** 3, maxEntries: 100_000 };
/** pax headers and GNU long names: a few names, never megabytes. */
const maxMetadataBytes = 1024 * 1024;
const block = 512;

export class ArchiveRefused extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'ArchiveRefused';
  }
}

interface Header {
  name: string;
  mode: number;
  size: number;
  type: string;
  linkName: string;
}

/** Unpacks `tgz` into `staging` (an empty folder). Throws ArchiveRefused; the caller removes the folder then. */
export async function extractArchive(tgz: Buffer, staging: string, limits: ArchiveLimits = defaultArchiveLimits): Promise<{ entries: number; bytes: number }> {
  const gunzip = Readable.from([tgz]).pipe(createGunzip());
  const input = new ByteReader(gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const links: { at: string; target: string }[] = [];
  let entries = 0;
  let bytes = 0;
  let pax: Record<string, string> = {};
  try {
    for (;;) {
      const raw = await input.block();
      // The end: a zero block (or the data simply ends). Nothing after it is read, so a gzip
      // bomb padding the archive is never inflated.
      if (!raw || raw.every((b) => b === 0)) break;
      const h = parseHeader(raw);
      if (++entries > limits.maxEntries) throw new ArchiveRefused(`the archive has more than ${limits.maxEntries} entries`);
      if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
        if (h.size > maxMetadataBytes) throw new ArchiveRefused(`an extended header of ${h.size} bytes is too large`);
        const data = (await input.exactly(padded(h.size))).subarray(0, h.size);
        if (h.type === 'x') pax = { ...pax, ...parsePax(data) };
        else if (h.type === 'L') pax = { ...pax, path: cString(data) };
        else if (h.type === 'K') pax = { ...pax, linkpath: cString(data) };
        continue;
      }
      const size = pax.size !== undefined ? Number(pax.size) : h.size;
      const name = pax.path ?? h.name;
      const linkName = pax.linkpath ?? h.linkName;
      pax = {};
      if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveRefused(`${name} has no valid size`);
      // Counted for every entry, from its header: data skipped (a folder "of" 2^40 bytes) is inflated all the same.
      bytes += size;
      if (bytes > limits.maxBytes) throw new ArchiveRefused(`the archive unpacks to more than ${limits.maxBytes} bytes (at ${name}, which claims ${size})`);
      const parts = safeParts(name);
      switch (h.type) {
        case '0': case '\0': case '7': {
          if (!parts.length) throw new ArchiveRefused(`a file entry has no name`);
          await writeEntry(input, staging, parts, size, (h.mode & 0o755) | 0o600);
          break;
        }
        case '5':
          if (parts.length) makeFolders(staging, parts);
          await input.skip(padded(size));
          break;
        case '2': {
          if (!parts.length) throw new ArchiveRefused('a symlink entry has no name');
          if (isAbsolute(linkName) || linkName === '' || linkName.includes('\0')) throw new ArchiveRefused(`the symlink ${name} points to ${JSON.stringify(linkName)}, outside the archive`);
          const lands = posix.normalize(posix.join(posix.dirname(parts.join('/')), linkName));
          if (lands === '..' || lands.startsWith('../')) throw new ArchiveRefused(`the symlink ${name} points to ${linkName}, outside the archive`);
          links.push({ at: parts.join('/'), target: linkName });
          await input.skip(padded(size));
          break;
        }
        case '1':
          throw new ArchiveRefused(`${name} is a hard link (to ${linkName}): builds must not hold hard links`);
        case '3': case '4': case '6':
          throw new ArchiveRefused(`${name} is a device or a fifo`);
        default:
          throw new ArchiveRefused(`${name} has the unknown entry type ${JSON.stringify(h.type)}`);
      }
    }
    for (const link of links) makeLink(staging, link.at, link.target);
    // Checked once all exist: a link can lead somewhere else through a link made after it.
    for (const link of links) checkLink(staging, link.at, link.target);
  } catch (err) {
    if (err instanceof ArchiveRefused) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new ArchiveRefused(code.startsWith('Z_') || code === 'ERR_INVALID_ARG_TYPE' ? `the artifact is not a gzip tar (${(err as Error).message})` : `cannot unpack the artifact: ${(err as Error).message}`);
  } finally {
    gunzip.destroy();
  }
  return { entries, bytes };
}

/** Name parts of an entry, refusing absolute names and any `..` (a leading `./` is fine). */
function safeParts(name: string): string[] {
  if (name.includes('\0')) throw new ArchiveRefused(`an entry name holds a NUL byte`);
  if (name.startsWith('/')) throw new ArchiveRefused(`${name} is an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ArchiveRefused(`${name} leads out of the archive (..)`);
  return parts;
}

/** Makes the folders of `parts` one by one; anything in the way that is not a real folder is refused. */
function makeFolders(staging: string, parts: string[]): string {
  return makeFoldersStepwise(staging, parts, (_at, st) => {
    if (!st.isDirectory()) throw new ArchiveRefused(`${parts.join('/')} is both a folder and a file in the archive`);
  });
}

async function writeEntry(input: ByteReader, staging: string, parts: string[], size: number, mode: number): Promise<void> {
  const folder = makeFolders(staging, parts.slice(0, -1));
  let fd: number;
  try {
    // Exclusive and not following links: an entry given twice, or over a folder, is refused.
    fd = openSync(join(folder, parts[parts.length - 1]!), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ArchiveRefused(`${parts.join('/')} appears twice in the archive`);
    throw err;
  }
  try {
    let left = size;
    while (left > 0) {
      const chunk = await input.some(left);
      if (!chunk) throw new ArchiveRefused(`the archive ends inside ${parts.join('/')}`);
      writeSync(fd, chunk);
      left -= chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  await input.skip(padded(size) - size);
}

function makeLink(staging: string, at: string, target: string): void {
  const parts = at.split('/');
  const folder = makeFolders(staging, parts.slice(0, -1));
  try {
    symlinkSync(target, join(folder, parts[parts.length - 1]!));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ArchiveRefused(`${at} appears twice in the archive`);
    throw err;
  }
}

/** Where a symlink really leads (through other links too): inside the staging folder, or it is refused. */
function checkLink(staging: string, at: string, target: string): void {
  const path = join(staging, at);
  // The native realpath: resolves `..` after a link the way the kernel will (node's own does it lexically).
  const realStaging = realpathSync.native(staging);
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
    // Dangling: harmless only if it cannot climb (a `..` through a link to a folder could).
    if (target.split('/').includes('..')) throw new ArchiveRefused(`the symlink ${at} points to ${readlinkSync(path)}, which does not resolve inside the archive`);
    return;
  }
  const rel = relative(realStaging, real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ArchiveRefused(`the symlink ${at} leads to ${real}, outside the archive`);
}

function parseHeader(raw: Buffer): Header {
  const stored = octal(raw, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : raw[i]!;
  if (sum !== stored) throw new ArchiveRefused('the artifact is not a tar archive (a header checksum does not match)');
  const ustar = raw.toString('latin1', 257, 262) === 'ustar';
  const name = cString(raw.subarray(0, 100));
  const prefix = ustar ? cString(raw.subarray(345, 500)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: octal(raw, 100, 8, 'mode'),
    size: numeric(raw, 124, 12),
    type: String.fromCharCode(raw[156]!),
    linkName: cString(raw.subarray(157, 257)),
  };
}

/** A size field: octal, or GNU's base-256 for large values (refused above 2^53: no build is that large). */
function numeric(raw: Buffer, at: number, length: number): number {
  if ((raw[at]! & 0x80) === 0) return octal(raw, at, length, 'size');
  let value = raw[at]! & 0x7f;
  for (let i = at + 1; i < at + length; i++) {
    value = value * 256 + raw[i]!;
    if (!Number.isSafeInteger(value)) throw new ArchiveRefused('an entry claims a size beyond any limit');
  }
  return value;
}

function octal(raw: Buffer, at: number, length: number, what: string): number {
  const text = raw.toString('latin1', at, at + length).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]*$/.test(text)) throw new ArchiveRefused(`the artifact is not a tar archive (the ${what} field is ${JSON.stringify(text)})`);
  return text === '' ? 0 : parseInt(text, 8);
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end === -1 ? data.length : end);
}

/** pax records: "<length> <key>=<value>\n". */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.toString('latin1', at, space));
    if (space === -1 || !Number.isSafeInteger(length) || length <= space - at || at + length > data.length) throw new ArchiveRefused('a pax header is damaged');
    const record = data.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

function padded(size: number): number {
  return Math.ceil(size / block) * block;
}

/** Bytes of an async stream of chunks, taken in the sizes the tar format wants. */
class ByteReader {
  private pending: Buffer[] = [];

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** The next 512-byte block, or undefined at a clean end. */
  async block(): Promise<Buffer | undefined> {
    const first = await this.some(block);
    if (!first) return undefined;
    if (first.length === block) return first;
    return Buffer.concat([first, await this.exactly(block - first.length)]);
  }

  /** Between 1 and `max` bytes, or undefined at the end. */
  async some(max: number): Promise<Buffer | undefined> {
    while (this.pending.length === 0) {
      const next = await this.source.next();
      if (next.done) return undefined;
      if (next.value.length) this.pending.push(next.value);
    }
    const head = this.pending[0]!;
    if (head.length <= max) {
      this.pending.shift();
      return head;
    }
    this.pending[0] = head.subarray(max);
    return head.subarray(0, max);
  }

  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.some(n - got);
      if (!part) throw new ArchiveRefused('the archive ends in the middle of an entry');
      parts.push(part);
      got += part.length;
    }
    return Buffer.concat(parts);
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const part = await this.some(left);
      if (!part) throw new ArchiveRefused('the archive ends in the middle of an entry');
      left -= part.length;
    }
  }
}

/** The unpacked build has an executable regular `start` at its top (what the supervisor runs). */
export function hasExecutableStart(staging: string): boolean {
  try {
    const st = lstatSync(join(staging, 'start'));
    return st.isFile() && (st.mode & 0o100) !== 0;
  } catch {
    return false;
  }
}
