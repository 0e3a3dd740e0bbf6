/** Runs the real `msec` entry point as a child process, as a user would. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../apps/cli/bin.mjs', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function msec(args: string[], env: Record<string, string>, input?: string): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env }, input, encoding: 'utf8', timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `msec` without blocking this process (whose event loop may be serving something the command needs). */
export function msecAsync(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    proc.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function msecJson<T = unknown>(args: string[], env: Record<string, string>): T {
  const r = msec([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`msec ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Consoles and projectors started here that still run when the test file ends (a test that
 * failed or timed out before stopping them) are killed then: a live child's pipes would keep
 * the file's process, and so the whole run, waiting forever. Only under the test runner
 * (benchmarks import this module too).
 */
const running = new Set<ChildProcess>();
if (process.env.NODE_TEST_CONTEXT) {
  after(() => {
    for (const proc of running) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
}

export interface Started {
  proc: ChildProcess;
  /** The console URL ('' for a projector). */
  url: string;
  adminPassword?: string;
  output: () => string;
}

/** `msec up` in the background; resolves once it printed the console URL. */
export function startUp(home: string, env: Record<string, string> = {}): Promise<Started> {
  return startRole('up', home, env);
}

/**
 * `msec up|console|projector` in the background; resolves once it printed the console URL
 * (or, for the projector, that it runs). `nodeArgs` go to node itself (`--cpu-prof`, which
 * NODE_OPTIONS refuses).
 */
export async function startRole(role: 'up' | 'console' | 'projector', home: string, env: Record<string, string> = {}, args: string[] = [], nodeArgs: string[] = []): Promise<Started> {
  const port = role === 'projector' || args.includes('--port') ? [] : ['--port', '0'];
  const proc = spawn(process.execPath, [...nodeArgs, bin, role, '--home', home, ...port, ...args], {
    env: { ...process.env, MSEC_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const url = /msec console: (http:\/\/\S+)/.exec(out)?.[1];
    if (url || (role === 'projector' && /msec projector: running/.test(out))) {
      const adminPassword = /admin password \(shown once\): (\S+)/.exec(out)?.[1];
      return { proc, url: url ?? '', adminPassword, output: () => out };
    }
    if (proc.exitCode !== null) throw new Error(`msec ${role} exited ${proc.exitCode}:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`msec ${role} did not come up within 90 s:\n${out}`);
}

/** Polls `check` until it returns a value (not undefined/false), or fails after `ms`. */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves when `proc` has exited. One that is still running after `ms` (a stop that hangs)
 * is killed with SIGKILL and the wait fails, saying so: a test never waits forever.
 */
export async function exited(proc: ChildProcess, ms = 60_000, output?: () => string): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<boolean>((r) => proc.once('exit', () => r(true)));
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  const inTime = await Promise.race([gone, late]);
  clearTimeout(timer);
  if (inTime) return;
  proc.kill('SIGKILL');
  await gone;
  throw new Error(`process ${proc.pid} (${proc.spawnargs.slice(1, 4).join(' ')}…) had not exited ${ms / 1000} s after it was told to stop: killed with SIGKILL${output ? `; its last output:\n${output().slice(-4000)}` : ''}`);
}
