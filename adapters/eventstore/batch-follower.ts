/**
 * The delivery loop behind every embedded subscription (event store and bus): fetch the next
 * batch, hand it to the handler, advance only when the handler resolved, then wait for a
 * wake-up (same process) or the next poll (other processes). One handler call at a time;
 * a failed batch is retried as is after a growing delay, so nothing is skipped or reordered.
 */
import pino, { type Logger } from 'pino';
import type { Subscription } from './port.ts';

export interface RetryDelays {
  initialMs: number;
  maxMs: number;
}

/** Tuning shared by the embedded adapters; every field has a default. */
export interface FollowerOptions {
  /** Where handler and read failures are reported; defaults to pino on stderr. */
  logger?: Logger;
  /** How often to look for writes made by other processes. */
  pollIntervalMs?: number;
  /** Most items handed to one handler call. */
  batchSize?: number;
  retryDelays?: RetryDelays;
}

export const followerDefaults = {
  pollIntervalMs: 100,
  batchSize: 500,
  retryDelays: { initialMs: 100, maxMs: 5_000 },
} as const;

let fallbackLogger: Logger | undefined;
export function defaultLogger(): Logger {
  fallbackLogger ??= pino({ name: 'msec-embedded' }, pino.destination(2));
  return fallbackLogger;
}

export interface BatchSource<T> {
  /** Names the subscription in log lines. */
  description: string;
  /** The batch after the last delivered one; empty when caught up. */
  fetch(): T[] | Promise<T[]>;
  /** Runs the handler, then records progress. Throwing means: deliver this batch again. */
  deliver(batch: T[]): void | Promise<void>;
  /** Registers a wake-up for writes in this process; returns the function that stops it. */
  listen(wake: () => void): () => void;
  /**
   * True when a delivered batch reached the end of the source as far as this process knows:
   * the loop then waits for a wake-up (or the next poll) instead of fetching an empty batch.
   */
  drained?(batch: T[]): boolean;
}

export function followBatches<T>(source: BatchSource<T>, options: FollowerOptions = {}): Subscription {
  const pollIntervalMs = options.pollIntervalMs ?? followerDefaults.pollIntervalMs;
  const delays = options.retryDelays ?? followerDefaults.retryDelays;
  const logger = options.logger ?? defaultLogger();

  let closed = false;
  // Set by every wake-up; checked before idling so a write made during a fetch is not missed.
  let signalled = false;
  let interruptPause: (() => void) | null = null;
  let pauseIsIdle = false;

  const pause = (ms: number, idle: boolean) =>
    new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        interruptPause = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      interruptPause = finish;
      pauseIsIdle = idle;
    });

  const stopListening = source.listen(() => {
    signalled = true;
    // A retry delay is not cut short by new writes: the failing handler needs the time.
    if (pauseIsIdle) interruptPause?.();
  });

  async function run(): Promise<void> {
    let pending: T[] | null = null;
    let delay = delays.initialMs;
    while (!closed) {
      let step = 'reading the next batch';
      try {
        if (!pending) {
          signalled = false;
          const batch = await source.fetch();
          if (batch.length === 0) {
            if (!signalled && !closed) await pause(pollIntervalMs, true);
            continue;
          }
          pending = batch;
        }
        if (closed) break;
        step = `handling a batch of ${pending.length}`;
        const delivered = pending;
        await source.deliver(delivered);
        pending = null;
        delay = delays.initialMs;
        if (!signalled && !closed && source.drained?.(delivered)) await pause(pollIntervalMs, true);
      } catch (err) {
        if (closed) break;
        logger.error({ err, subscription: source.description }, `${source.description}: ${step} failed; retrying the same batch in ${delay} ms`);
        await pause(delay, false);
        delay = Math.min(delay * 2, delays.maxMs);
      }
    }
  }

  const running = run();
  return {
    async close() {
      if (!closed) {
        closed = true;
        stopListening();
        interruptPause?.();
      }
      await running;
    },
  };
}
