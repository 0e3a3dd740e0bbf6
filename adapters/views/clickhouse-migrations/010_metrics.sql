-- Per-minute metric views (apps/monitor/metrics-store.ts): MSEC's whole-service view per
-- (service, name, minute) and per-IP view per (service, ip, name, minute).
--   kind 0 "add":  counts, summed by the engine (SummingMergeTree) per key; `ip` is '' in the
--                  service table, `at` and `origin` are 0.
--   kind 1 "set":  gauges, one row per Set with its time `at` (ms) and the hash of its report
--                  `origin`; queries keep the first Set of a minute per ip (argMin) and the
--                  service view sums its ips, as MSEC's server summed its agents.
--   kind 2:        receipts (service ''): report `name` is stored in the day of `minute`; it is
--                  written in the same INSERT (one part) as that day's rows, so a report the
--                  bus delivers again is found and skipped.
-- `minute` is epoch seconds (a multiple of 60). Partitions are UTC days (intDiv(minute, 86400)),
-- dropped whole when older than the retention.
CREATE TABLE IF NOT EXISTS {database}.metrics_service_minute (
  service String,
  name    String,
  minute  UInt32,
  kind    UInt8,
  ip      String,
  at      UInt64,
  origin  UInt64,
  value   Float64
) ENGINE = SummingMergeTree(value) PARTITION BY intDiv(minute, 86400) ORDER BY (service, name, minute, kind, ip, at, origin);

CREATE TABLE IF NOT EXISTS {database}.metrics_ip_minute (
  service String,
  ip      String,
  name    String,
  minute  UInt32,
  kind    UInt8,
  at      UInt64,
  origin  UInt64,
  value   Float64
) ENGINE = SummingMergeTree(value) PARTITION BY intDiv(minute, 86400) ORDER BY (service, ip, name, minute, kind, at, origin);
