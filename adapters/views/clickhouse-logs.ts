/**
 * Business logs and call edges in ClickHouse (schema: clickhouse-migrations/020_logs.sql,
 * 021_call_edges.sql; same SQL on a 18.16 server and on chdb). Writes are idempotent by the
 * ingest id of each row; reads show one copy per id. Every value of every query is a literal
 * bound by `sql` (clickhouse-sql.ts) from a LogQuery that domain/logs/query.ts checked: no
 * text a user typed is ever SQL.
 */
import type { LogQuery } from '../../domain/logs/query.ts';
import { errorLevel, type EdgeRow, type RecordSummary } from '../../projections/call-graph.ts';
import type { CallEdge, LogRecord } from '../../schemas/reports.ts';
import { int64, type ClickHouse } from './clickhouse-client.ts';
import { joinSql, sql, sqlIdentifier, type SqlFragment } from './clickhouse-sql.ts';

/** A stored record as queries answer it. */
export interface StoredLogRecord extends LogRecord {
  /** The ingest id: unique per record, the same on every redelivery. */
  id: string;
  reporter: string;
}

export interface LogQueryAnswer {
  /** Oldest first. */
  records: StoredLogRecord[];
  /** More records matched than the limit: these are the newest ones. */
  truncated: boolean;
  /** Records the service's processes kept but could not ship, in the range (their reports). */
  dropped: number;
}

export interface LogWrite {
  id: string;
  reporter: string;
  record: LogRecord;
}

export interface EdgeWrite {
  id: string;
  reporter: string;
  edge: CallEdge;
}

export interface DropWrite {
  id: string;
  reporter: string;
  atMs: number;
  dropped: number;
}

const header = {
  ReqID: 'request_id', ClientIP: 'client_ip', ServerIP: 'server_ip', RPCName: 'rpc_name', Caller: 'caller', ServiceName: 'service',
} as const;

const recordColumns = sql`ingest_id, time_ms, level, service, request_id, client_ip, server_ip, rpc_name, caller, coloring, message, field_names, field_values, reporter`;

interface RecordRow {
  ingest_id: string; time_ms: string | number; level: number; service: string; request_id: string; client_ip: string; server_ip: string;
  rpc_name: string; caller: string; coloring: number; message: string; field_names: string[]; field_values: string[]; reporter: string;
}

/** Rows in one insert request. */
export const insertRows = 100_000;

/** A record as a row of `logs` (JSONEachRow). */
export function logRow({ id, reporter, record: r }: LogWrite): Record<string, unknown> {
  return {
    time_ms: r.timeMs, service: r.service, level: r.level, request_id: r.requestId, client_ip: r.clientIp, server_ip: r.serverIp,
    rpc_name: r.rpcName, caller: r.caller, coloring: r.coloring, message: r.message, field_names: r.fieldNames, field_values: r.fieldValues,
    reporter, ingest_id: id,
  };
}

/** Partitions are days (toYYYYMMDD): the tables retention drops whole days of. */
const retainedTables = ['logs', 'logs_requests', 'log_drops', 'call_edges'] as const;

export class ClickHouseLogStore {
  private readonly db: SqlFragment;
  private readonly logs: SqlFragment;
  private readonly requests: SqlFragment;
  private readonly drops: SqlFragment;
  private readonly edges: SqlFragment;

  /** On the views' client and database (the migrations ran when the view store opened). */
  constructor(private readonly ch: ClickHouse, readonly database: string) {
    this.db = sqlIdentifier(database);
    this.logs = sql`${this.db}.logs`;
    this.requests = sql`${this.db}.logs_requests`;
    this.drops = sql`${this.db}.log_drops`;
    this.edges = sql`${this.db}.call_edges`;
  }

  /** Every query goes through here (tests watch what is sent). */
  get client(): ClickHouse {
    return this.ch;
  }

  /** In inserts of at most `insertRows` rows (ClickHouse's advice: 10 000 to 100 000 rows a request). */
  // Each insert holds one day (one partition): ClickHouse refuses an insert spanning over 100
  // partitions, and reports may carry times anywhere in the retention.
  async insertRecords(rows: readonly LogWrite[]): Promise<void> {
    for (const day of byDay(rows, (r) => r.record.timeMs)) {
      for (let i = 0; i < day.length; i += insertRows) {
        const chunk = day.slice(i, i + insertRows);
        await this.ch.insert(this.logs.text, chunk.map(logRow), `storing ${chunk.length} log records`);
      }
    }
  }

  async insertDrops(rows: readonly DropWrite[]): Promise<void> {
    for (const day of byDay(rows, (d) => d.atMs)) {
      await this.ch.insert(this.drops.text, day.map((d) => ({ time_ms: d.atMs, reporter: d.reporter, dropped: d.dropped, ingest_id: d.id })),
        'storing the log drops reported');
    }
  }

