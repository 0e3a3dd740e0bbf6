/** Agents as separate processes for the end-to-end tests: started with `msec agent`, as a host would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { bin, exited } from './support.ts';
import { trackChild } from '../services/processes.ts';

export interface RunningAgent {
  proc: ChildProcess;
  ip: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `msec agent --ip IP --root ROOT [--token T]`, resolved once it says it runs. */
export async function startAgent(ip: string, root: string, env: Record<string, string>, options: { token?: string; heartbeatS?: number; routePort?: number } = {}): Promise<RunningAgent> {
  const args = [bin, 'agent', '--ip', ip, '--root', root, '--heartbeat', String(options.heartbeatS ?? 1), '--route-port', String(options.routePort ?? 0)];
  if (options.token) args.push('--token', options.token);
  const proc = spawn(process.execPath, args, { env: { ...process.env, MSEC_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!new RegExp(`msec agent: ${ip.replaceAll('.', '\\.')} running`).test(out)) {
    if (proc.exitCode !== null) throw new Error(`msec agent ${ip} exited ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`msec agent ${ip} did not start within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc, ip, output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited(proc);
    },
  };
}
