/**
 * The host's metrics as MSEC's sysmon.py reported them: `sys.*` under RESERVED.monitor, once a
 * minute, for the monitor views to show beside every service on this ip (issue 11). Gauges are
 * Sets (the first of a minute wins); network bytes are Adds of what passed since the last read.
 * Linux /proc; what cannot be read is left out.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Metric, MetricsReport } from '../../schemas/reports.ts';
import type { HostLoad } from './host-load.ts';

export const hostMetricsService = 'RESERVED.monitor';

export class HostMetrics {
  private lastNet: { rx: number; tx: number } | undefined;

  constructor(private readonly ip: string, private readonly clock: () => number = Date.now) {}

  /** One report of this minute from the load just read. */
  report(load: HostLoad): MetricsReport {
    const now = this.clock();
    const minute = Math.floor(now / 60_000) * 60;
    const metric = (attr: string, value: number, kind: 'add' | 'set'): Metric => ({
      service: hostMetricsService, method: '', side: '', attr, minute, value: Math.round(value * 100) / 100, kind, ip: this.ip, atMs: kind === 'set' ? now : 0,
    });
    const metrics: Metric[] = [
      metric('sys.cpu_percent', load.cpuPercent, 'set'),
      metric('sys.mem_total_mb', load.memTotalBytes / 2 ** 20, 'set'),
      metric('sys.mem_free_mb', load.memFreeBytes / 2 ** 20, 'set'),
      metric('sys.disk_free_mb', load.diskFreeBytes / 2 ** 20, 'set'),
      metric('sys.load1', load.load1, 'set'),
      metric('sys.processes', load.processes, 'set'),
    ];
    const net = networkBytes();
    if (net) {
      if (this.lastNet && net.rx >= this.lastNet.rx && net.tx >= this.lastNet.tx) {
        metrics.push(metric('sys.net_rx_bytes', net.rx - this.lastNet.rx, 'add'), metric('sys.net_tx_bytes', net.tx - this.lastNet.tx, 'add'));
      }
      this.lastNet = net;
    }
    const tcp = tcpStates();
    if (tcp) metrics.push(metric('sys.tcp_established', tcp.established, 'set'), metric('sys.tcp_time_wait', tcp.timeWait, 'set'));
    return { reporter: `agent:${this.ip}`, metrics, droppedRecords: 0, reportId: randomUUID(), droppedMetrics: 0 } as MetricsReport;
  }
}

/** Bytes received and sent on every interface but loopback. */
function networkBytes(): { rx: number; tx: number } | undefined {
  try {
    let rx = 0;
    let tx = 0;
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const [name, rest] = line.split(':');
      if (!rest || name!.trim() === 'lo') continue;
      const f = rest.trim().split(/\s+/).map(Number);
      rx += f[0] ?? 0;
      tx += f[8] ?? 0;
    }
    return { rx, tx };
  } catch {
    return undefined;
  }
}

/** TCP connections by state (ESTABLISHED is 01, TIME_WAIT 06 in /proc/net/tcp). */
function tcpStates(): { established: number; timeWait: number } | undefined {
  let established = 0;
  let timeWait = 0;
  let read = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const state = line.trim().split(/\s+/)[3];
        if (state === '01') established++;
        else if (state === '06') timeWait++;
      }
      read = true;
    } catch {
      // not on this host
    }
  }
  return read ? { established, timeWait } : undefined;
}