  async insertEdges(rows: readonly EdgeWrite[]): Promise<void> {
    for (const day of byDay(rows, (r) => r.edge.atMs)) {
      await this.ch.insert(this.edges.text, day.map(({ id, reporter, edge: e }) => ({
        request_id: e.requestId, at_ms: e.atMs, side: e.side, caller: e.caller, callee: e.callee, method: e.method, err: e.err,
        latency_ms: e.latencyMs, instance: e.instance, reporter, ingest_id: id,
      })), `storing ${day.length} call edges`);
    }
  }

  /** The records a checked query selects: the newest `limit`, answered oldest first. */
  async query(q: LogQuery): Promise<LogQueryAnswer> {
    const conditions: SqlFragment[] = [];
    let sinceMs = q.sinceMs;
    let untilMs = q.untilMs;
    if (q.requestId !== undefined) {
      // Which services logged the request, and when: a lookup in the table sorted by request id.
      const where = [sql`request_id = ${q.requestId}`, ...timeRange('time', sinceMs, untilMs)];
      if (q.service !== undefined) where.push(sql`service = ${q.service}`);
      const found = await this.ch.select<{ service: string; t_first: string | number; t_last: string | number }>(
        sql`SELECT service, toUInt32(min(time)) AS t_first, toUInt32(max(time)) AS t_last FROM ${this.requests} WHERE ${joinSql(where, ' AND ')} GROUP BY service`,
        `finding the services that logged request ${q.requestId}`);
      if (found.length === 0) return { records: [], truncated: false, dropped: 0 };
      conditions.push(sql`service IN (${list(found.map((f) => f.service))})`, sql`request_id = ${q.requestId}`);
      sinceMs = Math.max(sinceMs, Math.min(...found.map((f) => int64(f.t_first))) * 1000);
      untilMs = Math.min(untilMs, Math.max(...found.map((f) => int64(f.t_last))) * 1000 + 999);
    } else {
      conditions.push(sql`service = ${q.service!}`);
    }
    conditions.push(...timeRange('time', sinceMs, untilMs), sql`time_ms >= ${sinceMs}`, sql`time_ms <= ${untilMs}`);
    if (q.minLevel > 1) conditions.push(sql`level >= ${q.minLevel}`);
    if (q.ip !== undefined) conditions.push(sql`(client_ip = ${q.ip} OR server_ip = ${q.ip})`);
    for (const h of q.headers) conditions.push(sql`${sqlIdentifier(header[h.header])} = ${h.value}`);
    for (const f of q.fields) conditions.push(sql`arrayExists((n, v) -> n = ${f.name} AND v = ${f.value}, field_names, field_values)`);
    if (q.grep !== undefined) conditions.push(sql`positionCaseInsensitiveUTF8(message, ${q.grep}) > 0`);
    const rows = await this.ch.select<RecordRow>(
      sql`SELECT ${recordColumns} FROM ${this.logs} WHERE ${joinSql(conditions, ' AND ')} ORDER BY time_ms DESC, ingest_id DESC LIMIT 1 BY ingest_id LIMIT ${q.limit + 1}`,
      q.requestId !== undefined ? `reading the records of request ${q.requestId}` : `reading the records of ${q.service}`);
    const truncated = rows.length > q.limit;
    const records = rows.slice(0, q.limit).reverse().map(storedRecord);
    const dropped = q.service !== undefined ? await this.droppedBy(q.service, sinceMs, untilMs) : 0;
    return { records, truncated, dropped };
  }

  /** Records reported dropped by a service's processes in a time range. */
  async droppedBy(reporter: string, sinceMs: number, untilMs: number): Promise<number> {
    const [row] = await this.ch.select<{ dropped: string | number }>(
      sql`SELECT sum(dropped) AS dropped FROM (SELECT dropped FROM ${this.drops} WHERE reporter = ${reporter} AND ${joinSql(timeRange('time', sinceMs, untilMs), ' AND ')} LIMIT 1 BY ingest_id)`,
      `reading the log drops of ${reporter}`);
    // A sum past 2^53 (forged counts) is shown as the largest exact count, never a failed query.
    return row ? Math.min(Number(row.dropped), Number.MAX_SAFE_INTEGER) : 0;
  }

