import { randomUUID } from 'node:crypto';
import { int64, openClickHouse, type ClickHouse, type ClickHouseTarget } from './clickhouse-client.ts';
import { migrate } from './clickhouse-migrate.ts';
import { joinSql, sql, sqlIdentifier, tsvField, type SqlFragment } from './clickhouse-sql.ts';
import { normalizeRowFilter, rowInstant, type RowFilter, type ViewRow, type ViewStore } from './port.ts';

/**
 * The ViewStore in ClickHouse (MSEC_VIEWS=http://h:8123, or embedded chdb): the same SQL for
 * both, schema in clickhouse-migrations/.
 *
 * ClickHouse has no transactions, so the store gets its atomicity from single-row or
 * single-INSERT writes, and its idempotence from versions:
 * - A projection key points at a generation (a UUID) through `view_keys`; all data is stored by
 *   generation. promote and drop only insert newer key rows (promote moves both keys in one
 *   INSERT), so readers switch at once; the abandoned generation is deleted afterwards
 *   (ALTER … DELETE, in the background).
 * - A state and its checkpoint are one row of `view_states`; the newest version wins.
 * - Rows and a versioned checkpoint go in one TabSeparated INSERT, the checkpoint as its last
 *   line (a row with no event id that a materialized view copies into view_checkpoints:
 *   migration 002); a batch of more than `insertChunk` rows is sent in several, the checkpoint
 *   in the last. Queries only show rows at or below the stored checkpoint, so rows of a batch
 *   whose checkpoint was never written (a crash in between) are invisible until the retry
 *   stores it, and a row written twice is shown once (LIMIT 1 BY event_id, keeping the first
 *   written; merges keep the same copy).
 * Versions come from a clock that never goes back below a version it has read, so a write is
 * always newer than what it replaces, whatever the machine's clock did across restarts.
 * One writer per key at a time (the projection runner's rule) is assumed.
 */
export interface ClickHouseViewStoreOptions {
  /** Database holding the tables (default `msec`); created and migrated on open. */
  database?: string;
}

export class ClickHouseViewStore implements ViewStore {
  private readonly clock = new VersionClock();
  /** Generations whose stored versions this process has read, so its clock is past them. */
  private readonly observed = new Set<string>();
  /** The generation each key this store writes to uses (see generationForWrite). */
  private readonly writeGenerations = new Map<string, string>();
  private readonly keys: SqlFragment;
  private readonly checkpoints: SqlFragment;
  private readonly states: SqlFragment;
  private readonly rows: SqlFragment;

  /** Opens a client on `target`, migrates the schema, and owns the client (closed by close()). */
  static async open(target: ClickHouseTarget, options: ClickHouseViewStoreOptions = {}): Promise<ClickHouseViewStore> {
    const ch = await openClickHouse(target);
    try {
      return await ClickHouseViewStore.on(ch, options, true);
    } catch (err) {
      await ch.close().catch(() => undefined);
      throw err;
    }
  }

  /** A store on a client opened by its owner (who closes it); migrates the schema first. */
  static async on(ch: ClickHouse, options: ClickHouseViewStoreOptions = {}, ownsClient = false): Promise<ClickHouseViewStore> {
    const database = options.database ?? 'msec';
    await migrate(ch, database);
    return new ClickHouseViewStore(ch, database, ownsClient);
  }

  private constructor(private readonly ch: ClickHouse, readonly database: string, private readonly ownsClient: boolean) {
    const db = sqlIdentifier(database);
    this.keys = sql`${db}.view_keys`;
    this.checkpoints = sql`${db}.view_checkpoints`;
    this.states = sql`${db}.view_states`;
    this.rows = sql`${db}.view_rows`;
  }

  /** The client, for other views in the same database (metrics, logs): chdb allows one per process. */
  get client(): ClickHouse {
    return this.ch;
  }

  async loadState<S = unknown>(projectionKey: string): Promise<{ state: S; checkpoint: number } | null> {
    const generation = await this.generationOf(projectionKey);
    if (!generation) return null;
    const [latest] = await this.ch.select<{ state: string }>(
      sql`SELECT state FROM ${this.states} WHERE generation = ${generation} ORDER BY version DESC LIMIT 1`,
      `reading the state of ${projectionKey}`);
    if (!latest) return null;
    const head = await this.head(generation, projectionKey);
    return { state: JSON.parse(latest.state) as S, checkpoint: head!.checkpoint };
  }

  async saveState(projectionKey: string, state: unknown, checkpoint: number): Promise<void> {
    const text = JSON.stringify(state);
    if (text === undefined) throw new TypeError(`the state of ${projectionKey} is not JSON-serialisable (got ${typeof state})`);
    assertPosition(checkpoint, `checkpoint of ${projectionKey}`);
    const generation = await this.generationForWrite(projectionKey);
    await this.ch.insert(this.states.text, [{ generation, version: this.clock.next(), checkpoint, state: text }],
      `storing the state of ${projectionKey} at position ${checkpoint}`);
  }

