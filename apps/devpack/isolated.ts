/**
 * Generation off the console's event loop: each download runs in its own worker thread with
 * a deadline, a heap limit and a cap on how many run at once. defaults.ts bounds the work an
 * IDL can ask for; this is the second line for what is still slow (protobufjs parses a
 * message in time quadratic in its fields: 20 000 fields take most of a minute), so the
 * console keeps answering whatever IDL a user stored.
 */
import { Worker } from 'node:worker_threads';
import type { GenerationJob, GenerationResult } from './generate-job.ts';

export interface GenerationLimits {
  /** A generation still running after this is stopped (default 10 s). */
  timeoutMs?: number;
  /** Generations at once; more are refused as busy (default 2). */
  maxRunning?: number;
  /** Heap of one generation (default 256 MiB). */
  maxHeapMb?: number;
  /** The worker's entry (tests run other jobs through the same limits). */
  entry?: URL;
}

export const defaultGenerationLimits = { timeoutMs: 10_000, maxRunning: 2, maxHeapMb: 256 } as const;

/** Why a generation gave no archive; `status` is the HTTP answer it calls for. */
export class GenerationError extends Error {
  constructor(readonly status: 422 | 503, readonly code: string, message: string, readonly retryAfterS?: number) {
    super(message);
    this.name = 'GenerationError';
  }
}

export class IsolatedGenerator {
  private readonly running = new Set<Worker>();
  private readonly limits: Required<GenerationLimits>;

  constructor(limits: GenerationLimits = {}) {
    this.limits = { ...defaultGenerationLimits, entry: new URL('./generate-worker.mjs', import.meta.url), ...limits };
  }

  /** The .tar.gz of `job`; GenerationError when the IDL is unusable, too slow or the generator busy. */
  generate(job: GenerationJob): Promise<Uint8Array> {
    const { timeoutMs, maxRunning, maxHeapMb, entry } = this.limits;
    const what = `IDL ${job.idlTag} of ${job.service}`;
    if (this.running.size >= maxRunning) {
      return Promise.reject(new GenerationError(503, 'generator-busy',
        `${this.running.size} downloads are being generated already; try again in a few seconds`, 5));
    }
    return new Promise((resolve, reject) => {
      const worker = new Worker(entry, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
      this.running.add(worker);
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.running.delete(worker);
        outcome();
      };
      const timer = setTimeout(() => {
        settle(() => reject(new GenerationError(503, 'generation-timeout',
          `generating from ${what} took longer than ${timeoutMs / 1000} s and was stopped: the IDL is too large for the console ` +
          '(thousands of fields in one message, or very many RPCs); split it into smaller messages and services, ' +
          'or generate locally with `msec dev-package` / `msec stubs`')));
        void worker.terminate();
      }, timeoutMs);
      worker.once('message', (result: GenerationResult) => settle(() => {
        if (result.ok) resolve(result.tarball);
        else reject(new GenerationError(422, 'unusable-idl', `cannot generate from ${what}: ${result.message}`));
      }));
      worker.once('error', (error: Error & { code?: string }) => settle(() => reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new GenerationError(422, 'idl-too-large', `generating from ${what} needed more than ${maxHeapMb} MiB and was stopped; split the IDL into smaller messages and services`)
        : error)));
      worker.once('exit', (code) => settle(() => reject(new Error(`the generator of ${what} stopped (exit code ${code}) without an answer`))));
    });
  }

  /** Stops what runs (console shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.running].map((worker) => worker.terminate()));
  }
}
