/**
 * Percentiles from the RPC runtime's cumulative latency buckets (`frm.latency.le_<n>ms`, then
 * `le_inf`), as Prometheus' histogram_quantile does: find the bucket holding the q-th call and
 * interpolate linearly inside it. A percentile that falls in the last, open bucket is reported
 * as the highest finite bound (a lower bound: "at least 1000 ms").
 */

export interface LatencyBuckets {
  /** Upper bounds in ms, ascending, without the open bucket. */
  bounds: readonly number[];
  /** Cumulative counts per bound (calls at or below it), then the total (le_inf) last. */
  cumulative: readonly number[];
}

/** The q-quantile (0 < q < 1) in ms, or null when no call was counted. */
export function latencyQuantile(q: number, { bounds, cumulative }: LatencyBuckets): number | null {
  if (!(q > 0 && q < 1)) throw new RangeError(`a quantile is between 0 and 1 (exclusive), not ${q}`);
  if (cumulative.length !== bounds.length + 1) throw new RangeError(`${bounds.length} bounds need ${bounds.length + 1} cumulative counts, got ${cumulative.length}`);
  const total = cumulative[cumulative.length - 1]!;
  if (!(total > 0)) return null;
  const rank = q * total;
  let below = 0;
  let lower = 0;
  for (let i = 0; i < bounds.length; i++) {
    // Counts are sums of reports: keep them monotone even if a report was lost in between.
    const upTo = Math.max(below, Math.min(cumulative[i]!, total));
    if (upTo >= rank) {
      const inBucket = upTo - below;
      return inBucket > 0 ? lower + (bounds[i]! - lower) * ((rank - below) / inBucket) : bounds[i]!;
    }
    below = upTo;
    lower = bounds[i]!;
  }
  return bounds.length ? bounds[bounds.length - 1]! : null;
}

/** p50, p90 and p99 per minute from per-minute cumulative bucket curves (null where nothing was counted). */
export function percentileCurves(bounds: readonly number[], curves: readonly (readonly (number | null)[])[]): { p50: (number | null)[]; p90: (number | null)[]; p99: (number | null)[] } {
  const minutes = curves[0]?.length ?? 0;
  const out = { p50: [] as (number | null)[], p90: [] as (number | null)[], p99: [] as (number | null)[] };
  for (let m = 0; m < minutes; m++) {
    const cumulative = curves.map((c) => c[m] ?? 0);
    const buckets = { bounds, cumulative };
    out.p50.push(latencyQuantile(0.5, buckets));
    out.p90.push(latencyQuantile(0.9, buckets));
    out.p99.push(latencyQuantile(0.99, buckets));
  }
  return out;
}
