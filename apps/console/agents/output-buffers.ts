/**
 * Output of running commands as agents stream it (OutputChunk reports), for `msec exec` to
 * print while the command runs. Kept in memory, bounded per command (what the completion
 * event keeps) and in total; forgotten a while after the last chunk. The complete output is
 * in the command's completion event, so nothing here needs to survive a restart. Output is kept
 * per host: an agent's chunks never land in another host's command, whatever id they name.
 */
export class OutputBuffers {
  private readonly buffers = new Map<string, { data: Buffer[]; bytes: number; touchedAt: number }>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private total = 0;

  constructor(
    private readonly perCommandBytes: number,
    private readonly totalBytes = 64 * 1024 * 1024,
    private readonly keepMs = 10 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Adds a chunk that starts at `offset` bytes of the command's output; gaps and repeats are ignored. */
  add(ip: string, commandId: string, offset: number, data: Uint8Array): void {
    const id = keyOf(ip, commandId);
    let b = this.buffers.get(id);
    if (!b) {
      this.prune();
      b = { data: [], bytes: 0, touchedAt: this.clock() };
      this.buffers.set(id, b);
    }
    if (offset !== b.bytes || b.bytes >= this.perCommandBytes || this.total >= this.totalBytes) return;
    const kept = Buffer.from(data).subarray(0, Math.min(data.length, this.perCommandBytes - b.bytes, this.totalBytes - this.total));
    b.data.push(kept);
    b.bytes += kept.length;
    b.touchedAt = this.clock();
    this.total += kept.length;
    for (const wake of [...(this.waiters.get(id) ?? [])]) wake();
  }

  /** The output after `offset` bytes. */
  since(ip: string, commandId: string, offset: number): Buffer {
    const b = this.buffers.get(keyOf(ip, commandId));
    if (!b || offset >= b.bytes) return Buffer.alloc(0);
    return Buffer.concat(b.data).subarray(Math.max(0, offset));
  }

  /** Calls `listener` when a chunk arrives for the command (or it completed); returns the function that stops it. */
  listen(ip: string, commandId: string, listener: () => void): () => void {
    const id = keyOf(ip, commandId);
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    };
  }

  /** Wakes every waiter of a command (it completed). */
  wake(ip: string, commandId: string): void {
    for (const wake of [...(this.waiters.get(keyOf(ip, commandId)) ?? [])]) wake();
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, b] of this.buffers) {
      if (now - b.touchedAt > this.keepMs) {
        this.buffers.delete(id);
        this.total -= b.bytes;
      }
    }
  }
}

const keyOf = (ip: string, commandId: string) => `${ip}\n${commandId}`;
