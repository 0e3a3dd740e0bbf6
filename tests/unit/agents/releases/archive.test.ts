/**
 * Unpacking a build (apps/agent/releases/archive.ts) against archives made to escape: given a
 * hostile gzip tar, when it is unpacked into a staging folder, then it is refused and nothing is
 * written outside the folder; a plain build unpacks with its modes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ArchiveRefused, extractArchive, hasExecutableStart } from '../../../../apps/agent/releases/archive.ts';
import { base, removeBase, serviceArchive, tarEntry, tgz, type TarEntry } from './fixtures.ts';

after(removeBase);

let n = 0;
/** A staging folder two levels down, with a secret beside it and above it: what an escape would reach. */
function stagingArea() {
  const dir = join(base, `archive-${++n}`);
  const staging = join(dir, 'msec', 'Flight', '.mod.staging');
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(dir, 'secret'), 'top secret');
  return { dir, staging, outsideBefore: listing(dir, staging) };
}

/** Everything under `dir` except inside `staging`. */
function listing(dir: string, staging: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const p = join(at, name);
      if (p === staging) continue;
      out.push(p);
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function refused(entries: TarEntry[] | Buffer, pattern: RegExp, limits?: { maxBytes: number; maxEntries: number }) {
  const area = stagingArea();
  const archive = Buffer.isBuffer(entries) ? entries : tgz(entries);
  await assert.rejects(extractArchive(archive, area.staging, limits), (err: Error) => {
    assert.ok(err instanceof ArchiveRefused, `${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
  assert.deepEqual(listing(area.dir, area.staging), area.outsideBefore, 'something was written outside the staging folder');
  assert.equal(readFileSync(join(area.dir, 'secret'), 'utf8'), 'top secret');
  return area;
}

describe('a plain build', () => {
  test('given a build with start and a sub folder, when unpacked, then its files and exec bits are there', async () => {
    const { staging } = stagingArea();
    const archive = serviceArchive('v1', [{ name: 'conf/', type: '5' }, { name: 'conf/a.txt', data: 'a' }, { name: 'lib/libx.so.1', data: 'x' }, { name: 'lib/libx.so', type: '2', linkName: 'libx.so.1' }]);
    const result = await extractArchive(archive, staging);
    assert.equal(result.entries, 6);
    assert.equal(readFileSync(join(staging, 'version.txt'), 'utf8'), 'v1');
    assert.equal(readFileSync(join(staging, 'lib', 'libx.so'), 'utf8'), 'x', 'a link inside the build is kept');
    assert.ok(hasExecutableStart(staging));
  });

  test('given an archive made by GNU tar (./ names, pax headers for a long name), when unpacked, then it is all there', async () => {
    const src = join(base, `gnu-${++n}`);
    const long = 'd'.repeat(120);
    mkdirSync(join(src, long), { recursive: true });
    writeFileSync(join(src, 'start'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(src, long, 'f'), 'deep');
    const file = join(base, `gnu-${n}.tgz`);
    execFileSync('tar', ['--format=pax', '-czf', file, '-C', src, '.']);
    const { staging } = stagingArea();
    await extractArchive(readFileSync(file), staging);
    assert.equal(readFileSync(join(staging, long, 'f'), 'utf8'), 'deep');
    assert.ok(hasExecutableStart(staging));
  });

  test('given a build without start at its top (only in a folder, or not executable), then it has no executable start', async () => {
    const a = stagingArea();
    await extractArchive(tgz([{ name: 'package/start', mode: 0o755, data: '#!/bin/sh\n' }]), a.staging);
    assert.equal(hasExecutableStart(a.staging), false);
    const b = stagingArea();
    await extractArchive(tgz([{ name: 'start', mode: 0o644, data: '#!/bin/sh\n' }]), b.staging);
    assert.equal(hasExecutableStart(b.staging), false);
    const c = stagingArea();
    await extractArchive(tgz([{ name: 'real', mode: 0o755, data: '#!/bin/sh\n' }, { name: 'start', type: '2', linkName: 'real' }]), c.staging);
    assert.equal(hasExecutableStart(c.staging), false, 'a start that is a link is not taken');
  });
});

describe('hostile archives are refused and write nothing outside', () => {
  test('`../evil` (and deeper climbs)', async () => {
    await refused([{ name: '../evil', data: 'x' }], /leads out/);
    await refused([{ name: 'a/../../../evil', data: 'x' }], /leads out/);
  });

  test('an absolute path', async () => {
    const { dir } = await refused([{ name: `${base}/absolute-evil`, data: 'x' }], /absolute/);
    assert.equal(existsSync(join(base, 'absolute-evil')), false);
    assert.ok(dir);
  });

  test('a symlink to /etc, then a file written through it', async () => {
    await refused([{ name: 'etc', type: '2', linkName: '/etc' }, { name: 'etc/passwd', data: 'root::0:0::/:/bin/sh\n' }], /outside the archive/);
  });

  test('a relative symlink climbing out, then a file written through it', async () => {
    const area = await refused([{ name: 'up', type: '2', linkName: '../../..' }, { name: 'up/secret', data: 'overwritten' }], /outside the archive/);
    assert.equal(readFileSync(join(area.dir, 'secret'), 'utf8'), 'top secret');
  });

  test('a file entry under a name a later symlink takes (links are made last, never written through)', async () => {
    await refused([{ name: 'sub/', type: '5' }, { name: 'link/file', data: 'x' }, { name: 'link', type: '2', linkName: 'sub' }], /appears twice/);
  });

  test('a symlink that leaves only through another symlink (d/l -> .., e -> d/l/..)', async () => {
    await refused([{ name: 'd/', type: '5' }, { name: 'd/l', type: '2', linkName: '..' }, { name: 'e', type: '2', linkName: 'd/l/..' }], /outside the archive/);
  });

  test('a hard link', async () => {
    await refused([{ name: 'start', mode: 0o755, data: '#!/bin/sh\n' }, { name: 'shadow', type: '1', linkName: '/etc/shadow' }], /hard link/);
    await refused([{ name: 'a', data: 'x' }, { name: 'b', type: '1', linkName: 'a' }], /hard link/);
  });

  test('devices and fifos', async () => {
    for (const type of ['3', '4', '6']) await refused([{ name: 'dev', type }], /device or a fifo/);
  });

  test('a huge size claim is refused from its header, before any data is read', async () => {
    // 2 GiB claimed, no data behind it: refused on the claim, not by running out of data.
    await refused([{ name: 'huge', claimedSize: 2 * 1024 ** 3 }], /more than 1073741824 bytes/);
    await refused([{ name: 'dir/', type: '5', claimedSize: 2 * 1024 ** 3 }], /more than 1073741824 bytes/);
  });

  test('files adding up past the size limit, and too many entries', async () => {
    await refused([{ name: 'a', data: 'x'.repeat(600) }, { name: 'b', data: 'x'.repeat(600) }], /more than 1000 bytes/, { maxBytes: 1000, maxEntries: 100 });
    await refused(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: '' })), /more than 10 entries/, { maxBytes: 1000, maxEntries: 10 });
  });

  test('a gzip bomb after the end of the archive is never inflated', async () => {
    const { staging } = stagingArea();
    const archive = gzipSync(Buffer.concat([tarEntry({ name: 'start', mode: 0o755, data: '#!/bin/sh\n' }), Buffer.alloc(64 * 1024 * 1024)]));
    const started = performance.now();
    await extractArchive(archive, staging);
    assert.ok(performance.now() - started < 2000);
    assert.ok(hasExecutableStart(staging));
  });

  test('not a gzip, not a tar, cut short, a bad checksum', async () => {
    await refused(Buffer.from('just text'), /not a gzip tar/);
    await refused(gzipSync(Buffer.from('x'.repeat(1024))), /not a tar archive/);
    await refused(gzipSync(tarEntry({ name: 'start', data: 'x'.repeat(2000) }).subarray(0, 1024)), /ends (in the middle|inside)/);
    const bad = tarEntry({ name: 'start', data: 'x' });
    bad[0] = 'z'.charCodeAt(0);
    await refused(gzipSync(bad), /checksum/);
  });
});
