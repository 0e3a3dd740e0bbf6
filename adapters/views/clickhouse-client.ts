/**
 * One code path to ClickHouse (design.md, Views): a server over HTTP (MSEC_VIEWS=http://h:8123)
 * or the embedded engine (chdb, a ClickHouse 26.x in this process), both through
 * @clickhouse/client — chdb plugs in as the client's connection. Only the async API is used:
 * the sync one of chdb would block the event loop.
 *
 * What differs between the engines is smoothed here and nowhere else:
 * - 64-bit integers come back as JSON strings from 18.16 and as numbers from 26.x: `int64`.
 * - 18.16 errors carry no `code` field, only "Code: N" in the message: `clickHouseErrorCode`.
 * - the client's own console logging is off: every failure is thrown as an error that names
 *   the target, what was being done and what to do next.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { Readable } from 'node:stream';
import type { SqlFragment } from './clickhouse-sql.ts';

export type ClickHouseTarget =
  | { url: string; username?: string; password?: string; requestTimeoutMs?: number }
  | { chdbPath: string };

export interface ClickHouse {
  /** The @clickhouse/client client, for what the helpers below do not cover. */
  readonly client: ClickHouseClient;
  readonly engine: 'server' | 'chdb';
  /** "ClickHouse at http://…" or "embedded chdb in /path", for messages. */
  readonly where: string;
  /** Runs a statement that returns nothing (DDL, ALTER). `doing` names it in errors. */
  command(statement: SqlFragment, doing: string): Promise<void>;
  /** Runs a SELECT and returns its rows (JSONEachRow). */
  select<T = Record<string, unknown>>(query: SqlFragment, doing: string): Promise<T[]>;
  /** Inserts rows in one JSONEachRow request; `table` is a trusted `db.table` name. */
  insert(table: string, rows: readonly object[], doing: string): Promise<void>;
  /**
   * Inserts lines already in TabSeparated (fields escaped with `tsvField`) in one request:
   * ClickHouse parses it two to three times faster than JSONEachRow.
   */
  insertTabSeparated(table: string, columns: readonly [string, ...string[]], body: string, doing: string): Promise<void>;
  close(): Promise<void>;
}

/** The server is not reachable (down, restarting, refused): try again later. */
export class ClickHouseUnavailable extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClickHouseUnavailable';
  }
}

/** The server answered with an error (bad SQL, missing table…). `code` is ClickHouse's number. */
export class ClickHouseQueryFailed extends Error {
  readonly retriable: boolean;
  constructor(message: string, readonly code: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClickHouseQueryFailed';
    // Memory limit, too many parts, timeouts, table being altered: transient on a server.
    this.retriable = code !== undefined && [159, 160, 202, 209, 210, 241, 252, 425, 473].includes(code);
  }
}

/**
 * Opens a client. For chdb, one process can hold one data directory (a second process gets
 * "Cannot lock file"); several clients in the same process on the same path share it.
 */
export async function openClickHouse(target: ClickHouseTarget): Promise<ClickHouse> {
  if ('chdbPath' in target) {
    let createChdbConnection;
    try {
      ({ createChdbConnection } = await import('chdb/connection'));
    } catch (err) {
      throw new Error(`the embedded ClickHouse (npm package chdb) cannot be loaded: ${(err as Error).message}; reinstall it with npm ci, or use a ClickHouse server (MSEC_VIEWS=http://host:8123)`, { cause: err });
    }
    let connection;
    try {
      connection = createChdbConnection({ path: target.chdbPath });
    } catch (err) {
      throw new Error(`embedded chdb cannot open ${target.chdbPath}: ${(err as Error).message}`
        + '; only one process may use a chdb data directory at a time (stop the other one, or give this one its own MSEC_HOME)', { cause: err });
    }
    // chdb's Connection is typed against its own copy of @clickhouse/client-common.
    const client = createClient({ connection: connection as unknown as ClickHouseClientConfigOptions['connection'], log: { level: ClickHouseLogLevel.OFF } });
    return wrap(client, 'chdb', `embedded chdb in ${target.chdbPath}`);
  }
  const client = createClient({
    url: target.url,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    request_timeout: target.requestTimeoutMs ?? 30_000,
    log: { level: ClickHouseLogLevel.OFF },
    // Idle sockets are dropped before the server's keep_alive_timeout (3 s) closes them, so a
    // request never lands on a socket the server already shut.
    keep_alive: { enabled: true, idle_socket_ttl: 1_500 },
    // gzip of the answers costs 18.16 about 8 ms a query, more than the small answers of the
    // views (≤ 1000 rows) ever save.
    compression: { response: false, request: false },
  });
  return wrap(client, 'server', `ClickHouse at ${redact(target.url)}`);
}

