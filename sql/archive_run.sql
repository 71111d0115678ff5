--
-- archive_run: the archive's contract with its callers.  A failed run
-- raises the error of the request that failed, field by field as a plain
-- SELECT of the same request raises it (SQLSTATE, message, DETAIL, HINT:
-- a handler or an alert that matches QS002 must keep working), with or
-- without a DETAIL; which columns of the progress a partial, a failed and
-- a finishing run move; the guards that stop a run on a page read before.
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
\set VERBOSITY default
\set SHOW_CONTEXT never

-- The columns of the progress that moved since it was kept (a table of
-- its own: it outlives a new session).
CREATE TABLE kept AS SELECT * FROM qstash_archive_state;
\set keep 'DELETE FROM kept; INSERT INTO kept SELECT * FROM qstash_archive_state;'
\set moved 'SELECT s.kind, string_agg(n.key, '', '' ORDER BY n.key) AS moved FROM qstash_archive_state s JOIN kept k USING (server, kind), jsonb_each(to_jsonb(s)) n JOIN jsonb_each(to_jsonb(k)) o USING (key) WHERE n.value IS DISTINCT FROM o.value GROUP BY s.kind ORDER BY 1;'

-- the log window begins at 07:00; 250 entries are three pages of it
SELECT qstash_archive_reset('upstash', 'logs', since => '2026-11-18 07:00+00');
:keep

