/**
 * What every test server launcher needs (test-services.md: loopback only, free ports, temp
 * dirs, stop what you start by PID): a free port, and children killed by PID when stopped or
 * when the test process ends (exit, SIGINT, SIGTERM), their temp folders removed.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A free port can be taken between probing and binding: runs `start` up to `attempts` times. */
export async function withPortRetries<T>(start: (attempt: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(attempt);
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

const running = new Set<ChildProcess>();
const leftovers = new Set<string>();
let hooked = false;

/** Kills `proc` by PID if the test process ends first. */
export function trackChild(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  hook();
}

/** Removes `dir` if the test process ends before `forgetTempDir(dir)`. */
export function trackTempDir(dir: string): void {
  leftovers.add(dir);
  hook();
}

export function forgetTempDir(dir: string): void {
  leftovers.delete(dir);
}

/** SIGKILL by PID; resolves once the child has exited. */
export async function killChild(proc: ChildProcess): Promise<void> {
  running.delete(proc);
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid, 'SIGKILL');
  await exited;
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

function killAll(): void {
  for (const proc of running) {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  running.clear();
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
  leftovers.clear();
}
