import { normalizeRowFilter, rowInstant, type RowFilter, type ViewRow, type ViewStore } from './port.ts';

interface Stored {
  checkpoint: number;
  /** JSON text, as a real store would keep it: a state that does not survive JSON fails here too. */
  state?: string;
  rows: Map<string, { row: string; position: number; time: string }>;
}

/** ViewStore in memory, for tests and `MSEC_VIEWS=memory`. Same contract as the SQLite one. */
export class MemoryViewStore implements ViewStore {
  private readonly keys = new Map<string, Stored>();

  async loadState<S = unknown>(projectionKey: string): Promise<{ state: S; checkpoint: number } | null> {
    const stored = this.keys.get(projectionKey);
    if (!stored || stored.state === undefined) return null;
    return { state: JSON.parse(stored.state) as S, checkpoint: stored.checkpoint };
  }

  async saveState(projectionKey: string, state: unknown, checkpoint: number): Promise<void> {
    const stored = this.slot(projectionKey);
    stored.state = JSON.stringify(state);
    stored.checkpoint = checkpoint;
  }

  async appendRows(projectionKey: string, rows: readonly ViewRow[], checkpoint: number): Promise<void> {
    const stored = this.slot(projectionKey);
    const text = rows.map((row) => JSON.stringify(row)); // serialise first: all or nothing
    rows.forEach((row, i) => {
      if (!stored.rows.has(row.eventId)) stored.rows.set(row.eventId, { row: text[i]!, position: row.position, time: rowInstant(row) });
    });
    stored.checkpoint = checkpoint;
  }

  async queryRows(projectionKey: string, filter?: RowFilter): Promise<ViewRow[]> {
    const f = normalizeRowFilter(filter);
    const matches = this.sortedRows(projectionKey).reverse().filter(({ row, time }) => {
      const r = JSON.parse(row) as ViewRow;
      return (f.stream === undefined || r.stream === f.stream)
        && (f.actor === undefined || r.actor === f.actor)
        && (f.type === undefined || r.type === f.type)
        && (f.since === undefined || time >= f.since)
        && (f.until === undefined || time < f.until)
        && (f.before === undefined || r.position < f.before);
    });
    return matches.slice(0, f.limit).map(({ row }) => JSON.parse(row) as ViewRow);
  }

  async scanRows(projectionKey: string, afterPosition: number, limit: number): Promise<ViewRow[]> {
    return this.sortedRows(projectionKey)
      .filter((r) => r.position > afterPosition)
      .slice(0, limit)
      .map(({ row }) => JSON.parse(row) as ViewRow);
  }

  async checkpoint(projectionKey: string): Promise<number | null> {
    return this.keys.get(projectionKey)?.checkpoint ?? null;
  }

  async promote(sourceKey: string, targetKey: string): Promise<void> {
    if (sourceKey === targetKey) return;
    const source = this.keys.get(sourceKey);
    this.keys.delete(sourceKey);
    if (source) this.keys.set(targetKey, source);
    else this.keys.delete(targetKey);
  }

  async drop(projectionKey: string): Promise<void> {
    this.keys.delete(projectionKey);
  }

  async close(): Promise<void> {}

  private slot(projectionKey: string): Stored {
    let stored = this.keys.get(projectionKey);
    if (!stored) {
      stored = { checkpoint: 0, rows: new Map() };
      this.keys.set(projectionKey, stored);
    }
    return stored;
  }

  /** Oldest first; ties (several rows of one event cannot happen) broken by event id. */
  private sortedRows(projectionKey: string) {
    const rows = [...(this.keys.get(projectionKey)?.rows.entries() ?? [])];
    return rows
      .sort(([ida, a], [idb, b]) => a.position - b.position || (ida < idb ? -1 : ida > idb ? 1 : 0))
      .map(([, r]) => r);
  }
}
