/**
 * The host's load for heartbeats (Linux /proc; elsewhere what node:os gives): CPU use over the
 * last interval, memory total and available, the agent root's disk, load averages, process
 * count. Never throws: a value it cannot read is 0.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, hostname, loadavg, totalmem } from 'node:os';

export interface HostLoad {
  cpuPercent: number;
  cpus: number;
  memTotalBytes: number;
  memFreeBytes: number;
  diskTotalBytes: number;
  diskFreeBytes: number;
  load1: number;
  load5: number;
  load15: number;
  processes: number;
  hostname: string;
}

export class HostLoadMeter {
  private last: { busy: number; total: number } | undefined;

  constructor(private readonly root: string) {}

  read(): HostLoad {
    const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
    const mem = memory();
    const disk = safe(() => statfsSync(this.root), undefined);
    return {
      cpuPercent: this.cpuPercent(),
      cpus: cpus().length,
      memTotalBytes: mem.total,
      memFreeBytes: mem.available,
      diskTotalBytes: disk ? disk.blocks * disk.bsize : 0,
      diskFreeBytes: disk ? disk.bavail * disk.bsize : 0,
      load1, load5, load15,
      processes: safe(() => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length, 0),
      hostname: hostname(),
    };
  }

  /** Busy share of all CPUs since the previous read (0 on the first). */
  private cpuPercent(): number {
    const now = safe(() => {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
      const v = line.trim().split(/\s+/).slice(1).map(Number);
      const idle = (v[3] ?? 0) + (v[4] ?? 0);
      const total = v.reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    }, undefined);
    if (!now) return 0;
    const before = this.last;
    this.last = now;
    if (!before || now.total <= before.total) return 0;
    return Math.max(0, Math.min(100, (100 * (now.busy - before.busy)) / (now.total - before.total)));
  }
}

function memory(): { total: number; available: number } {
  return safe(() => {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0) * 1024;
    return { total: kb('MemTotal'), available: kb('MemAvailable') };
  }, { total: totalmem(), available: freemem() });
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
