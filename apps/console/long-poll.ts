import type { FastifyRequest } from 'fastify';

/** Calls `wake` whenever what a long poll waits for may have changed; returns the function that stops it. */
export type Wakeups = (wake: () => void) => () => void;

/** Wake-ups from several sources at once (a projection and a command's streamed output). */
export function eitherOf(...sources: Wakeups[]): Wakeups {
  return (wake) => {
    const stops = sources.map((listen) => listen(wake));
    return () => {
      for (const stop of stops) stop();
    };
  };
}

/**
 * Waits until `ready()` gives a value, the time is up or `signal` aborts. `ready()` is asked
 * again on each of `wakeups` (a read model that changed: at once, and never in vain on a
 * timer), or, for what sends none, every `everyMs`.
 */
export async function waitUntil<T>(
  ready: () => T | undefined | Promise<T | undefined>, timeoutMs: number, signal?: AbortSignal, wakeups: Wakeups | { everyMs: number } = { everyMs: 100 },
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let changed = false;
  let interrupt: (() => void) | undefined;
  const stop = typeof wakeups === 'function'
    ? wakeups(() => {
      changed = true;
      interrupt?.();
    })
    : undefined;
  const everyMs = typeof wakeups === 'function' ? Infinity : wakeups.everyMs;
  try {
    for (;;) {
      changed = false; // a change from now on is seen by the next look
      const value = await ready();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return undefined;
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          interrupt = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, Math.min(everyMs, left)));
        signal?.addEventListener('abort', done, { once: true });
        interrupt = done;
      });
    }
  } finally {
    stop?.();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Aborted when the server starts closing: long polls answer at once instead of holding shutdown. */
    closing: AbortSignal;
  }
}

/** Aborts when the client goes away or the server closes, so a long poll outlives neither. */
export function abortOnClose(request: FastifyRequest): AbortSignal {
  const controller = new AbortController();
  request.raw.once('close', () => controller.abort());
  const closing = request.server.closing;
  if (closing.aborted) controller.abort();
  else closing.addEventListener('abort', () => controller.abort(), { once: true, signal: controller.signal });
  return controller.signal;
}
