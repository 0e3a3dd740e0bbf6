import { gzipSync } from 'node:zlib';

/**
 * A tar.gz of a few generated text files, without a dependency: POSIX ustar (what every
 * `tar` reads), gzip from node:zlib. Directories get their own entries so an empty-handed
 * `tar -xzf` makes them with sane modes; entries are sorted, so the same files give the
 * same bytes (with the same mtime).
 */

export type TarFiles = ReadonlyMap<string, string | Uint8Array>;

export interface TarOptions {
  /** Folder every entry goes under (`Flight.mod_flight-v1-dev`), none when omitted. */
  root?: string;
  /** Modification time of every entry, in epoch seconds (default: now). */
  mtime?: number;
  /** Paths (as in `files`) written executable (0755). */
  executable?: ReadonlySet<string>;
}

const BLOCK = 512;

export function tarGz(files: TarFiles, o: TarOptions = {}): Buffer {
  return gzipSync(tar(files, o), { level: 9 });
}

/** The uncompressed archive. */
export function tar(files: TarFiles, o: TarOptions = {}): Buffer {
  const mtime = o.mtime ?? Math.floor(Date.now() / 1000);
  const root = o.root ? checkPath(o.root) : undefined;
  const entries: { path: string; data?: Buffer; mode: number }[] = [];
  const dirs = new Set<string>();
  if (root) dirs.add(root);
  for (const [path, content] of files) {
    const full = root ? `${root}/${checkPath(path)}` : checkPath(path);
    const parts = full.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    entries.push({ path: full, data, mode: o.executable?.has(path) ? 0o755 : 0o644 });
  }
  for (const d of dirs) entries.push({ path: `${d}/`, mode: 0o755 });
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const blocks: Buffer[] = [];
  for (const e of entries) {
    blocks.push(header(e.path, e.data?.length ?? 0, e.mode, mtime, e.data ? '0' : '5'));
    if (e.data) {
      blocks.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(BLOCK * 2)); // end of archive: two zero blocks
  return Buffer.concat(blocks);
}

/** Relative, `/`-separated, no `.`/`..` segments: an archive never writes outside its folder. */
function checkPath(path: string): string {
  const clean = path.replace(/\/+$/, '');
  if (clean === '' || clean.startsWith('/') || clean.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`tar: bad entry path "${path}"`);
  }
  return clean;
}

function header(path: string, size: number, mode: number, mtime: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(path);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write('msec', 265, 32, 'ascii'); // uname
  h.write('msec', 297, 32, 'ascii'); // gname
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

/** ustar keeps 100 bytes of name and 155 of prefix, split at a `/`. */
function splitName(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return [prefix, name];
  }
  throw new Error(`tar: path too long for ustar: "${path}"`);
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in ${length - 1} octal digits`);
  h.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}
