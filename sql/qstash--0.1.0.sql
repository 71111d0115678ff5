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

-- Nothing is granted to PUBLIC: the DBA grants USAGE on the FDW and
-- EXECUTE on the functions.
REVOKE ALL ON FUNCTION qstash_users(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_ipv4(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_stats(text, uuid, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_stats_summary(text, uuid, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_fdw_handler() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_fdw_validator(text[], oid) FROM PUBLIC;
