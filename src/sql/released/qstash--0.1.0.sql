/* pg_qstash 0.1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION qstash" to load this file. \quit

CREATE FUNCTION qstash_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;

CREATE FUNCTION qstash_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER qstash_fdw
  HANDLER qstash_fdw_handler
  VALIDATOR qstash_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER qstash_fdw IS 'Upstash QStash developer and REST APIs';

-- One column per field of the QStash user object (catalog.c, "users").
CREATE FUNCTION qstash_users(server name DEFAULT NULL)
RETURNS TABLE (
  id uuid,
  customer_id text,
  region text,
  type text,
  state text,
  modifying_state text,
  active boolean,
  password text,
  token text,
  read_only_token text,
  read_only_password text,
  reserved_type text,
  reserved_price numeric,
  budget bigint,
  prod_pack_enabled boolean,
  prometheus_enabled boolean,
  enterprise jsonb,
  max_message_size bigint,
  max_requests_per_day bigint,
  max_requests_per_day_hard bigint,
  max_requests_per_second bigint,
  max_endpoints_per_topic bigint,
  max_topics bigint,
  max_schedules bigint,
  max_queues bigint,
  max_dlq_size bigint,
  max_dlq_retention_time_milis bigint,
  max_retries bigint,
  max_events_size bigint,
  max_delay bigint,
  max_parallelism bigint,
  max_global_parallelism bigint,
  max_bandwidth_per_second bigint,
  max_completion_tokens_per_day bigint,
  max_completion_tokens_per_minute bigint,
  max_completions_per_day bigint,
  max_completions_per_minute bigint,
  retention bigint,
  timeout bigint,
  rate_limit bigint,
  created_by text,
  creation_time timestamptz,
  last_plan_upgrade_time timestamptz,
  deletion_time timestamptz,
  extra jsonb
)
AS 'MODULE_PATHNAME', 'qstash_users'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 2;

COMMENT ON FUNCTION qstash_users(name) IS 'QStash instances of the account (GET /v2/qstash/users)';

-- Usage statistics in long format: one row per data point of every series.
CREATE TYPE qstash_stats_point AS (
  qstash_id uuid,
  period text,
  metric text,
  series text,
  ts timestamptz,
  value numeric
);

CREATE FUNCTION qstash_stats(period text DEFAULT '1h', qstash_id uuid DEFAULT NULL,
                             server name DEFAULT NULL)
RETURNS SETOF qstash_stats_point
AS 'MODULE_PATHNAME', 'qstash_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1200;

COMMENT ON FUNCTION qstash_stats(text, uuid, name) IS
  'Usage statistics per data point (GET /v2/qstash/stats/{id}); all instances when qstash_id is NULL';

CREATE TYPE qstash_stats_summary_row AS (
  qstash_id uuid,
  period text,
  dlq_message_count bigint,
  total_monthly_billing numeric,
  days text[]
);

CREATE FUNCTION qstash_stats_summary(period text DEFAULT '1h', qstash_id uuid DEFAULT NULL,
                                     server name DEFAULT NULL)
RETURNS SETOF qstash_stats_summary_row
AS 'MODULE_PATHNAME', 'qstash_stats_summary'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 2;

COMMENT ON FUNCTION qstash_stats_summary(text, uuid, name) IS
  'Usage summary, one row per instance (GET /v2/qstash/stats/{id})';

CREATE FUNCTION qstash_ipv4(server name DEFAULT NULL)
RETURNS TABLE (cidr cidr)
AS 'MODULE_PATHNAME', 'qstash_ipv4'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 10;

COMMENT ON FUNCTION qstash_ipv4(name) IS 'Address blocks QStash sends requests from (GET /v2/qstash/ipv4)';

-- QStash REST API (server option qstash_url, user-mapping option token).
-- Paged listings: the filters are applied by the API; NULL filters nothing.
CREATE TYPE qstash_log_entry AS (
  "time" timestamptz,
  message_id text,
  state text,
  error text,
  url text,
  topic_name text,
  endpoint_name text,
  schedule_id text,
  queue_name text,
  method text,
  header jsonb,
  body bytea,
  body_text text,
  next_delivery_time timestamptz,
  response_status integer,
  response_headers jsonb,
  response_body bytea,
  response_body_text text,
  timeout bigint,
  max_retries bigint,
  retry_delay_expression text,
  callback text,
  callback_headers jsonb,
  failure_callback text,
  failure_callback_headers jsonb,
  label text,
  labels text[],
  flow_control_key text,
  parallelism bigint,
  rate bigint,
  period bigint,
  extra jsonb
);

CREATE FUNCTION qstash_logs(state text DEFAULT NULL, message_id text DEFAULT NULL,
                            url text DEFAULT NULL, topic_name text DEFAULT NULL,
                            queue_name text DEFAULT NULL, schedule_id text DEFAULT NULL,
                            label text DEFAULT NULL,
                            from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL,
                            max_rows bigint DEFAULT NULL, server name DEFAULT NULL)
RETURNS SETOF qstash_log_entry
AS 'MODULE_PATHNAME', 'qstash_logs'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1000;

COMMENT ON FUNCTION qstash_logs(text, text, text, text, text, text, text, timestamptz, timestamptz, bigint, name) IS
  'Message log, newest first (GET /v2/events, every page); times are inclusive';

CREATE TYPE qstash_dlq_message AS (
  dlq_id text,
  message_id text,
  created_at timestamptz,
  url text,
  topic_name text,
  endpoint_name text,
  schedule_id text,
  queue_name text,
  method text,
  header jsonb,
  body bytea,
  body_text text,
  not_before timestamptz,
  response_status integer,
  response_header jsonb,
  response_body bytea,
  response_body_text text,
  max_retries bigint,
  retry_delay_expression text,
  callback text,
  callback_header jsonb,
  failure_callback text,
  failure_callback_header jsonb,
  caller_ip text,
  label text,
  labels text[],
  flow_control_key text,
  parallelism bigint,
  rate bigint,
  period bigint,
  extra jsonb
);

CREATE FUNCTION qstash_dlq(message_id text DEFAULT NULL, url text DEFAULT NULL,
                           topic_name text DEFAULT NULL, queue_name text DEFAULT NULL,
                           schedule_id text DEFAULT NULL, label text DEFAULT NULL,
                           response_status integer DEFAULT NULL, dlq_id text DEFAULT NULL,
                           caller_ip text DEFAULT NULL,
                           from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL,
                           max_rows bigint DEFAULT NULL, server name DEFAULT NULL)
RETURNS SETOF qstash_dlq_message
AS 'MODULE_PATHNAME', 'qstash_dlq'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 100;

COMMENT ON FUNCTION qstash_dlq(text, text, text, text, text, text, integer, text, text, timestamptz, timestamptz, bigint, name) IS
  'Dead letter queue (GET /v2/dlq, every page); times are inclusive';

CREATE FUNCTION qstash_schedules(server name DEFAULT NULL)
RETURNS TABLE (
  schedule_id text,
  cron text,
  destination text,
  method text,
  is_paused boolean,
  created_at timestamptz,
  last_schedule_time timestamptz,
  next_schedule_time timestamptz,
  last_schedule_states jsonb,
  header jsonb,
  body bytea,
  body_text text,
  retries bigint,
  delay bigint,
  timeout bigint,
  retry_delay_expression text,
  callback text,
  callback_header jsonb,
  failure_callback text,
  failure_callback_header jsonb,
  caller_ip text,
  queue_name text,
  flow_control_key text,
  parallelism bigint,
  rate bigint,
  period bigint,
  label text,
  labels text[],
  error text,
  extra jsonb
)
AS 'MODULE_PATHNAME', 'qstash_schedules'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 10;

COMMENT ON FUNCTION qstash_schedules(name) IS 'Schedules (GET /v2/schedules)';

CREATE FUNCTION qstash_queues(server name DEFAULT NULL)
RETURNS TABLE (
  name text,
  created_at timestamptz,
  updated_at timestamptz,
  parallelism bigint,
  paused boolean,
  lag bigint,
  extra jsonb
)
AS 'MODULE_PATHNAME', 'qstash_queues'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 10;

COMMENT ON FUNCTION qstash_queues(name) IS 'Queues (GET /v2/queues)';

CREATE FUNCTION qstash_url_groups(server name DEFAULT NULL)
RETURNS TABLE (
  name text,
  created_at timestamptz,
  updated_at timestamptz,
  endpoints jsonb,
  extra jsonb
)
AS 'MODULE_PATHNAME', 'qstash_url_groups'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 10;

COMMENT ON FUNCTION qstash_url_groups(name) IS 'URL groups (topics) with their endpoints (GET /v2/topics)';

CREATE FUNCTION qstash_flow_control(server name DEFAULT NULL)
RETURNS TABLE (
  flow_control_key text,
  wait_list_size bigint,
  parallelism_max bigint,
  parallelism_count bigint,
  rate_max bigint,
  rate_count bigint,
  rate_period bigint,
  rate_period_start timestamptz,
  is_pinned_parallelism boolean,
  is_pinned_rate boolean,
  is_paused boolean,
  extra jsonb
)
AS 'MODULE_PATHNAME', 'qstash_flow_control'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 10;

COMMENT ON FUNCTION qstash_flow_control(name) IS 'Flow-control keys (GET /v2/flowControl)';

CREATE FUNCTION qstash_global_parallelism(server name DEFAULT NULL)
RETURNS TABLE (
  parallelism_max bigint,
  parallelism_count bigint,
  extra jsonb
)
AS 'MODULE_PATHNAME', 'qstash_global_parallelism'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1;

COMMENT ON FUNCTION qstash_global_parallelism(name) IS 'Global parallelism across flow-control keys (GET /v2/globalParallelism)';

-- Rate-limit figures of the last responses this backend received.
CREATE FUNCTION qstash_rate_limits(
  OUT server text, OUT kind text, OUT "limit" bigint, OUT remaining bigint,
  OUT reset_at timestamptz, OUT observed_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'qstash_rate_limits'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 4;

CREATE VIEW qstash_rate_limits AS SELECT * FROM @extschema@.qstash_rate_limits();
COMMENT ON VIEW qstash_rate_limits IS
  'Last rate-limit headers seen per server and kind in this session (burst, daily, chat_requests, chat_tokens)';

CREATE FUNCTION qstash_cache_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'qstash_cache_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION qstash_cache_reset() IS 'Forget every response kept for reuse (qstash.cache_ttl)';

-- Snapshots for pg_cron: history tables owned by the extension, dumped by
-- pg_dump, and functions that upsert into them.
CREATE TABLE qstash_stats_history (
  qstash_id uuid NOT NULL,
  metric text NOT NULL,
  series text,
  ts timestamptz NOT NULL,
  value numeric,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT qstash_stats_history_key UNIQUE NULLS NOT DISTINCT (qstash_id, metric, series, ts)
);
COMMENT ON TABLE qstash_stats_history IS 'Data points stored by qstash_snapshot_stats()';
SELECT pg_catalog.pg_extension_config_dump('qstash_stats_history', '');

CREATE TABLE qstash_stats_summary_history (
  qstash_id uuid NOT NULL,
  period text NOT NULL,
  dlq_message_count bigint,
  total_monthly_billing numeric,
  days text[],
  fetched_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (qstash_id, fetched_at)
);
COMMENT ON TABLE qstash_stats_summary_history IS 'One row per instance per qstash_snapshot_summary() run';
SELECT pg_catalog.pg_extension_config_dump('qstash_stats_summary_history', '');

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
           s.qstash_id, s.metric, s.series, s.ts, s.value
      FROM @extschema@.qstash_stats(period, NULL, server) s
     ORDER BY s.qstash_id, s.metric, s.series, s.ts
  ), upserted AS (
    INSERT INTO @extschema@.qstash_stats_history AS h (qstash_id, metric, series, ts, value, fetched_at)
    SELECT qstash_id, metric, series, ts, value, now() FROM points
    ON CONFLICT (qstash_id, metric, series, ts) DO UPDATE
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

-- Nothing is granted to PUBLIC: the DBA grants USAGE on the FDW and
-- EXECUTE on the functions.
REVOKE ALL ON FUNCTION qstash_users(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_ipv4(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_logs(text, text, text, text, text, text, text, timestamptz, timestamptz, bigint, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_dlq(text, text, text, text, text, text, integer, text, text, timestamptz, timestamptz, bigint, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_schedules(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_queues(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_url_groups(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_flow_control(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_global_parallelism(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_stats(text, uuid, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_stats_summary(text, uuid, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_rate_limits() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_cache_reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_snapshot_stats(text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_snapshot_summary(text, name) FROM PUBLIC;
REVOKE ALL ON qstash_rate_limits, qstash_stats_history, qstash_stats_summary_history FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_fdw_handler() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_fdw_validator(text[], oid) FROM PUBLIC;
