import type { CallRecord, CallReporter } from '../contracts.ts';

/** A reporter that keeps nothing: the client's default when no reporter is given. */
export const nullReporter: CallReporter = {
  record(_call: CallRecord): void {},
  flush: async () => {},
  close: async () => {},
};

/** Keeps every record in memory, for tests and local tools. */
export class MemoryCallReporter implements CallReporter {
  readonly records: CallRecord[] = [];
  record(call: CallRecord): void {
    this.records.push(call);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
