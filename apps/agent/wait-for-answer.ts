/**
 * The health checks' one loop: a freshly started process is probed until it answers, it ends,
 * the deadline passes, or the agent stops. What a probe is (a TCP connect, a PING) and how each
 * outcome is worded belong to the caller.
 */

export interface AnswerWait {
  timeoutMs: number;
  /** The process started is still the one running. */
  alive(): boolean;
  /**
   * One try, given at most `timeoutMs`: undefined when it answered, else why not. Throws when the
   * answer rules out waiting longer (another process answers in its place).
   */
  probe(timeoutMs: number): Promise<string | undefined>;
  /** The pause after a try that got no answer (less when the deadline is nearer). */
  retryPauseMs: number;
  /** The error's message when the process ended before it answered (asked a moment after, so it can name how). */
  endedBefore(): string;
  /** The error's message when the deadline passed, with the last try's reason. */
  noAnswer(lastError: string): string;
  signal?: AbortSignal;
}

/** Resolves with the ms it took to answer while the process still lives; throws otherwise. */
export async function waitForAnswer(w: AnswerWait): Promise<number> {
  const started = performance.now();
  const deadline = started + w.timeoutMs;
  let lastError = 'not tried';
  while (!w.signal?.aborted) {
    if (!w.alive()) {
      // A moment for the exit to be noticed, so the reason names how it ended.
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error(w.endedBefore());
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    const error = await w.probe(Math.min(left, 1000));
    if (error === undefined) {
      if (w.alive()) return Math.round(performance.now() - started);
      continue;
    }
    lastError = error;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(w.retryPauseMs, deadline - performance.now()))));
  }
  if (w.signal?.aborted) throw new Error('the health check was cut short: the agent is stopping');
  throw new Error(w.noAnswer(lastError));
}
