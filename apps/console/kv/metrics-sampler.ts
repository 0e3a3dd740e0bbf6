/**
 * The KV's instance metrics in the metric views (MSEC's KV had curves too): every minute the
 * console reads each cluster's instances (INFO, as `msec kv show` does) and reports, under the
 * odd service RESERVED.kv, per instance `kv.<cluster>.<port>.<what>` gauges with the instance's
 * host as the ip: ops_per_sec, used_memory_mb, keys, hit_ratio_percent, repl_lag_bytes (replicas),
 * up (1 or 0). They go to msec.reports.metrics like every other report, so curves, day
 * comparisons and alarms (a max on used_memory_mb, a min on up) work on them unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageBus } from '../../../adapters/bus/port.ts';
import { kvMetricsService } from '../../../domain/monitoring/metric-names.ts';
import type { KvClusterState } from '../../../domain/kv/index.ts';
import { liveKvClusters } from '../../../projections/kv.ts';
import { encodeReport, type Metric } from '../../../schemas/reports.ts';
import type { ConsoleReads } from '../reads.ts';
import { readLive, type LiveInstance } from './live.ts';
import type { RedisAdmin } from './redis-admin.ts';

export interface KvMetricsOptions {
  reads: Pick<ConsoleReads, 'kv'>;
  redis: RedisAdmin;
  bus: MessageBus;
  logger: Logger;
  clock?: () => number;
  /** How often (default a minute: the views keep one value a minute). */
  everyMs?: number;
}

/** The gauges of one instance at `minute`. */
export function instanceMetrics(cluster: string, i: LiveInstance, minute: number, atMs: number): Metric[] {
  const gauge = (what: string, value: number): Metric => ({
    service: kvMetricsService, method: '', side: '', attr: `kv.${cluster}.${i.port}.${what}`, minute, value: Math.round(value * 100) / 100, kind: 'set', ip: i.ip, atMs,
  });
  if (i.role === 'down') return [gauge('up', 0)];
  return [
    gauge('up', 1),
    gauge('ops_per_sec', i.opsPerSec),
    gauge('used_memory_mb', i.memoryBytes / 2 ** 20),
    gauge('keys', i.keys),
    ...(i.hitRatio >= 0 ? [gauge('hit_ratio_percent', i.hitRatio * 100)] : []),
    ...(i.lagBytes >= 0 ? [gauge('repl_lag_bytes', i.lagBytes)] : []),
  ];
}

export class KvMetricsSampler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly clock: () => number;

  constructor(private readonly o: KvMetricsOptions) {
    this.clock = o.clock ?? Date.now;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      const run = this.sampleOnce()
        .then(() => undefined, (err: Error) => this.o.logger.warn({ err }, `KV metrics were not reported this time: ${err.message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.everyMs ?? 60_000);
        });
      this.running = run;
    };
    this.timer = setTimeout(tick, Math.min(this.o.everyMs ?? 60_000, 5000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sample of every cluster, one report. Returns how many values it reported. */
  async sampleOnce(): Promise<number> {
    const now = this.clock();
    const minute = Math.floor(now / 60_000) * 60;
    const metrics: Metric[] = [];
    for (const c of liveKvClusters(this.o.reads.kv())) {
      if (!c.cluster.instances.length) continue;
      const live = await readLive(this.o.redis, c.cluster as KvClusterState);
      for (const i of live.instances) metrics.push(...instanceMetrics(c.name, i, minute, now));
    }
    if (!metrics.length) return 0;
    // At most 5 000 values a report: a few hundred instances fit in one.
    for (let at = 0; at < metrics.length; at += 5000) {
      const report = encodeReport('msec.reports.metrics', { reporter: 'console', metrics: metrics.slice(at, at + 5000), droppedRecords: 0, reportId: randomUUID(), droppedMetrics: 0 });
      await this.o.bus.publish('msec.reports.metrics', [{ key: kvMetricsService, value: Buffer.from(report) }]);
    }
    return metrics.length;
  }
}
