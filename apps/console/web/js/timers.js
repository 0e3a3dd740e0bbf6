/**
 * Waiting while a page shows: every wait ends early when the page's signal aborts (the user
 * left), so no timer outlives its page.
 */

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => {
    window.clearTimeout(timer);
    resolve();
  }, { once: true });
});

/**
 * Calls `refresh` every `ms` after the previous call ends, until `signal` aborts. A failure is
 * shown on `stateElement` (not in the banner every few seconds) and the next round tries again.
 * `stale: false` leaves the element's look alone (its refresh does not clear the mark);
 * `finalFailure(err)`, when it returns a text, shows that instead and stops refreshing.
 */
export async function refreshEvery(ms, signal, refresh, stateElement, { stale = true, finalFailure } = {}) {
  while (!signal.aborted) {
    await sleep(ms, signal);
    if (signal.aborted) return;
    try {
      await refresh();
    } catch (err) {
      if (signal.aborted) return;
      const final = finalFailure?.(err);
      stateElement.textContent = final ?? `refresh failed: ${err.message} (trying again)`;
      if (stale) stateElement.classList.add('stale');
      if (final) return;
    }
  }
}
