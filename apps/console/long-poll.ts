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

/** Aborts when the client goes away, so a long poll does not outlive its request. */
export function abortOnClose(raw: { once(event: 'close', f: () => void): unknown }): AbortSignal {
  const controller = new AbortController();
  raw.once('close', () => controller.abort());
  return controller.signal;
}
