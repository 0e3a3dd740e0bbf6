-- Call edges (caller -> callee.method) of every request, from msec.reports.calls, for call
-- graphs (projections/call-graph.ts). Both sides of a call report it: `side` says which.
-- Sorted by request id: a graph reads one request's edges. Same dedup and retention as logs.
CREATE TABLE IF NOT EXISTS {database}.call_edges (
  request_id String,
  at_ms      UInt64,
  at         DateTime MATERIALIZED toDateTime(intDiv(at_ms, 1000)),
  side       String,
  caller     String,
  callee     String,
  method     String,
  err        Int32,
  latency_ms Float64,
  instance   String,
  reporter   String,
  ingest_id  String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(at)
ORDER BY (request_id, at_ms, ingest_id);
