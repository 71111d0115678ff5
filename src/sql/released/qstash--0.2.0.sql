/* pg_qstash 0.2.0 */

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

-- Rate-limit figures of the last responses this backend received, for the
-- servers the current role has USAGE on.
CREATE FUNCTION qstash_rate_limits(
  OUT server text, OUT kind text, OUT "limit" bigint, OUT remaining bigint,
  OUT reset_at timestamptz, OUT observed_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'qstash_rate_limits'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 4;

CREATE VIEW qstash_rate_limits AS SELECT * FROM @extschema@.qstash_rate_limits();
COMMENT ON VIEW qstash_rate_limits IS
  'Last rate-limit headers seen per server and kind in this session (burst, daily, chat_requests, chat_tokens), for the servers the current role has USAGE on';

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

-- HTTP requests this session has sent, retries included: what the archive
-- routines count their budget in.
CREATE FUNCTION qstash_requests_sent() RETURNS bigint
AS 'MODULE_PATHNAME', 'qstash_requests_sent'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION qstash_requests_sent() IS
  'HTTP requests this session has sent to the Upstash APIs, retries included';

-- The archive: what QStash forgets, kept here.  Filled by
-- qstash_archive_logs() and qstash_archive_dlq() (run by pg_cron), dumped
-- by pg_dump with their progress.
CREATE TABLE qstash_log_archive (
  server name NOT NULL,
  LIKE qstash_log_entry,
  archived_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT qstash_log_archive_key
    UNIQUE NULLS NOT DISTINCT (server, message_id, state, "time")
);
CREATE INDEX qstash_log_archive_state_time ON qstash_log_archive (state, "time");
CREATE INDEX qstash_log_archive_time ON qstash_log_archive ("time");
COMMENT ON TABLE qstash_log_archive IS
  'Every message log entry qstash_archive_logs() has read, once (server, message id, state, time)';
SELECT pg_catalog.pg_extension_config_dump('qstash_log_archive', '');

CREATE TABLE qstash_dlq_history (
  server name NOT NULL,
  LIKE qstash_dlq_message,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  left_at timestamptz,
  PRIMARY KEY (server, dlq_id)
);
CREATE INDEX qstash_dlq_history_url ON qstash_dlq_history (url, first_seen);
CREATE INDEX qstash_dlq_history_present ON qstash_dlq_history (server) WHERE left_at IS NULL;
COMMENT ON TABLE qstash_dlq_history IS
  'Every DLQ message qstash_archive_dlq() has seen: first and last seen, and when it was gone from the DLQ';
SELECT pg_catalog.pg_extension_config_dump('qstash_dlq_history', '');

CREATE TABLE qstash_archive_state (
  server name NOT NULL,
  kind text NOT NULL CHECK (kind IN ('logs', 'dlq')),
  server_oid oid,
  archived_to timestamptz,
  window_size interval,
  last_run_at timestamptz,
  last_run_requests integer,
  last_run_rows bigint,
  caught_up boolean,
  last_success_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  PRIMARY KEY (server, kind)
);
COMMENT ON TABLE qstash_archive_state IS
  'Progress of the archive per server: logs are complete up to archived_to';
SELECT pg_catalog.pg_extension_config_dump('qstash_archive_state', '');

CREATE VIEW qstash_archive_status AS
  SELECT s.server, s.kind, s.archived_to,
         CASE s.kind
           WHEN 'logs' THEN (SELECT count(*) FROM @extschema@.qstash_log_archive a
                              WHERE a.server = s.server)
           ELSE (SELECT count(*) FROM @extschema@.qstash_dlq_history h
                  WHERE h.server = s.server AND h.left_at IS NULL)
         END AS rows,
         s.caught_up, s.last_run_at, s.last_run_requests, s.last_run_rows,
         s.last_success_at, s.last_error, s.last_error_at, s.window_size
    FROM @extschema@.qstash_archive_state s;
COMMENT ON VIEW qstash_archive_status IS
  'The archive per server and kind: how far the log archive reaches (rows: entries archived, or DLQ messages present), the last run and the last error';

-- The server an archive routine works on: the one named, or the only
-- server of qstash_fdw.
CREATE FUNCTION qstash_archive_server(server name)
RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  found name[];
BEGIN
  SELECT array_agg(s.srvname ORDER BY s.srvname) INTO found
    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
   WHERE w.fdwname = 'qstash_fdw' AND (server IS NULL OR s.srvname = server);
  IF coalesce(cardinality(found), 0) = 1 THEN
    RETURN found[1];
  END IF;
  IF server IS NOT NULL THEN
    RAISE EXCEPTION 'server "%" does not exist', server
      USING ERRCODE = 'undefined_object',
            HINT = 'Name a server of the foreign-data wrapper qstash_fdw.';
  END IF;
  RAISE EXCEPTION 'no server given, and % servers of qstash_fdw exist',
        coalesce(cardinality(found), 0)
    USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Pass server => ''name''.';
END
$$;

-- One run of qstash_archive_logs(): what the procedure carries between its
-- transactions.  The procedure itself only calls the functions below (each
-- with a fixed search_path): it commits, so it cannot pin its own, and an
-- operator it evaluated could be taken from the caller's search_path.
CREATE TYPE qstash_archive_run AS (
  server name,
  server_oid oid,
  max_requests integer,
  first_count bigint,
  horizon timestamptz,
  archived_to timestamptz,
  pos timestamptz,
  w_size interval,
  rows_added bigint,
  windows integer,
  caught_up boolean,
  done boolean,
  error text
);

-- Start a run: the server, its progress (or the backfill start), the window.
CREATE FUNCTION qstash_archive_logs_start(server name, max_requests integer,
                                          overlap interval, backfill interval)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r @extschema@.qstash_archive_run;
  s record;
BEGIN
  IF max_requests IS NULL OR max_requests < 1 THEN
    RAISE EXCEPTION 'max_requests must be at least 1'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF overlap IS NULL OR overlap < interval '0' OR backfill IS NULL OR backfill <= interval '0' THEN
    RAISE EXCEPTION 'overlap must be 0 or more and backfill more than 0'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  r.server := @extschema@.qstash_archive_server(server);
  r.server_oid := (SELECT oid FROM pg_foreign_server WHERE srvname = r.server);
  IF NOT has_server_privilege(r.server_oid, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for foreign server %', r.server
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  r.max_requests := max_requests;
  r.first_count := @extschema@.qstash_requests_sent();
  r.horizon := date_trunc('milliseconds', clock_timestamp());
  INSERT INTO @extschema@.qstash_archive_state AS st (server, kind, server_oid, window_size)
  VALUES (r.server, 'logs', r.server_oid, interval '1 day') ON CONFLICT DO NOTHING;
  SELECT * INTO s FROM @extschema@.qstash_archive_state st
   WHERE st.server = r.server AND st.kind = 'logs' FOR UPDATE;
  IF s.server_oid IS DISTINCT FROM r.server_oid THEN
    RAISE EXCEPTION 'the archive of server "%" was made for another server of that name', r.server
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'The server was dropped, or renamed, and a new one created under its name.',
            HINT = format('To start afresh: DELETE FROM %s.qstash_archive_state WHERE server = %L; '
                          'and delete or rename the old rows of qstash_log_archive and qstash_dlq_history.',
                          '@extschema@', r.server);
  END IF;
  r.archived_to := s.archived_to;
  r.pos := date_trunc('milliseconds', coalesce(s.archived_to - overlap, r.horizon - backfill));
  r.w_size := coalesce(s.window_size, interval '1 day');
  r.rows_added := 0;
  r.windows := 0;
  r.caught_up := false;
  r.done := false;
  RETURN r;
END
$$;

-- One window of a run: read it whole, or not at all.
CREATE FUNCTION qstash_archive_logs_step(r qstash_archive_run)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- a window reads at most 25 pages (2 500 entries); a larger one is halved.
-- No retries: a retry would spend requests the budget does not have; a
-- failure ends the run, and the next run reads the window again.
SET qstash.max_retries = 0
SET qstash.cache_ttl = 0
AS $$
DECLARE
  pages_cap integer := least(current_setting('qstash.max_pages')::integer, 25);
  budget bigint := r.max_requests - (@extschema@.qstash_requests_sent() - r.first_count);
  before bigint;
  w_to timestamptz;
  n bigint;
  msg text;
  detail text;
BEGIN
  IF r.pos >= r.horizon THEN
    r.caught_up := true;
    r.done := true;
    RETURN r;
  END IF;
  IF budget <= 0 THEN
    r.done := true;
    RETURN r;
  END IF;
  -- the first window of a run reaches past the progress: a window inside
  -- the overlap only would read without ever moving forward
  w_to := least(greatest(r.pos, coalesce(r.archived_to, r.pos)) + r.w_size, r.horizon);
  PERFORM set_config('qstash.max_pages', least(budget, pages_cap)::text, true);
  before := @extschema@.qstash_requests_sent();
  BEGIN
    INSERT INTO @extschema@.qstash_log_archive
    SELECT r.server, l.*, now()
      FROM @extschema@.qstash_logs(from_time => r.pos, to_time => w_to, server => r.server) l
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
  EXCEPTION
    WHEN program_limit_exceeded THEN
      -- more pages than the window may take: halve it; stop the run when
      -- what was left of its budget was the limit
      IF r.w_size <= interval '1 second' THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
        r.error := msg || coalesce(' (' || nullif(detail, '') || ')', '')
                   || '; raise max_requests';
        r.done := true;
      END IF;
      r.w_size := greatest(r.w_size / 2.0::float8, interval '1 second');
      r.done := r.done OR (budget < pages_cap AND budget < r.max_requests);
      RETURN r;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
      r.error := msg || coalesce(' (' || nullif(detail, '') || ')', '');
      r.done := true;
      RETURN r;
  END;
  r.rows_added := r.rows_added + n;
  r.windows := r.windows + 1;
  -- a sparse window (under half a page, one request) doubles, up to 7 days
  IF n < 50 AND @extschema@.qstash_requests_sent() - before <= 1 THEN
    r.w_size := least(r.w_size * 2.0::float8, interval '7 days');
  END IF;
  r.pos := w_to;
  r.archived_to := greatest(r.archived_to, w_to);
  UPDATE @extschema@.qstash_archive_state st
     SET archived_to = greatest(st.archived_to, r.archived_to), window_size = r.w_size
   WHERE st.server = r.server AND st.kind = 'logs';
  RETURN r;
END
$$;

-- End a run: record what it did, and its error.
CREATE FUNCTION qstash_archive_logs_finish(r qstash_archive_run)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE @extschema@.qstash_archive_state st
     SET last_run_at = r.horizon,
         last_run_requests = @extschema@.qstash_requests_sent() - r.first_count,
         last_run_rows = r.rows_added, caught_up = r.caught_up, window_size = r.w_size,
         last_success_at = CASE WHEN r.error IS NULL THEN r.horizon ELSE st.last_success_at END,
         last_error = coalesce(r.error, st.last_error),
         last_error_at = CASE WHEN r.error IS NULL THEN st.last_error_at ELSE clock_timestamp() END
   WHERE st.server = r.server AND st.kind = 'logs';
  IF r.error IS NOT NULL THEN
    RAISE WARNING 'qstash_archive_logs stopped on server "%": %', r.server, r.error
      USING HINT = 'The windows read before are kept; the next run goes on from there.';
  END IF;
  RETURN r;
END
$$;

-- Archive the message log of one server: walk forward in time windows
-- from where the last complete window ended (less the overlap), commit
-- after each complete window, stop at the request budget, at the present,
-- or at the first failure (recorded; the next run goes on from there).
-- Must be CALLed outside a transaction block (pg_cron does).
CREATE PROCEDURE qstash_archive_logs(
  server name DEFAULT NULL,
  max_requests integer DEFAULT 100,
  overlap interval DEFAULT '5 minutes',
  backfill interval DEFAULT '7 days',
  INOUT rows_added bigint DEFAULT NULL,
  INOUT requests integer DEFAULT NULL,
  INOUT windows integer DEFAULT NULL,
  INOUT caught_up boolean DEFAULT NULL,
  INOUT error text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  r @extschema@.qstash_archive_run;
BEGIN
  r := @extschema@.qstash_archive_logs_start(server, max_requests, overlap, backfill);
  COMMIT;
  LOOP
    r := @extschema@.qstash_archive_logs_step(r);
    COMMIT;
    EXIT WHEN r.done;
  END LOOP;
  r := @extschema@.qstash_archive_logs_finish(r);
  COMMIT;
  rows_added := r.rows_added;
  requests := @extschema@.qstash_requests_sent() - r.first_count;
  windows := r.windows;
  caught_up := r.caught_up;
  error := r.error;
END
$$;

COMMENT ON PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean, text) IS
  'Archive new message log entries into qstash_log_archive, window by window, within a request budget';

-- The DLQ now, against what was seen before: new messages are added,
-- present ones get last_seen, and messages gone from the listing get
-- left_at.  A run that fails changes nothing but the recorded error.
CREATE FUNCTION qstash_archive_dlq(server name DEFAULT NULL,
                                   OUT added bigint, OUT present bigint, OUT left_dlq bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET qstash.cache_ttl = 0
AS $$
DECLARE
  srv name := @extschema@.qstash_archive_server(server);
  srv_oid oid := (SELECT oid FROM pg_foreign_server WHERE srvname = srv);
  t timestamptz := clock_timestamp();
  first_count bigint := @extschema@.qstash_requests_sent();
  state_oid oid;
  msg text;
  detail text;
BEGIN
  IF NOT has_server_privilege(srv_oid, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for foreign server %', srv
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO @extschema@.qstash_archive_state (server, kind, server_oid) VALUES (srv, 'dlq', srv_oid)
  ON CONFLICT DO NOTHING;
  SELECT s.server_oid INTO state_oid FROM @extschema@.qstash_archive_state s
   WHERE s.server = srv AND s.kind = 'dlq' FOR UPDATE;
  IF state_oid IS DISTINCT FROM srv_oid THEN
    RAISE EXCEPTION 'the DLQ history of server "%" was made for another server of that name', srv
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'The server was dropped, or renamed, and a new one created under its name.',
            HINT = format('To start afresh: DELETE FROM %s.qstash_archive_state WHERE server = %L; '
                          'and delete or rename the old rows of qstash_log_archive and qstash_dlq_history.',
                          '@extschema@', srv);
  END IF;
  BEGIN
    CREATE TEMP TABLE IF NOT EXISTS qstash_dlq_now (LIKE @extschema@.qstash_dlq_message)
      ON COMMIT DROP;
    TRUNCATE qstash_dlq_now;
    -- a message listed twice counts once; one without an id cannot be tracked
    INSERT INTO qstash_dlq_now
    SELECT DISTINCT ON (d.dlq_id) d.* FROM @extschema@.qstash_dlq(server => srv) d
     WHERE d.dlq_id IS NOT NULL ORDER BY d.dlq_id;
    WITH upserted AS (
      INSERT INTO @extschema@.qstash_dlq_history AS h
      SELECT srv, d.*, t, t, NULL FROM qstash_dlq_now d
      ON CONFLICT ON CONSTRAINT qstash_dlq_history_pkey
      DO UPDATE SET last_seen = excluded.last_seen, left_at = NULL
      RETURNING (xmax = 0) AS is_new
    )
    SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new)
      INTO added, present FROM upserted;
    UPDATE @extschema@.qstash_dlq_history h SET left_at = t
     WHERE h.server = srv AND h.left_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM qstash_dlq_now d WHERE d.dlq_id = h.dlq_id);
    GET DIAGNOSTICS left_dlq = ROW_COUNT;
    DROP TABLE qstash_dlq_now;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    UPDATE @extschema@.qstash_archive_state s
       SET last_run_at = t, last_run_requests = @extschema@.qstash_requests_sent() - first_count,
           last_run_rows = NULL, caught_up = false,
           last_error = msg || coalesce(' (' || nullif(detail, '') || ')', ''),
           last_error_at = clock_timestamp()
     WHERE s.server = srv AND s.kind = 'dlq';
    RAISE WARNING 'qstash_archive_dlq failed on server "%": %', srv,
          msg || coalesce(' (' || nullif(detail, '') || ')', '')
      USING HINT = 'The history is unchanged; the next run reads the DLQ again.';
    added := NULL; present := NULL; left_dlq := NULL;
    RETURN;
  END;
  UPDATE @extschema@.qstash_archive_state s
     SET archived_to = t, last_run_at = t, last_success_at = t, caught_up = true,
         last_run_requests = @extschema@.qstash_requests_sent() - first_count,
         last_run_rows = added + present
   WHERE s.server = srv AND s.kind = 'dlq';
END
$$;

COMMENT ON FUNCTION qstash_archive_dlq(name) IS
  'Update qstash_dlq_history from the whole DLQ: returns messages added, still present and gone';

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
REVOKE ALL ON FUNCTION qstash_requests_sent() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_server(name) FROM PUBLIC;
REVOKE ALL ON PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_dlq(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_logs_start(name, integer, interval, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_logs_step(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_logs_finish(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON qstash_log_archive, qstash_dlq_history, qstash_archive_state, qstash_archive_status FROM PUBLIC;