  async appendRows(projectionKey: string, rows: readonly ViewRow[], checkpoint: number): Promise<void> {
    assertPosition(checkpoint, `checkpoint of ${projectionKey}`);
    const generation = await this.generationForWrite(projectionKey);
    // Everything is serialised and checked before anything is written: all or nothing.
    const precedence = maxVersion - this.clock.next();
    const tail = `\t${precedence}\n`;
    const lines = rows.map((row) => {
      assertPosition(row.position, `position of row ${row.eventId}`);
      if (row.position > checkpoint) {
        throw new RangeError(`row ${row.eventId} is at position ${row.position}, after the checkpoint ${checkpoint} it is stored with: rows are only visible up to their checkpoint`);
      }
      if (typeof row.eventId !== 'string' || row.eventId === '') throw new TypeError(`a row of ${projectionKey} at position ${row.position} has no event id`);
      const json = JSON.stringify(row);
      if (json === undefined) throw new TypeError(`row ${row.eventId} of ${projectionKey} is not JSON-serialisable`);
      return `${generation}\t${row.position}\t${tsvField(row.eventId)}\t${tsvField(rowInstant(row))}\t${tsvField(text(row.actor))}`
        + `\t${tsvField(text(row.stream))}\t${tsvField(text(row.type))}\t${tsvField(json)}${tail}`;
    });
    const checkpointLine = `${generation}\t${checkpoint}\t\t\t\\N\t\\N\t\\N\t\t${maxVersion - this.clock.next()}\n`;
    const doing = `storing rows of ${projectionKey} up to position ${checkpoint}`;
    // Chunks keep each request quick (chdb parses an insert's body with the statement); they
    // need not be atomic, since rows above the stored checkpoint stay invisible.
    for (let i = 0; i < lines.length; i += insertChunk) {
      const last = i + insertChunk >= lines.length;
      const body = lines.slice(i, i + insertChunk).join('') + (last ? checkpointLine : '');
      await this.ch.insertTabSeparated(this.rows.text, rowColumns, body, doing);
    }
    if (lines.length === 0) await this.ch.insertTabSeparated(this.rows.text, rowColumns, checkpointLine, doing);
  }

  async queryRows(projectionKey: string, filter?: RowFilter): Promise<ViewRow[]> {
    const f = normalizeRowFilter(filter);
    const conditions: SqlFragment[] = [];
    if (f.stream !== undefined) conditions.push(sql`stream = ${f.stream}`);
    if (f.actor !== undefined) conditions.push(sql`actor = ${f.actor}`);
    if (f.type !== undefined) conditions.push(sql`type = ${f.type}`);
    if (f.since !== undefined) conditions.push(sql`time >= ${f.since}`);
    if (f.until !== undefined) conditions.push(sql`time < ${f.until}`);
    if (f.before !== undefined) {
      if (!Number.isFinite(f.before)) throw new RangeError(`before must be a position (a number), not ${String(f.before)}`);
      conditions.push(sql`position < ${Math.ceil(f.before)}`);
    }
    return this.visibleRows(projectionKey, conditions, sql`position DESC, event_id DESC`, f.limit, `querying rows of ${projectionKey}`);
  }

  async scanRows(projectionKey: string, afterPosition: number, limit: number): Promise<ViewRow[]> {
    if (!Number.isFinite(afterPosition)) throw new RangeError(`afterPosition must be a number, not ${afterPosition}`);
    const most = Math.max(0, Math.floor(limit));
    if (most === 0) return [];
    return this.visibleRows(projectionKey, [sql`position > ${Math.floor(afterPosition)}`], sql`position, event_id`, most,
      `scanning rows of ${projectionKey} after position ${afterPosition}`);
  }

  async checkpoint(projectionKey: string): Promise<number | null> {
    const generation = await this.generationOf(projectionKey);
    if (!generation) return null;
    return (await this.head(generation, projectionKey))?.checkpoint ?? null;
  }

  async promote(sourceKey: string, targetKey: string): Promise<void> {
    if (sourceKey === targetKey) return;
    this.writeGenerations.delete(sourceKey);
    this.writeGenerations.delete(targetKey);
    const source = await this.generationOf(sourceKey);
    const target = await this.generationOf(targetKey);
    const version = this.clock.next();
    await this.ch.insert(this.keys.text, [
      { projection_key: targetKey, version, generation: source ?? '' },
      { projection_key: sourceKey, version, generation: '' },
    ], `switching ${targetKey} to the content of ${sourceKey}`);
    if (target && target !== source) await this.purge(target, `${targetKey} before the switch`);
  }