  /** The call edges of a request, both sides, in the order they ended. */
  async requestEdges(requestId: string, limit = 5000): Promise<EdgeRow[]> {
    const rows = await this.ch.select<{ side: string; caller: string; callee: string; method: string; err: number; latency_ms: number; at_ms: string | number; instance: string }>(
      sql`SELECT side, caller, callee, method, err, latency_ms, at_ms, instance FROM ${this.edges} WHERE request_id = ${requestId} ORDER BY at_ms, ingest_id LIMIT 1 BY ingest_id LIMIT ${limit}`,
      `reading the call edges of request ${requestId}`);
    return rows.map((r) => ({
      side: r.side === 'server' ? 'server' : 'client', caller: r.caller, callee: r.callee, method: r.method, err: Number(r.err),
      latencyMs: Number(r.latency_ms), atMs: int64(r.at_ms), instance: r.instance,
    }));
  }

  /** Per service: how many records the request has, how many at ERROR or above, where and when. */
  async requestSummaries(requestId: string): Promise<RecordSummary[]> {
    const found = await this.ch.select<{ service: string; t_first: string | number; t_last: string | number }>(
      sql`SELECT service, toUInt32(min(time)) AS t_first, toUInt32(max(time)) AS t_last FROM ${this.requests} WHERE request_id = ${requestId} GROUP BY service`,
      `finding the services that logged request ${requestId}`);
    if (found.length === 0) return [];
    const since = Math.min(...found.map((f) => int64(f.t_first)));
    const until = Math.max(...found.map((f) => int64(f.t_last)));
    const rows = await this.ch.select<{ service: string; records: string | number; errors: string | number; ips: string[]; first_ms: string | number; last_ms: string | number }>(
      sql`SELECT service, count() AS records, countIf(level >= ${errorLevel}) AS errors, groupUniqArray(server_ip) AS ips, min(time_ms) AS first_ms, max(time_ms) AS last_ms
          FROM (SELECT service, level, server_ip, time_ms FROM ${this.logs}
                WHERE service IN (${list(found.map((f) => f.service))}) AND time >= toDateTime(${since}) AND time <= toDateTime(${until}) AND request_id = ${requestId}
                LIMIT 1 BY ingest_id)
          GROUP BY service ORDER BY service`,
      `summarising the records of request ${requestId}`);
    return rows.map((r) => ({
      service: r.service, records: int64(r.records), errorRecords: int64(r.errors), serverIps: [...r.ips].sort(), firstMs: int64(r.first_ms), lastMs: int64(r.last_ms),
    }));
  }

  /**
   * Drops the days older than `days` before `now` from every log and edge table (ALTER …
   * DROP PARTITION: instant, and 18.16 has no TTL). Answers the days dropped.
   */
  async dropExpired(now: number, days: number): Promise<number[]> {
    const cutoff = Number(new Date(now - days * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''));
    const parts = await this.ch.select<{ table: string; partition: string }>(
      sql`SELECT DISTINCT table, partition FROM system.parts WHERE database = ${this.database} AND table IN (${list([...retainedTables])}) AND active`,
      'listing the days of logs kept');
    const dropped = new Set<number>();
    for (const { table, partition } of parts) {
      if (!/^\d{8}$/.test(partition) || Number(partition) >= cutoff) continue;
      await this.ch.command(sql`ALTER TABLE ${this.db}.${sqlIdentifier(table)} DROP PARTITION ${Number(partition)}`, `dropping ${table} of ${partition} (retention ${days} days)`);
      dropped.add(Number(partition));
    }
    return [...dropped].sort();
  }
}

/** Conditions on a DateTime column for a ms range: whole seconds, so the sorting key is used. */
function timeRange(column: 'time', sinceMs: number, untilMs: number): SqlFragment[] {
  const col = sqlIdentifier(column);
  return [sql`${col} >= toDateTime(${Math.max(0, Math.floor(sinceMs / 1000))})`, sql`${col} <= toDateTime(${Math.max(0, Math.floor(untilMs / 1000))})`];
}

/** `'a', 'b'`: the items of an IN list, each a literal. */
function list(values: readonly string[]): SqlFragment {
  return joinSql(values.map((v) => sql`${v}`), ', ');
}

function storedRecord(r: RecordRow): StoredLogRecord {
  return {
    id: r.ingest_id, timeMs: int64(r.time_ms), level: Number(r.level), service: r.service, requestId: r.request_id, clientIp: r.client_ip,
    serverIp: r.server_ip, rpcName: r.rpc_name, caller: r.caller, coloring: Number(r.coloring), message: r.message,
    fieldNames: r.field_names, fieldValues: r.field_values, reporter: r.reporter,
  };
}

/** Rows grouped by UTC day of `ms`, in the order days first appear (one group when all share a day). */
function byDay<T>(rows: readonly T[], ms: (row: T) => number): T[][] {
  const days = new Map<number, T[]>();
  for (const row of rows) {
    const day = Math.floor(ms(row) / 86_400_000);
    const list = days.get(day);
    if (list) list.push(row);
    else days.set(day, [row]);
  }
  return [...days.values()];
}
