/** p50/p90/p99 per method and side from the frm.*latency.le_* curves (domain/monitoring/latency-percentiles.ts). */
import { latencyQuantile, percentileCurves } from '../../domain/monitoring/latency-percentiles.ts';
import type { Curve } from './metrics-queries.ts';

export interface LatencySummary {
  side: 'server' | 'client';
  method: string;
  p50: (number | null)[];
  p90: (number | null)[];
  p99: (number | null)[];
  /** Over the whole range (buckets summed): what `msec metrics --latency` prints. */
  overall: { p50: number | null; p90: number | null; p99: number | null; calls: number };
}

const bucketName = /^frm\.(client\.)?latency\.le_(\d+ms|inf) (.+)$/;

export function latencySummaries(curves: readonly Curve[]): LatencySummary[] {
  const groups = new Map<string, { side: 'server' | 'client'; method: string; buckets: Map<number, (number | null)[]> }>();
  for (const c of curves) {
    const m = bucketName.exec(c.name);
    if (!m) continue;
    const side = m[1] ? 'client' : 'server';
    const bound = m[2] === 'inf' ? Number.POSITIVE_INFINITY : Number(m[2]!.slice(0, -2));
    const key = `${side} ${m[3]}`;
    const g = groups.get(key) ?? { side, method: m[3]!, buckets: new Map() };
    g.buckets.set(bound, c.values);
    groups.set(key, g);
  }
  const out: LatencySummary[] = [];
  for (const g of groups.values()) {
    if (!g.buckets.has(Number.POSITIVE_INFINITY)) continue;
    const bounds = [...g.buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
    const ordered = [...bounds, Number.POSITIVE_INFINITY].map((b) => g.buckets.get(b)!);
    const perMinute = percentileCurves(bounds, ordered);
    const totals = ordered.map((values) => values.reduce<number>((s, v) => s + (v ?? 0), 0));
    const buckets = { bounds, cumulative: totals };
    out.push({
      side: g.side, method: g.method, ...perMinute,
      overall: { p50: latencyQuantile(0.5, buckets), p90: latencyQuantile(0.9, buckets), p99: latencyQuantile(0.99, buckets), calls: totals[totals.length - 1]! },
    });
  }
  return out.sort((a, b) => (a.method !== b.method ? (a.method < b.method ? -1 : 1) : a.side < b.side ? 1 : -1));
}
