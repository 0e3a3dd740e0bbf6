/**
 * What the agent host tests (kv, releases) share: agent roots in a temp folder of the test
 * file's own, a loopback address per test host, and waiting until something holds.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A temp folder named `prefix…` (its real path: /proc shows processes' folders resolved) for
 * fresh agent roots, each with its agent/ folder as an enrolled agent has.
 */
export function agentRoots(prefix: string): { base: string; agentRoot(): string; removeBase(): void } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  let roots = 0;
  return {
    base,
    agentRoot: () => {
      const root = join(base, `host-${++roots}`);
      mkdirSync(join(root, 'agent'), { recursive: true, mode: 0o700 });
      return root;
    },
    removeBase: () => rmSync(base, { recursive: true, force: true }),
  };
}

/**
 * A loopback address of its own per test host (several hosts side by side on one machine): the
 * middle two parts from this process's pid, so test files running side by side never share one.
 */
let ips = 0;
export function hostIp(): string {
  ips++;
  if (ips > 250) throw new Error('more than 250 test hosts in one file');
  return `127.${(process.pid >> 8) & 255}.${process.pid & 255}.${ips + 2}`;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
