import type { CallRecord, CallReporter, MetricPoint } from '../contracts.ts';

/** A reporter that keeps nothing: the client's default when no reporter is given. */
export const nullReporter: CallReporter = {
  record(_call: CallRecord): void {},
  flush: async () => {},
  close: async () => {},
};

/** Keeps every record and metric in memory, for tests and local tools. */
export class MemoryCallReporter implements CallReporter {
  readonly records: CallRecord[] = [];
  readonly metrics: MetricPoint[] = [];
  record(call: CallRecord): void {
    this.records.push(call);
  }
  metric(point: MetricPoint): void {
    this.metrics.push(point);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
