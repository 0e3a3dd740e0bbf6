/** The host's processes for `msec ps` (Linux /proc): pid, parent, user, CPU, memory, state, start, command line. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Process } from '../../schemas/agent.ts';

const ticksPerSecond = 100;

export function listProcesses(): Process[] {
  const bootMs = bootTimeMs();
  const uptimeS = Number(readText('/proc/uptime').split(' ')[0]) || 0;
  const users = userNames();
  const out: Process[] = [];
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    if (!stat) continue;
    // The command name is in parentheses and may hold spaces: fields follow the last ")".
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const state = fields[0] ?? '?';
    const ppid = Number(fields[1]) || 0;
    const utime = Number(fields[11]) || 0;
    const stime = Number(fields[12]) || 0;
    const startTicks = Number(fields[19]) || 0;
    const rssPages = Number(fields[21]) || 0;
    const ageS = Math.max(0.01, uptimeS - startTicks / ticksPerSecond);
    const cmdline = readText(`/proc/${name}/cmdline`).split('\0').filter(Boolean).join(' ');
    const uid = safeStat(`/proc/${name}`);
    out.push({
      pid: Number(name), ppid, user: uid === undefined ? '' : users.get(uid) ?? String(uid),
      cpuPercent: Math.round((10_000 * ((utime + stime) / ticksPerSecond)) / ageS) / 100,
      rssBytes: rssPages * 4096, state,
      startedAtMs: bootMs + (startTicks / ticksPerSecond) * 1000,
      command: (cmdline || `[${stat.slice(stat.indexOf('(') + 1, close)}]`).slice(0, 1024),
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

function bootTimeMs(): number {
  const btime = /^btime (\d+)/m.exec(readText('/proc/stat'))?.[1];
  return btime ? Number(btime) * 1000 : 0;
}

function userNames(): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of readText('/etc/passwd').split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid) names.set(Number(uid), name);
  }
  return names;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeStat(path: string): number | undefined {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
}
