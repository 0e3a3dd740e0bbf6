/**
 * Runs async tasks one after another. A projection's live batches and the switch at the end
 * of a replay share one, so a replay swaps the read model between two batches, never inside one.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined); // a failed task must not block the ones after it
    return result;
  }
}
