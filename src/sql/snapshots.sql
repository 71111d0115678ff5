-- pg_qstash: the snapshots for pg_cron, functions that store what the
-- stats functions return in the history tables (schema.sql), keyed by
-- period: a '3h' snapshot never rewrites the points of a '1h' one.  A part
-- of the install script (see README, Layout); an upgrade runs it again,
-- with CREATE OR REPLACE.

-- Fetch the stats of every instance once and upsert the points: a point
-- already stored with the same value is left alone (not counted), a changed
-- value is updated.
CREATE FUNCTION qstash_snapshot_stats(period text DEFAULT '1h', server name DEFAULT NULL,
                                      OUT inserted bigint, OUT updated bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH points AS (
    -- a response may carry the same point twice (times are rounded to µs)
    SELECT DISTINCT ON (s.qstash_id, s.metric, s.series, s.ts)
           s.qstash_id, s.metric, s.series, s.period, s.ts, s.value
      FROM @extschema@.qstash_stats(period, NULL, server) s
     ORDER BY s.qstash_id, s.metric, s.series, s.ts
  ), upserted AS (
    INSERT INTO @extschema@.qstash_stats_history AS h
           (qstash_id, metric, series, period, ts, value, fetched_at)
    SELECT qstash_id, metric, series, period, ts, value, now() FROM points
    ON CONFLICT (qstash_id, metric, series, period, ts) DO UPDATE
       SET value = excluded.value, fetched_at = excluded.fetched_at
     WHERE h.value IS DISTINCT FROM excluded.value
    RETURNING (xmax = 0) AS is_insert
  )
  SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert) FROM upserted
$$;

COMMENT ON FUNCTION qstash_snapshot_stats(text, name) IS
  'Store the stats of every instance in qstash_stats_history; returns points inserted and updated';

CREATE FUNCTION qstash_snapshot_summary(period text DEFAULT '1h', server name DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH ins AS (
    INSERT INTO @extschema@.qstash_stats_summary_history
           (qstash_id, period, dlq_message_count, total_monthly_billing, days, fetched_at)
    SELECT qstash_id, period, dlq_message_count, total_monthly_billing, days, now()
      FROM @extschema@.qstash_stats_summary(period, NULL, server)
    RETURNING 1
  )
  SELECT count(*) FROM ins
$$;

COMMENT ON FUNCTION qstash_snapshot_summary(text, name) IS
  'Store one row per instance in qstash_stats_summary_history; returns the rows inserted';
