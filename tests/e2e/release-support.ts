/** Helpers of the release end-to-end tests: artifacts made by hand, and cleaning up what agents started. */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * A service build as `npm run artifact` makes one: a .tgz with an executable `start` at its top.
 * `script` is the body of `start` (a POSIX shell script).
 */
export function shellArtifact(dir: string, name: string, script: string, extra: Record<string, string> = {}): string {
  const src = mkdtempSync(join(tmpdir(), 'msec-artifact-src-'));
  try {
    writeFileSync(join(src, 'start'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(src, 'start'), 0o755);
    for (const [path, text] of Object.entries(extra)) writeFileSync(join(src, path), text);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.tgz`);
    const r = spawnSync('tar', ['-czf', file, '-C', src, '.'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
    return file;
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

/** A TCP service answering "<version> <host>" on MSEC_LISTEN: what the fault tests release. */
export const echoServer = (version: string) =>
  `exec node -e "const [h,p]=process.env.MSEC_LISTEN.split(':');require('net').createServer(s=>{s.on('error',()=>{});s.end('${version} '+h)}).listen(+p,h);process.on('SIGTERM',()=>process.exit(0))"`;

/** Every process whose working folder is under `root` (the services agents started there), killed. */
export function killProcessesUnder(root: string): number {
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      }
    } catch { /* gone, or not ours */ }
  }
  return killed;
}

/** Pids of live processes whose working folder is `dir` (a service's bin/). */
export function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readlinkSync(`/proc/${pid}/cwd`);
      if (stat === dir) found.push(Number(pid));
    } catch { /* gone */ }
  }
  return found;
}

/** A line over TCP: what the echo services answer. */
export async function ask(host: string, port: number): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => undefined);
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}
