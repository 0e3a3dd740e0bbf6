/** Runs `work` over `items`, at most `concurrency` at a time, until `stop()`; returns the errors (none are thrown). */
export async function eachBounded<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>, stop: () => boolean = () => false): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return errors;
}
