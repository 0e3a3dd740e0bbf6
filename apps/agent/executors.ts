/**
 * What an agent does for a verified command, inside its root only: run a program (bounded
 * output, a time limit, output streamed while it runs), write a file fetched by digest and
 * checked before it is written, read a file back, list processes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { sha256Hex } from '../../adapters/signing/ed25519.ts';
import type { ExecPayload, PullFilePayload, PushFilePayload } from '../../schemas/agent.ts';

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
  const realRoot = realpathSync(root);
  const full = join(realRoot, path);
  const parent = dirname(full);
  if (options.createParents) mkdirSync(parent, { recursive: true, mode: 0o755 });
  const realParent = realpathSync(parent);
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

/** Environment for commands: the agent's own, minus its secrets. */
function commandEnv(): NodeJS.ProcessEnv {
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
      cwd = p.cwd ? insideRoot(root, p.cwd) : realpathSync(root);
    } catch (err) {
      resolve({ exitCode: -1, error: (err as Error).message, output: Buffer.alloc(0), outputBytes: 0, durationMs: 0, timedOut: false });
      return;
    }
    const child = spawn(p.argv[0]!, p.argv.slice(1), { cwd, env: commandEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    }, p.timeoutMs || 60_000);
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
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let spawnError = '';
    child.on('error', (err) => (spawnError = err.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({
        exitCode: code ?? -1,
        error: spawnError || (signal ? `killed by ${signal}${timedOut ? ` after the ${p.timeoutMs} ms time limit` : ''}` : ''),
        output: Buffer.concat(kept), outputBytes: total, durationMs: Math.round(performance.now() - started), timedOut,
      });
    });
  });
}

/** Writes `content` (already fetched) after checking its digest and size; atomic. */
export function writePushedFile(root: string, p: PushFilePayload, content: Buffer): Outcome {
  const started = performance.now();
  const digest = sha256Hex(content);
  if (digest !== p.sha256 || content.length !== p.size) {
    return failed(`the fetched file does not match the signed digest (sha256 ${digest.slice(0, 12)}…, ${content.length} bytes): nothing was written`, started);
  }
  const target = insideRoot(root, p.path, { createParents: true });
  const temp = `${target}.msec-${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: p.mode || 0o600 });
  chmodSync(temp, p.mode || 0o600);
  renameSync(temp, target);
  return { exitCode: 0, error: '', output: Buffer.from(`wrote ${p.path} (${content.length} bytes)\n`), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false };
}

export function readPulledFile(root: string, p: PullFilePayload): Outcome {
  const started = performance.now();
  const source = insideRoot(root, p.path);
  const st = lstatSync(source);
  if (!st.isFile()) return failed(`${p.path} is not a regular file`, started);
  if (st.size > p.maxBytes) return failed(`${p.path} is ${st.size} bytes, above the ${p.maxBytes} asked for`, started);
  const data = readFileSync(source);
  return { exitCode: 0, error: '', output: Buffer.alloc(0), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false, data };
}

export function failed(error: string, started = performance.now()): Outcome {
  return { exitCode: -1, error, output: Buffer.alloc(0), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false };
}

