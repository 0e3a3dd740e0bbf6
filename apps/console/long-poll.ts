import type { FastifyRequest } from 'fastify';

/** Waits until `ready()` gives a value or the time is up; checks every `everyMs`. */
export async function waitUntil<T>(ready: () => T | undefined | Promise<T | undefined>, timeoutMs: number, signal?: AbortSignal, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await ready();
    if (value !== undefined) return value;
    if (Date.now() >= deadline || signal?.aborted) return undefined;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(1, deadline - Date.now()))));
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