function wrap(client: ClickHouseClient, engine: 'server' | 'chdb', where: string): ClickHouse {
  const fail = (err: unknown, doing: string): never => {
    throw describeFailure(err, where, doing);
  };
  return {
    client,
    engine,
    where,
    async command(statement, doing) {
      try {
        await client.command({ query: statement.text });
      } catch (err) {
        fail(err, doing);
      }
    },
    async select<T>(query: SqlFragment, doing: string): Promise<T[]> {
      try {
        const result = await client.query({ query: query.text, format: 'JSONEachRow' });
        return await result.json<T>();
      } catch (err) {
        return fail(err, doing);
      }
    },
    async insert(table, rows, doing) {
      if (rows.length === 0) return;
      try {
        await client.insert({ table, values: rows as object[], format: 'JSONEachRow' });
      } catch (err) {
        fail(err, doing);
      }
    },
    async insertTabSeparated(table, columns, body, doing) {
      if (body === '') return;
      try {
        await client.insert({ table, values: Readable.from([Buffer.from(body)], { objectMode: false }), format: 'TabSeparated', columns: [...columns] });
      } catch (err) {
        fail(err, doing);
      }
    },
    close: () => client.close(),
  };
}

/** A 64-bit integer column as a JS number (18.16 sends "42", 26.x sends 42). */
export function int64(value: unknown): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new RangeError(`expected an integer from ClickHouse, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** ClickHouse's error number: the `code` field (26.x) or "Code: N" in the message (18.16). */
export function clickHouseErrorCode(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const field = (err as { code?: unknown }).code;
  if (typeof field === 'string' && /^\d+$/.test(field)) return Number(field);
  if (typeof field === 'number') return field;
  const match = /\bCode: (\d+)/.exec(err.message);
  return match ? Number(match[1]) : undefined;
}

const unreachable = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|Timeout error|other side closed|closed the connection/i;

/** Turns a client error into one that says where, what failed, and what to do. */
export function describeFailure(err: unknown, where: string, doing: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  const sysCode = err instanceof Error ? String((err as { code?: unknown }).code ?? '') : '';
  if (unreachable.test(sysCode) || unreachable.test(message)) {
    return new ClickHouseUnavailable(
      `${where} is not answering (${sysCode || firstLine(message)}) while ${doing}: start the server or check MSEC_VIEWS (projections retry on their own)`,
      { cause: err });
  }
  const code = clickHouseErrorCode(err);
  return new ClickHouseQueryFailed(`${where} refused ${doing}: ${firstLine(message)}${hint(code)}`, code, { cause: err });
}

function hint(code: number | undefined): string {
  switch (code) {
    case 60: // UNKNOWN_TABLE
    case 81: // UNKNOWN_DATABASE
      return ' (the views schema is missing: the store creates it on open; was the database dropped?)';
    case 516: // AUTHENTICATION_FAILED
    case 192: // UNKNOWN_USER
    case 193: // WRONG_PASSWORD
      return ' (check the user and password in MSEC_VIEWS, e.g. http://user:password@host:8123)';
    default:
      return '';
  }
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.length > 300 ? `${line.slice(0, 299)}…` : line.trim();
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
