/**
 * Bytes of unfinished requests (partial frames, HTTP bodies being read) held by all the
 * connections of one port. Each connection tells the budget how much it holds now; growing
 * past the limit is refused and the connection is closed, so no set of clients can make the
 * server hold more than the limit, whatever they send and however slowly.
 */
export class BufferBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Bytes held now, across connections. */
  get bytes(): number {
    return this.held;
  }

  /**
   * A holder's share goes from `before` to `after` bytes. Shrinking always works; growing
   * past the limit is refused (false) and changes nothing.
   */
  resize(before: number, after: number): boolean {
    const next = this.held - before + after;
    if (after > before && next > this.limit) return false;
    this.held = next;
    return true;
  }
}
