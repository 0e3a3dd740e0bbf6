/**
 * `npm run bench -- release`: time to release a service to N agents on this machine (N = 2, 8,
 * 32 agents, each its own `msec agent` process on its own loopback address), from `msec release
 * start` to the plan's end (every host fetched, unpacked, started and health-checked), and how
 * it grows with N. Baseline, in the same run: the same work without msec — for each host at
 * once, unpack the same .tgz into a fresh folder, start it, wait for its port (what a script
 * looping over hosts does at best, without transfer, signatures, backups or records).
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startUp, exited } from '../tests/e2e/support.ts';
import { startAgent, type RunningAgent } from '../tests/e2e/agent-support.ts';
import { echoServer, killProcessesUnder, shellArtifact } from '../tests/e2e/release-support.ts';
import { freePort } from '../tests/services/processes.ts';

const sizes = [2, 8, 32];

export async function benchRelease(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'msec-bench-release-'));
  const up = await startUp(join(home, 'console'), { MSEC_ADMIN_PASSWORD: 'bench-release-1', MSEC_LOG_LEVEL: 'warn', MSEC_AGENT_HEARTBEAT_MS: '2000' });
  const basic = { authorization: `Basic ${Buffer.from('admin:bench-release-1').toString('base64')}`, 'content-type': 'application/json' };
  const api = async <T>(method: string, path: string, body?: unknown, raw?: Buffer): Promise<T> => {
    const r = await fetch(`${up.url}${path}`, {
      method, headers: raw ? { ...basic, 'content-type': 'application/octet-stream' } : basic, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  const agents: RunningAgent[] = [];
  const ips = Array.from({ length: Math.max(...sizes) }, (_, i) => `127.0.1.${i + 1}`);
  try {
    for (const ip of ips) {
      const { token } = await api<{ token: string }>('POST', '/api/agents/tokens', { ip });
      agents.push(await startAgent(ip, join(home, `agent-${ip}`), { MSEC_CONSOLE: up.url, MSEC_LOG_LEVEL: 'warn' }, { token, heartbeatS: 2 }));
    }
    const artifact = shellArtifact(join(home, 'files'), 'echo', echoServer('v1'));
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(artifact);
    const results: { n: number; msecMs: number; baselineMs: number }[] = [];
    for (const n of sizes) {
      const service = `Bench.echo${n}`;
      const port = await freePort();
      await api('POST', '/api/services', { name: service });
      for (const ip of ips.slice(0, n)) await api('POST', `/api/services/${service}/hosts`, { ip, port, protocol: 'tcp' });
      await api('PUT', `/api/services/${service}/configs/c1`, { text: '[LOG]\nLevel=INFO\n' });
      await api('PUT', `/api/services/${service}/artifacts/v1`, undefined, bytes);
      const { planId } = await api<{ planId: string }>('POST', '/api/releases', { service, hosts: ips.slice(0, n), config: 'c1', artifact: 'v1', healthTimeoutSeconds: 30 });
      const started = performance.now();
      await api('POST', `/api/releases/${planId}/start`);
      let revision = -1;
      for (;;) {
        const plan = await api<{ status: string; revision: number; detail: string }>('GET', `/api/releases/${planId}?after=${revision}&wait=25`);
        revision = plan.revision;
        if (plan.status === 'succeeded') break;
        if (!['carrying_out', 'created'].includes(plan.status)) throw new Error(`plan ${planId} ended ${plan.status}: ${plan.detail}`);
      }
      const msecMs = performance.now() - started;
      results.push({ n, msecMs, baselineMs: await baseline(artifact, ips.slice(0, n), await freePort(), join(home, `baseline-${n}`)) });
    }
    for (const r of results) {
      console.log(`release.to_${r.n}_agents_ms=${Math.round(r.msecMs)} per_host_ms=${Math.round(r.msecMs / r.n)} baseline.unpack_start_wait_ms=${Math.round(r.baselineMs)} ratio=${(r.baselineMs / r.msecMs).toFixed(3)}  (plan start → every host fetched, backed up, unpacked, started, port answering, recorded; agents as processes on 127.0.1.x; 2 cores)`);
    }
    const [first, last] = [results[0]!, results[results.length - 1]!];
    console.log(`release.growth ${first.n}→${last.n} agents: time ×${(last.msecMs / first.msecMs).toFixed(2)} for hosts ×${last.n / first.n} (baseline ×${(last.baselineMs / first.baselineMs).toFixed(2)})`);
  } finally {
    for (const a of agents) await a.stop('SIGKILL');
    for (const ip of ips) killProcessesUnder(join(home, `agent-${ip}`));
    up.proc.kill('SIGTERM');
    await exited(up.proc);
    rmSync(home, { recursive: true, force: true });
  }
}

/** For every host at once: unpack the .tgz into a fresh folder, start it on the host's address, wait until its port answers. */
async function baseline(artifact: string, ips: string[], port: number, dir: string): Promise<number> {
  const started = performance.now();
  const children = await Promise.all(ips.map(async (ip) => {
    const bin = join(dir, ip);
    mkdirSync(bin, { recursive: true });
    const untar = spawnSync('tar', ['-xzf', artifact, '-C', bin]);
    if (untar.status !== 0) throw new Error('tar failed');
    const child = spawn('./start', [], { cwd: bin, env: { ...process.env, MSEC_LISTEN: `${ip}:${port}` }, stdio: 'ignore', detached: true });
    await waitForPort(ip, port);
    return child;
  }));
  const ms = performance.now() - started;
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch { /* gone */ }
  }
  return ms;
}

async function waitForPort(host: string, port: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
