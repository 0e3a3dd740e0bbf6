/**
 * What an agent does for a verified command, inside its root only: run a program (bounded
 * output, a time limit, output streamed while it runs), write a file fetched by digest and
 * checked before it is written, read a file back, list processes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { sha256Hex } from '../../adapters/signing/ed25519.ts';
import type { ExecPayload, PullFilePayload, PushFilePayload } from '../../schemas/agent.ts';
import { makeFoldersStepwise } from './stepwise-folders.ts';

export interface Outcome {
  exitCode: number;
  error: string;
  output: Buffer;
  outputBytes: number;
  durationMs: number;
  timedOut: boolean;
  data?: Buffer;
}

export class PathOutsideRoot extends Error {
  constructor(path: string) {
    super(`${path} is outside the agent's root`);
    this.name = 'PathOutsideRoot';
  }
}

/** The absolute path of `path` under `root`, refusing anything that leaves it (also through symlinks). */
export function insideRoot(root: string, path: string, options: { createParents?: boolean } = {}): string {
  if (path === '' || isAbsolute(path) || path.split(/[\\/]/).includes('..') || path.includes('\0')) throw new PathOutsideRoot(path);
  // The kernel's resolution (realpath(3)), not node's JS one: that resolves `..` after a link on
  // the path text, so `e -> d/l/..` with `d/l -> ..` would look inside the root and not be.
  const realRoot = realpathSync.native(root);
  const full = join(realRoot, path);
  const parent = dirname(full);
  if (options.createParents) makeParents(realRoot, relative(realRoot, parent), path);
  const realParent = realpathSync.native(parent);
  const rel = relative(realRoot, realParent);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new PathOutsideRoot(path);
  const target = join(realParent, full.slice(parent.length + 1));
  try {
    if (lstatSync(target).isSymbolicLink()) throw new PathOutsideRoot(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return target;
}

/**
 * Creates the folders of `rel` under the root one at a time, each only once the one above it is
 * known to be inside the root: `mkdir -p` would follow a symlink out and create folders there.
 */
function makeParents(realRoot: string, rel: string, path: string): void {
  makeFoldersStepwise(realRoot, rel.split(sep).filter(Boolean), (at, st) => {
    if (st.isSymbolicLink()) {
      const real = relative(realRoot, realpathSync.native(at));
      if (real.startsWith('..') || isAbsolute(real)) throw new PathOutsideRoot(path);
    }
  });
}

/** Environment for commands and supervised services: the agent's own, minus its secrets. */
export function commandEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^MSEC_(AGENT_TOKEN|TOKEN|PASSWORD|KAFKA_PASSWORD|ZK_AUTH|BUS_KEY)/.test(k)) delete env[k];
  return env;
}

export function runExec(root: string, p: ExecPayload, onOutput: (offset: number, data: Buffer) => void): Promise<Outcome> {
  const started = performance.now();
  const limit = p.maxOutputBytes;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  return new Promise((resolve) => {
    let cwd: string;
    try {
      cwd = p.cwd ? insideRoot(root, p.cwd) : realpathSync.native(root);
    } catch (err) {
      resolve({ exitCode: -1, error: (err as Error).message, output: Buffer.alloc(0), outputBytes: 0, durationMs: 0, timedOut: false });
      return;
    }
    let child: ReturnType<typeof spawn>;
    try {
      // Its own process group, so the time limit stops the program's children too (a shell's
      // `sleep` holding the output open would otherwise outlive it).
      child = spawn(p.argv[0]!, p.argv.slice(1), { cwd, env: commandEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      resolve({ exitCode: -1, error: (err as Error).message, output: Buffer.alloc(0), outputBytes: 0, durationMs: 0, timedOut: false });
      return;
    }
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killer = setTimeout(() => signalGroup('SIGKILL'), 2000);
    }, p.timeoutMs || 60_000);
    // A program that exited but left a background child holding its output: the output is
    // read a little longer, then the result does not wait for that child.
    let drain: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      drain = setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
      }, 500);
    });
    const take = (chunk: Buffer) => {
      const offset = total;
      total += chunk.length;
      if (keptBytes < limit) {
        const part = chunk.subarray(0, limit - keptBytes);
        kept.push(part);
        keptBytes += part.length;
        onOutput(offset, part);
      }
    };
    stdout.on('data', take);
    stderr.on('data', take);
    let spawnError = '';
    child.on('error', (err) => (spawnError = err.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(drain);
      // After a timeout the SIGKILL still comes: children that ignore SIGTERM die with it.
      if (!timedOut) clearTimeout(killer);
      resolve({
        exitCode: spawnError ? -1 : code ?? -1,
        error: spawnError || (signal ? `killed by ${signal}${timedOut ? ` after the ${p.timeoutMs} ms time limit` : ''}` : ''),
        output: Buffer.concat(kept), outputBytes: total, durationMs: Math.round(performance.now() - started), timedOut,
      });
    });
  });
}

/** Why fetched content is not the file signed for (its digest and size), or undefined when it is. */
export function contentMismatch(content: Buffer, sha256: string, size: number): string | undefined {
  const digest = sha256Hex(content);
  if (digest === sha256 && content.length === size) return undefined;
  return `the fetched file does not match the signed digest (sha256 ${digest.slice(0, 12)}…, ${content.length} bytes)`;
}

/** Writes `content` (already fetched) after checking its digest and size; atomic. */
export function writePushedFile(root: string, p: PushFilePayload, content: Buffer): Outcome {
  const started = performance.now();
  const mismatch = contentMismatch(content, p.sha256, p.size);
  if (mismatch) return failed(`${mismatch}: nothing was written`, started);
  const target = insideRoot(root, p.path, { createParents: true });
  const temp = `${target}.msec-${process.pid}.tmp`;
  // Whatever sits at the temporary name (a symlink someone planted, a crash's leftover) goes
  // first, and the new file is created exclusively: the write never follows a link.
  try {
    unlinkSync(temp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(temp, content, { mode: p.mode || 0o600, flag: 'wx' });
  chmodSync(temp, p.mode || 0o600);
  renameSync(temp, target);
  return { exitCode: 0, error: '', output: Buffer.from(`wrote ${p.path} (${content.length} bytes)\n`), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false };
}

export function readPulledFile(root: string, p: PullFilePayload): Outcome {
  const started = performance.now();
  const source = insideRoot(root, p.path);
  // Opened without following a symlink, and judged by what was opened: a link swapped in after
  // the path was checked is refused, not read.
  let fd: number;
  try {
    fd = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return failed(`${p.path} is a symbolic link`, started);
    throw err;
  }
  let data: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return failed(`${p.path} is not a regular file`, started);
    if (st.size > p.maxBytes) return failed(`${p.path} is ${st.size} bytes, above the ${p.maxBytes} asked for`, started);
    data = Buffer.alloc(st.size);
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, read);
      if (n === 0) break;
      read += n;
    }
    data = data.subarray(0, read);
  } finally {
    closeSync(fd);
  }
  return { exitCode: 0, error: '', output: Buffer.alloc(0), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false, data };
}

export function failed(error: string, started = performance.now()): Outcome {
  return { exitCode: -1, error, output: Buffer.alloc(0), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false };
}

