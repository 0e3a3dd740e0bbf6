/**
 * States kept at regular positions of the log, so a state of the past is folded from the
 * nearest one at or before it rather than from position 0. Pure and bounded: at most
 * `maxSnapshots` are kept; adding one more drops every other one and doubles the spacing, so
 * the ladder always covers the whole log evenly and a fold never reads more than one spacing.
 */
export class SnapshotLadder<S> {
  /** Sorted by position; position 0 (the initial state) is always there. */
  private readonly rungs: { position: number; state: S }[];
  private spacing: number;

  constructor(initial: S, spacing: number, private readonly maxSnapshots: number) {
    if (!Number.isSafeInteger(spacing) || spacing < 1) throw new RangeError(`the spacing of snapshots must be a whole number ≥ 1, not ${spacing}`);
    if (!Number.isSafeInteger(maxSnapshots) || maxSnapshots < 2) throw new RangeError(`at least 2 snapshots must be kept, not ${maxSnapshots}`);
    this.rungs = [{ position: 0, state: initial }];
    this.spacing = spacing;
  }

  /** Positions apart of two snapshots (doubles as the log grows past the ladder). */
  get every(): number {
    return this.spacing;
  }

  get size(): number {
    return this.rungs.length;
  }

  /** The snapshot at or nearest before `position`. */
  nearest(position: number): { position: number; state: S } {
    let low = 0;
    let high = this.rungs.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.rungs[mid]!.position <= position) low = mid;
      else high = mid - 1;
    }
    return this.rungs[low]!;
  }

  /** Whether a state folded to `position` belongs on the ladder (a multiple of the spacing not kept yet). */
  wants(position: number): boolean {
    return position > 0 && position % this.spacing === 0 && this.nearest(position).position !== position;
  }

  /** Keeps the state at `position` (ignored unless `wants(position)`). */
  add(position: number, state: S): void {
    if (!this.wants(position)) return;
    const at = this.rungs.findIndex((rung) => rung.position > position);
    this.rungs.splice(at < 0 ? this.rungs.length : at, 0, { position, state });
    while (this.rungs.length > this.maxSnapshots) this.thin();
  }

  /** Doubles the spacing and keeps only the snapshots on it. */
  private thin(): void {
    this.spacing *= 2;
    for (let i = this.rungs.length - 1; i > 0; i--) {
      if (this.rungs[i]!.position % this.spacing !== 0) this.rungs.splice(i, 1);
    }
  }
}
