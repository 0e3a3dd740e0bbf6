-- The views schema (adapters/views/clickhouse.ts). `{database}` is replaced by the database
-- name. Every statement must be idempotent (IF NOT EXISTS): ClickHouse DDL is not
-- transactional, so a migration cut short is simply run again. Only SQL that runs on both
-- ClickHouse 18.16 (Debian's server) and 26.x (chdb): no DateTime64, Map, LowCardinality,
-- TTL, CTE, DELETE FROM, query parameters.

-- Which generation of data a projection key reads and writes. A key is switched (promote,
-- drop) by inserting a newer row; '' means the key has no data. One INSERT of several rows is
-- one part, so a promote that moves two keys at once is atomic.
CREATE TABLE IF NOT EXISTS {database}.view_keys (
  projection_key String,
  version        UInt64,
  generation     String
) ENGINE = ReplacingMergeTree(version) ORDER BY projection_key;

-- Checkpoints of row projections, one row per write; the highest version is the current one.
CREATE TABLE IF NOT EXISTS {database}.view_checkpoints (
  generation String,
  version    UInt64,
  checkpoint UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY generation;

-- State documents (JSON) with their checkpoint in the same row, so the pair is written at once.
CREATE TABLE IF NOT EXISTS {database}.view_states (
  generation String,
  version    UInt64,
  checkpoint UInt64,
  state      String
) ENGINE = ReplacingMergeTree(version) ORDER BY generation;

-- Rows of row projections (audit). The sorting key is the row's identity, so merges keep one
-- copy of a row written twice (a replayed batch); `precedence` falls with time, so the copy
-- kept is the first one written, as queries also pick it (LIMIT 1 BY event_id).
CREATE TABLE IF NOT EXISTS {database}.view_rows (
  generation String,
  position   UInt64,
  event_id   String,
  time       String,
  actor      Nullable(String),
  stream     Nullable(String),
  type       Nullable(String),
  row        String,
  precedence UInt64
) ENGINE = ReplacingMergeTree(precedence) ORDER BY (generation, position, event_id);
