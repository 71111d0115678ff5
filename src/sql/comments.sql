-- pg_qstash: what \dx, \dew+, \dT+ and \d+ say about the objects that
-- schema.sql creates: the foreign-data wrapper, its handler and validator,
-- the row types, the tables and the columns of the row types, tables and
-- views.  (Routines and views are commented where they are created.)  A
-- part of the install script (see README, Layout); an upgrade runs it
-- again.

COMMENT ON FOREIGN DATA WRAPPER qstash_fdw IS 'Upstash QStash developer and REST APIs';
COMMENT ON FUNCTION qstash_fdw_handler() IS 'Internal: the handler of the foreign-data wrapper qstash_fdw';
COMMENT ON FUNCTION qstash_fdw_validator(text[], oid) IS
  'Internal: the option validator of the foreign-data wrapper qstash_fdw';

COMMENT ON TABLE qstash_stats_history IS
  'Data points stored by qstash_snapshot_stats(), one per instance, metric, series, period and time';
COMMENT ON TABLE qstash_stats_summary_history IS 'One row per instance per qstash_snapshot_summary() run';
COMMENT ON TABLE qstash_log_archive IS
  'Every message log entry qstash_archive_logs() has read, once (server, message id, state, time)';
COMMENT ON TABLE qstash_dlq_history IS
  'Every DLQ message qstash_archive_dlq() has seen: first and last seen, and when it was gone from the DLQ';
COMMENT ON TABLE qstash_archive_state IS
  'Progress of the archive per server and kind: logs are complete up to archived_to; a window or DLQ pass in progress goes on at next_cursor';

-- \dT+ and \d+: the row types and tables users read, and their columns.
COMMENT ON TYPE qstash_stats_point IS 'A row of qstash_stats(): one data point of a usage series';
COMMENT ON TYPE qstash_stats_summary_row IS 'A row of qstash_stats_summary(): one instance';
COMMENT ON TYPE qstash_log_entry IS 'A row of qstash_logs(): one message log entry';
COMMENT ON TYPE qstash_dlq_message IS 'A row of qstash_dlq(): one message of the dead letter queue';

-- Column comments, written once per meaning: each applies to every listed
-- relation (row type, table or view) that has the column.
DO $$
DECLARE
  c record;
  stats text[] := ARRAY['qstash_stats_point', 'qstash_stats_history'];
  summary text[] := ARRAY['qstash_stats_summary_row', 'qstash_stats_summary_history'];
  messages text[] := ARRAY['qstash_log_entry', 'qstash_dlq_message', 'qstash_log_archive',
                           'qstash_dlq_history'];
  logs text[] := ARRAY['qstash_log_entry', 'qstash_log_archive'];
  dlq text[] := ARRAY['qstash_dlq_message', 'qstash_dlq_history'];
  archive text[] := ARRAY['qstash_archive_state', 'qstash_archive_status'];
