-- pg_qstash: the SQL functions of src/functions.c, with their comments:
-- one per endpoint, the rate-limit view, the cache reset, and what the
-- archive reads with (its page readers, the request counter, the cursor).
-- A part of the install script (see README, Layout); an upgrade runs it
-- again, with CREATE OR REPLACE.

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

CREATE FUNCTION qstash_stats(period text DEFAULT '1h', qstash_id uuid DEFAULT NULL,
                             server name DEFAULT NULL)
RETURNS SETOF qstash_stats_point
AS 'MODULE_PATHNAME', 'qstash_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1200;

COMMENT ON FUNCTION qstash_stats(text, uuid, name) IS
  'Usage statistics per data point (GET /v2/qstash/stats/{id}); all instances when qstash_id is NULL';

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

-- Paged listings of the QStash REST API: the filters are applied by the
-- API; NULL filters nothing.
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

-- Rate-limit figures of the last responses received, for the servers the
-- current role has USAGE on.  The developer API and the QStash API have
-- rate limits of their own: the view names the API, so their burst limits
-- are two rows, not one row that alternates between them.
CREATE FUNCTION qstash_rate_limits(
  OUT server text, OUT api text, OUT kind text, OUT "limit" bigint, OUT remaining bigint,
  OUT reset_at timestamptz, OUT observed_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'qstash_rate_limits'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 4;
COMMENT ON FUNCTION qstash_rate_limits() IS
  'The rows of the view qstash_rate_limits (its readers need EXECUTE on this function too)';

CREATE VIEW qstash_rate_limits AS SELECT * FROM @extschema@.qstash_rate_limits();
COMMENT ON VIEW qstash_rate_limits IS
  'The last rate-limit figures seen per server, API and kind (this session''s; with shared_preload_libraries = ''qstash'', every session''s), for the servers the current role has USAGE on';

CREATE FUNCTION qstash_cache_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'qstash_cache_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION qstash_cache_reset() IS 'Forget every response kept for reuse (qstash.cache_ttl)';

-- HTTP requests this session has sent, retries included: what the archive
-- routines count their budget in.
CREATE FUNCTION qstash_requests_sent() RETURNS bigint
AS 'MODULE_PATHNAME', 'qstash_requests_sent'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION qstash_requests_sent() IS
  'HTTP requests this session has sent to the Upstash APIs, retries included';

-- The page readers: the listings of qstash_logs() and qstash_dlq(), from a
-- cursor, for at most max_pages pages; qstash_last_cursor() then says
-- where the next page starts (NULL: the listing was read to its end).
CREATE FUNCTION qstash_log_pages(from_time timestamptz, to_time timestamptz,
                                 cursor text, max_pages integer, server name)
RETURNS SETOF qstash_log_entry
AS 'MODULE_PATHNAME', 'qstash_logs'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION qstash_log_pages(timestamptz, timestamptz, text, integer, name) IS
  'Internal (the log archive): at most max_pages pages of the message log from cursor; see qstash_last_cursor()';

CREATE FUNCTION qstash_dlq_pages(cursor text, max_pages integer, server name)
RETURNS SETOF qstash_dlq_message
AS 'MODULE_PATHNAME', 'qstash_dlq'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION qstash_dlq_pages(text, integer, name) IS
  'Internal (the DLQ history): at most max_pages pages of the DLQ from cursor; see qstash_last_cursor()';

CREATE FUNCTION qstash_last_cursor() RETURNS text
AS 'MODULE_PATHNAME', 'qstash_last_cursor'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION qstash_last_cursor() IS
  'Internal (the archive): where the last page reader of this session stopped, NULL when it read to the end';
