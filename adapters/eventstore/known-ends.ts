/**
 * Where the events table ends, as far as one SQLite connection knows: no event after a global
 * position, no revision after a stream's. Followers that are caught up and commands whose
 * stream is cached ask "anything new?" after every append, and the answer is nearly always
 * no: this answers it without a query while no other connection has committed.
 *
 * SQLite's `PRAGMA data_version` changes when another connection (of this process or another)
 * commits, never for this connection's own commits: the knowledge is dropped whenever it moved.
 * It is read before the query whose result is recorded, so a commit landing in between only
 * makes the next look query again.
 */
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../sqlite/open.ts';

export class KnownEnds {
  private readonly dataVersion: Statement<[], number>;
  /** data_version when the knowledge below was started; undefined: nothing known yet. */
  private validAt: number | undefined;
  /** No event has a position after this (-1: unknown). */
  private head = -1;
  /** Per stream: no event of it has a revision after this (-1 for a stream with no events). */
  private readonly streams = new Map<string, number>();

  constructor(db: SqliteDatabase, private readonly streamLimit = 10_000) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck() as Statement<[], number>;
  }

  /** True when the table surely holds no event after `position`. */
  nothingAfter(position: number): boolean {
    return this.current() && this.head >= 0 && position >= this.head;
  }

  /** True when the stream surely holds no revision from `revision` on. */
  nothingFrom(stream: string, revision: number): boolean {
    if (!this.current()) return false;
    const last = this.streams.get(stream);
    return last !== undefined && last < revision;
  }

  /** The last position known to exist, without asking whether another connection committed since (undefined: none known). */
  knownHead(): number | undefined {
    return this.head >= 0 ? this.head : undefined;
  }

  /** A read (or this connection's commit) found no event after `position`. */
  endsAt(position: number): void {
    this.head = Math.max(this.head, position);
  }

  /** A read (or this connection's commit) found no revision of `stream` after `revision`. */
  streamEndsAt(stream: string, revision: number): void {
    this.streams.delete(stream); // re-inserted last: the oldest entries leave first
    this.streams.set(stream, revision);
    for (const oldest of this.streams.keys()) {
      if (this.streams.size <= this.streamLimit) break;
      this.streams.delete(oldest);
    }
  }

  /** Whether what is known still holds; when another connection committed, it is dropped and known again from now on. */
  private current(): boolean {
    const version = this.dataVersion.get()!;
    if (version === this.validAt) return true;
    this.validAt = version;
    this.head = -1;
    this.streams.clear();
    return false;
  }
}