BEGIN
  FOR c IN
    SELECT rel, col, txt FROM (VALUES
      (stats, 'qstash_id', 'The QStash instance (qstash_users().id)'),
      (stats, 'period', 'The period asked for: 1h, 3h, 12h, 1d, 3d, 7d or 30d'),
      (stats, 'metric', 'The series: daily_requests, daily_billings, daily_bandwidths, daily_used, daily_used_workflow, daily_bandwidth_used, daily_qstash_messages, daily_workflow_messages, ...'),
      (stats, 'series', 'The breakdown (delivered, failed, ...); workflow_message and workflow_run for the extra numbers of daily_requests; NULL for the total: sum totals WHERE series IS NULL'),
      (stats, 'ts', 'Time of the point; the daily_* series of the month are at midnight UTC: the day is (ts AT TIME ZONE ''UTC'')::date'),
      (stats, 'value', 'The number exactly as sent (daily_billings in USD)'),
      (ARRAY['qstash_stats_history', 'qstash_stats_summary_history'], 'fetched_at',
       'When a snapshot stored the row (or changed its value)'),
      (summary, 'qstash_id', 'The QStash instance (qstash_users().id)'),
      (summary, 'period', 'The period asked for'),
      (summary, 'dlq_message_count', 'Messages in the dead letter queue'),
      (summary, 'total_monthly_billing', 'Billing of the month so far, USD'),
      (summary, 'days', 'The labels of the days the daily series cover, as sent'),
      (messages, 'message_id', 'The message (msg_...)'),
      (messages, 'url', 'The destination URL'),
      (messages, 'topic_name', 'The URL group the message was published to, if any'),
      (messages, 'endpoint_name', 'The endpoint of the URL group, if any'),
      (messages, 'schedule_id', 'The schedule that created the message, if any'),
      (messages, 'queue_name', 'The queue of the message, if any'),
      (messages, 'method', 'The HTTP method of the delivery'),
      (messages, 'header', 'The headers of the message, as sent (jsonb: name -> array of values)'),
      (messages, 'body', 'The body of the message (decoded from base64)'),
      (messages, 'body_text', 'The same bytes as text when they are valid UTF-8, else NULL'),
      (messages, 'response_status', 'HTTP status of the last delivery attempt'),
      (messages, 'response_headers', 'Headers of the last delivery''s response (jsonb)'),
      (messages, 'response_header', 'Headers of the last delivery''s response (jsonb)'),
      (messages, 'response_body', 'Body of the last delivery''s response'),
      (messages, 'response_body_text', 'The same bytes as text when they are valid UTF-8, else NULL'),
      (messages, 'max_retries', 'Retries allowed'),
      (messages, 'retry_delay_expression', 'The retry delay expression, if set'),
      (messages, 'callback', 'The callback URL, if any'),
      (messages, 'callback_headers', 'Headers sent to the callback (jsonb)'),
      (messages, 'callback_header', 'Headers sent to the callback (jsonb)'),
      (messages, 'failure_callback', 'The failure callback URL, if any'),
      (messages, 'failure_callback_headers', 'Headers sent to the failure callback (jsonb)'),
      (messages, 'failure_callback_header', 'Headers sent to the failure callback (jsonb)'),
      (messages, 'label', 'The label of the message'),
      (messages, 'labels', 'Every label of the message'),
      (messages, 'flow_control_key', 'The flow-control key, if any'),
      (messages, 'parallelism', 'Flow control: deliveries at once'),
      (messages, 'rate', 'Flow control: deliveries per period'),
      (messages, 'period', 'Flow control: the rate''s period, seconds'),
      (messages, 'extra', 'Every field this version does not know yet (NULL when none)'),
      (logs, 'time', 'When the state was entered'),
      (logs, 'state', 'CREATED, ACTIVE, RETRY, ERROR, DELIVERED, FAILED, CANCEL_REQUESTED or CANCELLED'),
      (logs, 'error', 'The error of a failed attempt'),
      (logs, 'next_delivery_time', 'When the next attempt is due'),
      (logs, 'timeout', 'Delivery timeout, milliseconds'),
      (dlq, 'dlq_id', 'The id of the message in the DLQ (to retry or delete it)'),
      (dlq, 'created_at', 'When the message was created'),
      (dlq, 'not_before', 'The earliest delivery time the message was published with'),
      (dlq, 'caller_ip', 'The address the message was published from'),
      (ARRAY['qstash_log_archive', 'qstash_dlq_history'], 'server', 'The foreign server the row was read from'),
      (ARRAY['qstash_log_archive'], 'archived_at', 'When the archive stored the entry'),
      (ARRAY['qstash_dlq_history'], 'first_seen', 'The first run that saw the message in the DLQ'),
      (ARRAY['qstash_dlq_history'], 'last_seen', 'The last run that saw it'),
      (ARRAY['qstash_dlq_history'], 'left_at', 'When a complete pass first missed it (retried, deleted or expired); NULL while it is in the DLQ'),
      (archive, 'server', 'The foreign server archived'),
      (archive, 'kind', 'logs (the message log) or dlq (the DLQ history)'),
      (archive, 'archived_from', 'Logs: where the archive began'),
      (archive, 'archived_to', 'Logs: the archive is complete up to this time; dlq: the start of the last complete pass'),
      (archive, 'caught_up', 'The last run reached the present (logs) or completed a pass (dlq)'),
      (archive, 'last_run_at', 'When the last run started'),
      (archive, 'last_run_requests', 'HTTP requests of the last run'),
      (archive, 'last_run_rows', 'Rows the last run read'),
      (archive, 'last_success_at', 'When the last run without error started'),
      (archive, 'last_error', 'The error of the last run, until a run succeeds'),
      (archive, 'last_error_at', 'When it happened'),
      (archive, 'window_size', 'Logs: the size of the next time window'),
      (archive, 'pass_started_at', 'Dlq: when the pass being read began'),
      (ARRAY['qstash_archive_state'], 'server_oid', 'The OID of the server the progress was made for'),
      (ARRAY['qstash_archive_state'], 'origin', 'The cluster and database where server_oid was recorded'),
      (ARRAY['qstash_archive_state'], 'window_from', 'Logs: the start of the window being read'),
      (ARRAY['qstash_archive_state'], 'window_to', 'Logs: its end'),
      (ARRAY['qstash_archive_state'], 'window_floor', 'Logs: entries at or before it were read before (the overlap)'),
      (ARRAY['qstash_archive_state'], 'window_rows', 'Logs: rows read of the window so far'),
      (ARRAY['qstash_archive_state'], 'window_oldest', 'Logs: the oldest time read of the window so far (its pages go newest first)'),
      (ARRAY['qstash_archive_state'], 'pass', 'Dlq: the number of the pass being read, or of the last one'),
      (ARRAY['qstash_dlq_history'], 'seen_pass', 'The DLQ pass that last saw the message (NULL: before 0.3.0)'),
      (ARRAY['qstash_archive_state'], 'next_cursor', 'The API''s cursor of the next page of the window or pass being read'),
      (ARRAY['qstash_archive_state'], 'overlap', 'Logs: the overlap of the last run'),
      (ARRAY['qstash_archive_state'], 'entry_rate', 'Logs: entries a second in the windows read lately'),
      (ARRAY['qstash_archive_state'], 'previous_run_at', 'When the run before the last started'),
      (ARRAY['qstash_archive_status'], 'rows', 'Logs: entries archived; dlq: messages in the DLQ'),
      (ARRAY['qstash_archive_status'], 'reading', 'Logs: the window being read'),
      (ARRAY['qstash_archive_status'], 'run_interval', 'Time between the last two runs'),
      (ARRAY['qstash_archive_status'], 'entry_rate', 'Logs: entries a second in the windows read lately'),
      (ARRAY['qstash_archive_status'], 'requests_needed', 'Logs: the max_requests a run at this interval needs to keep up'),
      (ARRAY['qstash_rate_limits'], 'server', 'The foreign server'),
      (ARRAY['qstash_rate_limits'], 'api', 'developer (api_url, email and api_key) or qstash (qstash_url, token): each has limits of its own'),
      (ARRAY['qstash_rate_limits'], 'kind', 'burst (per second), daily, chat_requests or chat_tokens'),
      (ARRAY['qstash_rate_limits'], 'limit', 'The limit the API announced'),
      (ARRAY['qstash_rate_limits'], 'remaining', 'What was left of it; NULL when unknown (a later success without the headers)'),
      (ARRAY['qstash_rate_limits'], 'reset_at', 'When it resets'),
      (ARRAY['qstash_rate_limits'], 'observed_at', 'When a response carried these figures')
    ) v(rels, col, txt), unnest(v.rels) AS rel
  LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = format('@extschema@.%I', c.rel)::regclass
                  AND a.attname = c.col AND NOT a.attisdropped) THEN
      EXECUTE format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', c.rel, c.col, c.txt);
    END IF;
  END LOOP;
END
$$;
