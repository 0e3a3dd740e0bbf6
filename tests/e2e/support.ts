/** Runs the real `msec` entry point as a child process, as a user would. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

export function msecJson<T = unknown>(args: string[], env: Record<string, string>): T {
  const r = msec([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`msec ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `msec up` in the background; resolves once it printed the console URL. */
export async function startUp(home: string, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; adminPassword?: string; output: () => string }> {
  const proc = spawn(process.execPath, [bin, 'up', '--home', home, '--port', '0'], {
    env: { ...process.env, MSEC_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const url = /msec console: (http:\/\/\S+)/.exec(out)?.[1];
    if (url) {
      const adminPassword = /admin password \(shown once\): (\S+)/.exec(out)?.[1];
      return { proc, url, adminPassword, output: () => out };
    }
    if (proc.exitCode !== null) throw new Error(`msec up exited ${proc.exitCode}:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`msec up printed no console URL within 60 s:\n${out}`);
}

export async function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise((r) => proc.once('exit', r));
}
