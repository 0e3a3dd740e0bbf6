-- Business logs (adapters/views/clickhouse-logs.ts), filled from msec.reports.logs by the
-- projector's logs sink. Runs on ClickHouse 18.16 and 26.x (chdb): no TTL, no Map, no
-- LowCardinality; retention drops whole days (partitions). `ingest_id` is the record's place
-- on the bus (<partition>-<offset>-<index>): a record delivered twice has the same one, merges
-- keep one copy (ReplacingMergeTree, same sorting key) and queries show one (LIMIT 1 BY).

-- One row per record. The sorting key serves "this service, this hour, this level": service
-- and hour are a prefix, levels are ordered inside an hour. `time` (seconds) is computed from
-- `time_ms` by the server, so no client sends a DateTime in its own time zone.
CREATE TABLE IF NOT EXISTS {database}.logs (
  time_ms      UInt64,
  time         DateTime MATERIALIZED toDateTime(intDiv(time_ms, 1000)),
  service      String,
  level        UInt8,
  request_id   String,
  client_ip    String,
  server_ip    String,
  rpc_name     String,
  caller       String,
  coloring     UInt8,
  message      String,
  field_names  Array(String),
  field_values Array(String),
  reporter     String,
  ingest_id    String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (service, toStartOfHour(time), level, time, ingest_id);

-- "Every record of request X": which services logged it, and when, sorted by request id, so
-- a lookup reads a few granules; the records are then read from `logs` by service and time.
CREATE TABLE IF NOT EXISTS {database}.logs_requests (
  request_id String,
  service    String,
  time       DateTime,
  ingest_id  String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (request_id, service, time, ingest_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.logs_requests_mv TO {database}.logs_requests AS
SELECT request_id, service, time, ingest_id FROM {database}.logs WHERE request_id != '';

-- Records a process kept but could not ship (its buffer was full), as it reported them.
CREATE TABLE IF NOT EXISTS {database}.log_drops (
  time_ms   UInt64,
  time      DateTime MATERIALIZED toDateTime(intDiv(time_ms, 1000)),
  reporter  String,
  dropped   UInt64,
  ingest_id String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (reporter, time, ingest_id);
