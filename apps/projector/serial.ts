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

/**
 * One Serial per key: tasks under one key run one after another, different keys in parallel.
 * A key's queue is forgotten once it has nothing left to run.
 */
export class KeyedSerial {
  private readonly queues = new Map<string, { serial: Serial; pending: number }>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { serial: new Serial(), pending: 0 }));
    const q = queue;
    q.pending++;
    return q.serial.run(task).finally(() => {
      if (--q.pending === 0) this.queues.delete(key);
    });
  }
}