  async drop(projectionKey: string): Promise<void> {
    this.writeGenerations.delete(projectionKey);
    const generation = await this.generationOf(projectionKey);
    if (!generation) return;
    await this.ch.insert(this.keys.text, [{ projection_key: projectionKey, version: this.clock.next(), generation: '' }],
      `dropping ${projectionKey}`);
    await this.purge(generation, projectionKey);
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.ch.close();
  }

  /** Rows of the key's generation at or below its checkpoint, one per event id (the first written). */
  private async visibleRows(projectionKey: string, conditions: SqlFragment[], order: SqlFragment, limit: number, doing: string): Promise<ViewRow[]> {
    const generation = await this.generationOf(projectionKey);
    if (!generation) return [];
    const head = await this.head(generation, projectionKey);
    if (!head) return [];
    // Rows with no event id are the checkpoints that travelled with the rows.
    const where = joinSql([sql`generation = ${generation}`, sql`position <= ${head.checkpoint}`, sql`event_id != ''`, ...conditions], ' AND ');
    const found = await this.ch.select<{ row: string }>(
      sql`SELECT row FROM ${this.rows} WHERE ${where} ORDER BY ${order}, precedence DESC LIMIT 1 BY event_id LIMIT ${limit}`, doing);
    return found.map(({ row }) => JSON.parse(row) as ViewRow);
  }

  /** The generation the key points at, or null. */
  private async generationOf(projectionKey: string): Promise<string | null> {
    // Aliases differ from column names: on 18.16 an alias shadows the column everywhere.
    const [found] = await this.ch.select<{ current: string; newest: string | number }>(
      sql`SELECT argMax(generation, version) AS current, max(version) AS newest FROM ${this.keys} WHERE projection_key = ${projectionKey}`,
      `looking up ${projectionKey}`);
    if (!found) return null;
    this.clock.observe(int64(found.newest));
    return found.current || null;
  }

  /** The current checkpoint of a generation (newest of its checkpoint and state rows), or null. */
  private async head(generation: string, projectionKey: string): Promise<{ checkpoint: number } | null> {
    const [found] = await this.ch.select<{ current: string | number; newest: string | number; found: string | number }>(sql`
      SELECT argMax(checkpoint, version) AS current, max(version) AS newest, count() AS found FROM (
        SELECT checkpoint, version FROM ${this.checkpoints} WHERE generation = ${generation}
        UNION ALL
        SELECT checkpoint, version FROM ${this.states} WHERE generation = ${generation})`,
    `reading the checkpoint of ${projectionKey}`);
    if (!found || int64(found.found) === 0) return null;
    this.clock.observe(int64(found.newest));
    this.observed.add(generation);
    return { checkpoint: int64(found.current) };
  }

  /** The key's generation, created when it has none; the clock is moved past its stored versions. */
  private async generationForWrite(projectionKey: string): Promise<string> {
    // One writer per key (the runner's rule): the generation it writes to only changes through
    // this store's own promote() or drop(), so it is looked up once, not on every batch (each
    // lookup is a round trip: 5–10 ms on 18.16).
    const known = this.writeGenerations.get(projectionKey);
    if (known) return known;
    let generation = await this.generationOf(projectionKey);
    if (generation) {
      if (!this.observed.has(generation)) await this.head(generation, projectionKey);
    } else {
      generation = randomUUID();
      await this.ch.insert(this.keys.text, [{ projection_key: projectionKey, version: this.clock.next(), generation }],
        `creating the storage of ${projectionKey}`);
      this.observed.add(generation);
    }
    this.writeGenerations.set(projectionKey, generation);
    return generation;
  }

  /**
   * Deletes the data of a generation no key points at any more. Mutations run in the
   * background; nothing reads the generation meanwhile, so their progress is not awaited.
   * The switch before it already happened: a failure here only leaves unreachable data (disk
   * space, never a wrong answer), so it does not fail the promote or drop.
   */
  private async purge(generation: string, what: string): Promise<void> {
    this.observed.delete(generation);
    for (const table of [this.rows, this.checkpoints, this.states]) {
      const deleted = await this.ch.command(sql`ALTER TABLE ${table} DELETE WHERE generation = ${generation}`, `deleting the old data of ${what}`)
        .then(() => true, () => false);
      if (!deleted) return;
    }
  }
}

/** Versions are microseconds since 1970, moved past every version read (`observe`). */
class VersionClock {
  private last = 0;

  next(): number {
    this.last = Math.max(this.last + 1, Date.now() * 1000);
    return this.last;
  }

  observe(version: number): void {
    if (version > this.last) this.last = version;
  }
}

/** Rows per insert request. */
const insertChunk = 5_000;

const rowColumns = ['generation', 'position', 'event_id', 'time', 'actor', 'stream', 'type', 'row', 'precedence'] as const;

/** Precedence of a row: higher for rows written earlier (ReplacingMergeTree keeps the highest). */
const maxVersion = Number.MAX_SAFE_INTEGER;

function assertPosition(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`the ${what} must be a whole number ≥ 0, not ${String(value)}`);
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
