import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tar, tarGz } from '../../../apps/devpack/tar.ts';
import { extract, readTree, tempDir } from './support.ts';

/** The ustar writer against the system's tar: what goes in comes out, byte for byte. */

const long = `${'deep/'.repeat(20)}file-with-a-long-name-${'x'.repeat(60)}.ts`;
const files = new Map<string, string | Uint8Array>([
  ['README.md', '# hello\n'],
  ['src/flight_service_impl.ts', 'export const a = 1;\n'],
  ['proto/航班.proto', 'package flight; // 春秋航空\n'],
  ['empty.txt', ''],
  ['exactly-512.bin', new Uint8Array(512).fill(7)],
  [long, 'long path\n'],
]);

test('tar -xzf gives back every file, folder and mode; names past 100 bytes use the ustar prefix', () => {
  const t = tempDir();
  try {
    const out = extract(tarGz(files, { root: 'Flight.mod_flight-v1-dev', mtime: 1_700_000_000, executable: new Set(['README.md']) }), t.dir);
    const root = join(out, 'Flight.mod_flight-v1-dev');
    const tree = readTree(root);
    assert.deepEqual([...tree.keys()].sort(), [...files.keys()].sort());
    for (const [path, content] of files) {
      assert.equal(tree.get(path), typeof content === 'string' ? content : Buffer.from(content).toString('utf8'), path);
    }
    assert.equal(statSync(join(root, 'README.md')).mode & 0o777, 0o755);
    assert.equal(statSync(join(root, 'src/flight_service_impl.ts')).mode & 0o777, 0o644);
    assert.equal(statSync(join(root, 'src/flight_service_impl.ts')).mtimeMs, 1_700_000_000_000);
    assert.ok(statSync(join(root, 'src')).isDirectory());
  } finally {
    t.remove();
  }
});

test('tar -tv lists ustar entries with valid checksums, sorted, ending in two zero blocks', () => {
  const raw = tar(files, { mtime: 0 });
  assert.equal(raw.length % 512, 0);
  assert.ok(raw.subarray(raw.length - 1024).every((b) => b === 0));
  assert.equal(raw.subarray(257, 263).toString('latin1'), 'ustar\0');
  const t = tempDir();
  try {
    const listing = execFileSync('tar', ['-tzf', '-'], { input: tarGz(files, { mtime: 0 }), cwd: t.dir, encoding: 'utf8' }).trim().split('\n');
    assert.ok(listing.includes('src/'), listing.join(','));
    assert.ok(listing.includes(long), 'the long path survives');
    assert.deepEqual(listing, [...listing].sort());
  } finally {
    t.remove();
  }
});

test('same files and mtime give the same bytes; gzip wraps the plain archive', () => {
  assert.deepEqual(tarGz(files, { mtime: 5 }), tarGz(new Map([...files].reverse()), { mtime: 5 }));
  assert.deepEqual(gunzipSync(tarGz(files, { mtime: 5 })), tar(files, { mtime: 5 }));
});

test('paths that would escape the folder are refused', () => {
  for (const bad of ['../evil', '/etc/passwd', 'a/../../b', 'a//b', '']) {
    assert.throws(() => tar(new Map([[bad, 'x']])), /bad entry path/, bad);
  }
  assert.throws(() => tar(new Map([['x'.repeat(101), 'x']])), /too long/);
});
