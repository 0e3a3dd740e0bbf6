-- A row projection's checkpoint travels in the same INSERT as its rows (one round trip per
-- batch instead of two): the last line of the insert is a row with an empty event id and the
-- checkpoint as its position, which this view copies into view_checkpoints, its version being
-- the one its precedence was made from (precedence = 2^53 - 1 - version). ClickHouse writes a
-- block into the table before it pushes it to its views, so the checkpoint is never stored
-- without the rows. Queries skip rows with an empty event id.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.view_row_checkpoints TO {database}.view_checkpoints AS
  SELECT generation, toUInt64(toUInt64(9007199254740991) - precedence) AS version, position AS checkpoint
  FROM {database}.view_rows WHERE event_id = '';
