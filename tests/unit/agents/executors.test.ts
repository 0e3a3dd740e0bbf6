/**
 * What an agent does for a verified command, against hostile paths and programs
 * (apps/agent/executors.ts): nothing leaves the agent's root (`..`, absolute paths, NUL,
 * symlinks to outside as the file or as a parent), a pushed file with the wrong digest writes
 * nothing, output is bounded, and the time limit holds also for programs that leave children.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { PathOutsideRoot, insideRoot, readPulledFile, runExec, writePushedFile } from '../../../apps/agent/executors.ts';

const base = mkdtempSync(join(tmpdir(), 'msec-executors-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
/** A fresh agent root and, beside it, a folder outside it holding a secret. */
function roots() {
  const dir = join(base, String(++n));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(root, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'top secret');
  return { root, outside };
}
const refused = (run: () => unknown) => assert.throws(run, PathOutsideRoot);
const push = (content: Buffer, path: string, o: { sha256?: string; size?: number; mode?: number } = {}) =>
  ({ path, sha256: o.sha256 ?? sha256Hex(content), size: o.size ?? content.length, mode: o.mode ?? 0o644 });

describe('insideRoot', () => {
  test('`..`, absolute paths, NUL and the empty path are refused', () => {
    const { root } = roots();
    for (const path of ['..', '../x', 'a/../../x', 'a/..', 'a\\..\\..\\x', '/etc/passwd', '//etc/passwd', 'a\0b', '', '.', './']) {
      refused(() => insideRoot(root, path));
      refused(() => insideRoot(root, path, { createParents: true }));
    }
  });

  test('a plain path inside the root is taken', () => {
    const { root } = roots();
    assert.equal(insideRoot(root, 'etc/app.conf', { createParents: true }).endsWith(join('root', 'etc', 'app.conf')), true);
  });

  test('a symlink as the file itself is refused (pointing out, or even in)', () => {
    const { root, outside } = roots();
    symlinkSync(join(outside, 'secret'), join(root, 'leak'));
    writeFileSync(join(root, 'real'), 'x');
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    refused(() => insideRoot(root, 'leak'));
    refused(() => insideRoot(root, 'alias'));
  });

  test('a symlinked parent folder pointing out is refused', () => {
    const { root, outside } = roots();
    symlinkSync(outside, join(root, 'out'));
    refused(() => insideRoot(root, 'out/secret'));
    mkdirSync(join(root, 'deep', 'er'), { recursive: true });
    symlinkSync(outside, join(root, 'deep', 'er', 'up'));
    refused(() => insideRoot(root, 'deep/er/up/secret'));
  });

  test('a link whose target climbs through another link is judged by where the kernel lands, not by its text', () => {
    const { root } = roots();
    // d/l -> .. (the root); e -> d/l/.. : node's JS realpath reads "d/l/.." as "d", the kernel as the root's parent.
    mkdirSync(join(root, 'd'));
    symlinkSync('..', join(root, 'd', 'l'));
    symlinkSync('d/l/..', join(root, 'e'));
    refused(() => insideRoot(root, 'e/outside/secret'));
    refused(() => insideRoot(root, 'e/x', { createParents: true }));
  });

  test('creating parents through a symlink pointing out creates nothing outside', () => {
    const { root, outside } = roots();
    symlinkSync(outside, join(root, 'out'));
    refused(() => insideRoot(root, 'out/new/deeper/file', { createParents: true }));
    assert.deepEqual(readdirSync(outside), ['secret'], 'a folder was made outside the root');
  });
});

describe('pushed files', () => {
  test('the right content is written with its mode', () => {
    const { root } = roots();
    const content = Buffer.from('#!/bin/sh\necho ok\n');
    const outcome = writePushedFile(root, push(content, 'bin/run.sh', { mode: 0o755 }), content);
    assert.equal(outcome.exitCode, 0, outcome.error);
    assert.deepEqual(readFileSync(join(root, 'bin', 'run.sh')), content);
  });

  test('a wrong digest or size writes nothing', () => {
    const { root } = roots();
    const content = Buffer.from('good');
    const evil = Buffer.from('evil');
    for (const p of [push(content, 'etc/app.conf'), push(evil, 'etc/app.conf', { size: 99 })]) {
      const outcome = writePushedFile(root, p, evil.length === p.size && p.sha256 === sha256Hex(evil) ? Buffer.from('other') : evil);
      assert.equal(outcome.exitCode, -1);
      assert.match(outcome.error, /does not match the signed digest .* nothing was written/);
    }
    assert.deepEqual(readdirSync(root), [], 'something was written');
  });

  test('a push through a symlink, or to a path outside, writes nothing outside', () => {
    const { root, outside } = roots();
    symlinkSync(join(outside, 'secret'), join(root, 'leak'));
    symlinkSync(outside, join(root, 'out'));
    const content = Buffer.from('owned');
    for (const path of ['leak', 'out/secret', 'out/new', '../outside/secret']) refused(() => writePushedFile(root, push(content, path), content));
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'top secret');
    assert.deepEqual(readdirSync(outside), ['secret']);
  });

  test('a symlink planted at the temporary name does not redirect the write', () => {
    const { root, outside } = roots();
    const content = Buffer.from('replacement');
    symlinkSync(join(outside, 'secret'), join(root, `app.conf.msec-${process.pid}.tmp`));
    const outcome = writePushedFile(root, push(content, 'app.conf'), content);
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'top secret', 'the write went through the planted symlink');
    if (outcome.exitCode === 0) assert.deepEqual(readFileSync(join(root, 'app.conf')), content);
  });
});

