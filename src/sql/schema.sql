-- pg_qstash: what the extension holds, and the shapes of what it returns:
-- the foreign-data wrapper with its handler and validator, the row types
-- of the reading functions, the history, archive and progress tables.
-- The first part of the install script (the Makefile builds it from
-- src/sql/; see README, Layout), and the only one an upgrade does not run
-- again: an upgrade changes these objects by hand (upgrade.sql), so the
-- columns a version added come last here too, in the order of an upgraded
-- database.  Their comments are in comments.sql, which both run.

CREATE FUNCTION qstash_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;

CREATE FUNCTION qstash_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER qstash_fdw
  HANDLER qstash_fdw_handler
  VALIDATOR qstash_fdw_validator;

-- Usage statistics in long format: one row per data point of every series.
CREATE TYPE qstash_stats_point AS (
  qstash_id uuid,
  period text,
  metric text,
  series text,
  ts timestamptz,
  value numeric
);

CREATE TYPE qstash_stats_summary_row AS (
  qstash_id uuid,
  period text,
  dlq_message_count bigint,
  total_monthly_billing numeric,
  days text[]
);

-- The message log and the DLQ of the QStash REST API (server option
-- qstash_url, user-mapping option token).
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

-- Snapshots for pg_cron: history tables owned by the extension, dumped by
-- pg_dump, filled by snapshots.sql (period: since 0.3.0).
CREATE TABLE qstash_stats_history (
  qstash_id uuid NOT NULL,
  metric text NOT NULL,
  series text,
  ts timestamptz NOT NULL,
  value numeric,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  period text NOT NULL,
  CONSTRAINT qstash_stats_history_key UNIQUE NULLS NOT DISTINCT (qstash_id, metric, series, period, ts)
);
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
SELECT pg_catalog.pg_extension_config_dump('qstash_stats_summary_history', '');

-- The archive: what QStash forgets, kept here.  Filled by
-- qstash_archive_logs() and qstash_archive_dlq() (run by pg_cron, in
-- archive.sql and archive_steps.sql), dumped by pg_dump with their progress.
CREATE TABLE qstash_log_archive (
  server name NOT NULL,
  LIKE qstash_log_entry,
  archived_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT qstash_log_archive_key
    UNIQUE NULLS NOT DISTINCT (server, message_id, state, "time")
);
CREATE INDEX qstash_log_archive_state_time ON qstash_log_archive (state, "time");
CREATE INDEX qstash_log_archive_time ON qstash_log_archive ("time");
SELECT pg_catalog.pg_extension_config_dump('qstash_log_archive', '');

-- Every DLQ message seen: the columns of qstash_dlq_message, the header
-- columns spelled as the log archive spells them (*_headers, since 0.3.0),
-- and the history's own (seen_pass: since 0.3.0).
CREATE TABLE qstash_dlq_history (
  server name NOT NULL,
  LIKE qstash_dlq_message,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  left_at timestamptz,
  seen_pass bigint,
  PRIMARY KEY (server, dlq_id)
);
ALTER TABLE qstash_dlq_history RENAME COLUMN response_header TO response_headers;
ALTER TABLE qstash_dlq_history RENAME COLUMN callback_header TO callback_headers;
ALTER TABLE qstash_dlq_history RENAME COLUMN failure_callback_header TO failure_callback_headers;
CREATE INDEX qstash_dlq_history_url ON qstash_dlq_history (url, first_seen);
CREATE INDEX qstash_dlq_history_present ON qstash_dlq_history (server) WHERE left_at IS NULL;
SELECT pg_catalog.pg_extension_config_dump('qstash_dlq_history', '');

-- The progress of an archive.  A window (logs) or a pass (DLQ) that is
-- being read keeps its cursor here; origin says in which cluster and
-- database server_oid was recorded (a restored copy adopts its new server).
-- The columns from origin on: since 0.3.0.
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
  origin text,
  archived_from timestamptz,
  window_from timestamptz,
  window_to timestamptz,
  window_floor timestamptz,
  window_rows bigint,
  window_oldest timestamptz,
  next_cursor text,
  pass_started_at timestamptz,
  pass bigint,
  overlap interval,
  entry_rate double precision,
  previous_run_at timestamptz,
  PRIMARY KEY (server, kind)
);
SELECT pg_catalog.pg_extension_config_dump('qstash_archive_state', '');