-- a daily 429: the plain SELECT of the request the archive sends first
-- (its first window reaches back the overlap, 5 minutes, before 07:00),
-- with the archive's settings (no retries)
SET qstash.max_retries = 0;
\! $QSTASH_MOCK_CTL queue --path /v2/events --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Remaining: 0' --header 'RateLimit-Reset: 1795010400' --body '{"error":"daily limit reached"}'
SELECT count(*) FROM qstash_log_pages('2026-11-18 06:55+00', '2026-11-19 07:00+00', NULL, 1, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
\set plain_message :LAST_ERROR_MESSAGE
-- the same answer to the archive (in a new session: nothing remembered)
\c
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET qstash.max_retries = 0;
\! $QSTASH_MOCK_CTL queue --path /v2/events --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Remaining: 0' --header 'RateLimit-Reset: 1795010400' --body '{"error":"daily limit reached"}'
CALL qstash_archive_logs('upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
SELECT :'LAST_ERROR_MESSAGE' = :'plain_message' AS same_message;
-- nothing was read: the error and when it was recorded, the run's own
-- bookkeeping, and no progress
:moved
SELECT last_error, last_success_at FROM qstash_archive_state;
\c
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET qstash.max_retries = 0;

-- a 503 with the API's words (DETAIL), in a plain SELECT and in a run
\! $QSTASH_MOCK_CTL queue --path /v2/events --status 503 --body '{"error":"region unavailable"}'
SELECT count(*) FROM qstash_log_pages('2026-11-18 06:55+00', '2026-11-19 07:00+00', NULL, 1, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
\set plain_message :LAST_ERROR_MESSAGE
\! $QSTASH_MOCK_CTL queue --path /v2/events --status 503 --body '{"error":"region unavailable"}'
CALL qstash_archive_logs('upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
SELECT :'LAST_ERROR_MESSAGE' = :'plain_message' AS same_message;

-- an error without a DETAIL keeps its SQLSTATE too: a statement_timeout
-- during a slow answer (57014), a missing user mapping (28000 is not it:
-- the mapping is the role's, see below)
-- (the timeout is long enough for the run to reach its request under the
-- slowest settings of test/check's second pass, JIT for every expression)
\! $QSTASH_MOCK_CTL queue --path /v2/events --delay-ms 15000 --body '{"events": []}'
SET statement_timeout = '2500ms';
CALL qstash_archive_logs('upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT last_error FROM qstash_archive_state;
-- a role that may run the archive but lacks EXECUTE on the page reader
-- (42501, no DETAIL)
CREATE ROLE regress_archive_half;
SELECT count(*) > 0 AS granted FROM qstash_grant_archiver('regress_archive_half');
REVOKE EXECUTE ON FUNCTION qstash_log_pages(timestamptz, timestamptz, text, integer, name) FROM regress_archive_half;
CREATE USER MAPPING FOR regress_archive_half SERVER upstash OPTIONS (token :'mock_token');
SET ROLE regress_archive_half;
CALL qstash_archive_logs('upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- a partial run (one request of three): the cursor and the rows of the
-- window move, the archive's extent does not
\! $QSTASH_MOCK_CTL reset
:keep
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 1);
\o
:moved
SELECT archived_from, archived_to, window_from, window_rows, next_cursor, caught_up, last_error
  FROM qstash_archive_state;
-- a failed run in the middle of the window moves none of it
:keep
\! $QSTASH_MOCK_CTL queue --path /v2/events --status 500 --body '{"error":"internal"}'
CALL qstash_archive_logs('upstash', max_requests => 1);  -- ERROR
:moved
SELECT archived_from, archived_to, window_rows, next_cursor, last_error FROM qstash_archive_state;
-- the next run goes on from the kept cursor, and clears the error
:keep
\! $QSTASH_MOCK_CTL clearlog
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 20);
\o
\! $QSTASH_MOCK_CTL log | head -n 1
SELECT count(*) AS archived FROM qstash_log_archive;
SELECT archived_from, archived_to >= '2026-11-19 07:00+00' AS past_first_window, window_to IS NULL AS no_window,
       last_error, last_success_at > (SELECT last_success_at FROM kept) AS new_success
  FROM qstash_archive_state;
-- archived_from stays where the archive began, run after run (every run's
-- first window reaches back the overlap before archived_to)
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 20);
CALL qstash_archive_logs('upstash', max_requests => 20, overlap => '30 days');
\o
SELECT archived_from FROM qstash_archive_state;

-- a page that goes back in time (an entry one millisecond newer than where
-- the page before it ended) stops the run with QS042, and keeps the
-- progress as it was
SELECT qstash_archive_reset('upstash', 'logs', since => '2026-11-18 07:00+00');
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 1);
\o
:keep
SELECT window_oldest FROM qstash_archive_state;
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [{"time": 1794997259902, "messageId": "late", "state": "CREATED"}], "cursor": "1794990000000-7"}'
CALL qstash_archive_logs('upstash', max_requests => 1);  -- ERROR
\echo :LAST_ERROR_SQLSTATE
:moved
-- one at the very time where the page before ended is no step back
:keep
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [{"time": 1794997259901, "messageId": "edge", "state": "CREATED"}], "cursor": "1794990000000-7"}'
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 1);
\o
SELECT next_cursor, window_rows - (SELECT window_rows FROM kept) AS added_rows FROM qstash_archive_state;

-- the DLQ: a failed pass keeps its number and goes on; a reset starts the
-- next pass after every pass the history has seen (the history is kept)
CALL qstash_archive_dlq('upstash');
CALL qstash_archive_dlq('upstash', max_requests => 1);
:keep
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --status 502 --body '{"error":"bad gateway"}'
CALL qstash_archive_dlq('upstash', max_requests => 1);  -- ERROR
\echo :LAST_ERROR_SQLSTATE
:moved
CALL qstash_archive_dlq('upstash');
SELECT pass, pass_started_at IS NULL AS pass_done FROM qstash_archive_state WHERE kind = 'dlq';
SELECT seen_pass, count(*) FROM qstash_dlq_history GROUP BY 1 ORDER BY 1;
SELECT qstash_archive_reset('upstash', 'dlq');
CALL qstash_archive_dlq('upstash');
SELECT pass FROM qstash_archive_state WHERE kind = 'dlq';
SELECT seen_pass, count(*), count(*) FILTER (WHERE left_at IS NOT NULL) AS gone
  FROM qstash_dlq_history GROUP BY 1 ORDER BY 1;

SET client_min_messages = warning;
DROP OWNED BY regress_archive_half;
DROP TABLE kept;
DROP EXTENSION qstash CASCADE;
DROP ROLE regress_archive_half;
RESET client_min_messages;