describe('pulled files', () => {
  test('a symlink, a folder, and a file above the limit are refused', () => {
    const { root, outside } = roots();
    symlinkSync(join(outside, 'secret'), join(root, 'leak'));
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'big'), Buffer.alloc(100));
    refused(() => readPulledFile(root, { path: 'leak', maxBytes: 1000 }));
    assert.match(readPulledFile(root, { path: 'dir', maxBytes: 1000 }).error, /not a regular file/);
    assert.match(readPulledFile(root, { path: 'big', maxBytes: 99 }).error, /100 bytes, above the 99/);
    assert.equal(readPulledFile(root, { path: 'big', maxBytes: 100 }).data?.length, 100);
    refused(() => readPulledFile(root, { path: '../outside/secret', maxBytes: 1000 }));
  });
});

describe('exec', () => {
  const exec = (root: string, argv: string[], o: { timeoutMs?: number; maxOutputBytes?: number; cwd?: string } = {}) => {
    const chunks: [number, number][] = [];
    return runExec(root, { argv, timeoutMs: o.timeoutMs ?? 10_000, maxOutputBytes: o.maxOutputBytes ?? 1 << 20, cwd: o.cwd ?? '' }, (offset, data) => chunks.push([offset, data.length]))
      .then((outcome) => ({ ...outcome, chunks }));
  };

  test('output is kept up to the limit, the rest is counted, and what is streamed is what is kept', async () => {
    const { root } = roots();
    const outcome = await exec(root, ['head', '-c', '300000', '/dev/zero'], { maxOutputBytes: 1000 });
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.output.length, 1000);
    assert.equal(outcome.outputBytes, 300_000);
    assert.equal(outcome.chunks.reduce((s, [, len]) => s + len, 0), 1000);
  });

  test('a program past its time limit is stopped', async () => {
    const { root } = roots();
    const started = Date.now();
    const outcome = await exec(root, ['sleep', '30'], { timeoutMs: 200 });
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.exitCode, -1);
    assert.match(outcome.error, /killed by SIGTERM after the 200 ms time limit/);
    assert.ok(Date.now() - started < 5000);
  });

  test('the time limit holds for a shell whose child keeps the output open', async () => {
    const { root } = roots();
    const started = Date.now();
    const outcome = await exec(root, ['sh', '-c', 'sleep 30; echo never'], { timeoutMs: 300 });
    assert.equal(outcome.timedOut, true);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  test('a program that ignores SIGTERM is killed', async () => {
    const { root } = roots();
    const started = Date.now();
    const outcome = await exec(root, ['sh', '-c', 'trap "" TERM; sleep 30'], { timeoutMs: 200 });
    assert.equal(outcome.timedOut, true);
    assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
  });

  test('a program that exits leaving a background child holding the output open gets its result at once', async () => {
    const { root } = roots();
    const started = Date.now();
    const outcome = await exec(root, ['sh', '-c', 'sleep 5 & echo started'], { timeoutMs: 20_000 });
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    assert.equal(outcome.timedOut, false);
    assert.equal(outcome.exitCode, 0);
    assert.match(outcome.output.toString(), /started/);
  });

  test('the agent\'s secrets are not in the environment of commands', async () => {
    const { root } = roots();
    process.env.MSEC_AGENT_TOKEN = 'msec-agent.0123456789abcdef.secret';
    try {
      const outcome = await exec(root, ['sh', '-c', 'echo "${MSEC_AGENT_TOKEN:-none}"']);
      assert.equal(outcome.output.toString(), 'none\n');
    } finally {
      delete process.env.MSEC_AGENT_TOKEN;
    }
  });

  test('a working directory outside the root runs nothing', async () => {
    const { root, outside } = roots();
    symlinkSync(outside, join(root, 'out'));
    for (const cwd of ['..', '/tmp', 'out']) {
      const outcome = await exec(root, ['sh', '-c', 'touch ran'], { cwd });
      assert.equal(outcome.exitCode, -1);
      assert.match(outcome.error, /outside the agent's root/);
    }
    assert.equal(existsSync(join(outside, 'ran')), false);
  });

  test('a program that cannot start, or a NUL in argv, is an error outcome (never a throw)', async () => {
    const { root } = roots();
    const missing = await exec(root, ['/nonexistent/program']);
    assert.equal(missing.exitCode, -1);
    assert.match(missing.error, /ENOENT/);
    const nul = await exec(root, ['ec\0ho', 'x']);
    assert.equal(nul.exitCode, -1);
    assert.match(nul.error, /null bytes|NUL/i);
  });
});
