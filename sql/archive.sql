--
-- archive: the page readers the archive is built on (a listing from a
-- cursor, for a number of pages, and where it stopped), their arguments,
-- and who may call them
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');

-- the message log (250 entries), two pages, then the rest from the cursor
\! $QSTASH_MOCK_CTL reset
SELECT count(*), max(message_id), min(message_id)
  FROM qstash_log_pages(NULL, NULL, NULL, 2, 'upstash');
SELECT qstash_last_cursor();
SELECT count(*), max(message_id), min(message_id)
  FROM qstash_log_pages(NULL, NULL, qstash_last_cursor(), 5, 'upstash');
SELECT qstash_last_cursor() IS NULL AS at_the_end;
\! $QSTASH_MOCK_CTL log
-- the three calls read every entry once
SELECT count(*) = 250 AS all_entries FROM (
  SELECT * FROM qstash_log_pages(NULL, NULL, NULL, 1, 'upstash')
  UNION SELECT * FROM qstash_log_pages(NULL, NULL, '1794997199900-100', 1, 'upstash')
  UNION SELECT * FROM qstash_log_pages(NULL, NULL, '1794991199800-200', 1, 'upstash')) every_page;
-- a time window is sent with the cursor; max_pages beyond qstash.max_pages
-- stops at qstash.max_pages, without error, the cursor kept
\! $QSTASH_MOCK_CTL reset
SET qstash.max_pages = 1;
SELECT count(*) FROM qstash_log_pages('2026-11-18 00:00+00', '2026-11-18 12:00+00', NULL, 10, 'upstash');
SELECT qstash_last_cursor();
RESET qstash.max_pages;
\! $QSTASH_MOCK_CTL log
-- a cursor is sent percent-encoded, as UTF-8
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_log_pages(NULL, NULL, 'a b&c=é', 1, 'upstash');  -- ERROR
SELECT qstash_last_cursor() IS NULL AS forgotten;
\! $QSTASH_MOCK_CTL log
-- the empty cursor is the first page: no cursor is sent
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_log_pages(NULL, NULL, '', 1, 'upstash');
\! $QSTASH_MOCK_CTL log
-- max_pages is required, and at least 1: nothing is sent otherwise
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_log_pages(NULL, NULL, NULL, 0, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM qstash_log_pages(NULL, NULL, NULL, NULL, 'upstash');  -- ERROR
SELECT count(*) FROM qstash_dlq_pages(NULL, -1, 'upstash');  -- ERROR
\! $QSTASH_MOCK_CTL count
-- the DLQ (230 messages): 100, then the other 130
SELECT count(*), count(DISTINCT dlq_id) FROM qstash_dlq_pages(NULL, 1, 'upstash');
SELECT qstash_last_cursor();
SELECT count(*), count(DISTINCT dlq_id) FROM qstash_dlq_pages(qstash_last_cursor(), 100, 'upstash');
SELECT qstash_last_cursor() IS NULL AS at_the_end;
-- a cursor names the entry its page starts with: an entry removed before
-- the next page moves no page boundary
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_dlq_pages(NULL, 1, 'upstash');
\! echo '["dlq_0050", "dlq_0100", "dlq_0150"]' | $QSTASH_MOCK_CTL dlq remove -
SELECT count(*), min(dlq_id), max(dlq_id) FROM qstash_dlq_pages(qstash_last_cursor(), 5, 'upstash');

-- a request that can match nothing sends nothing, and leaves no cursor
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_log_pages(now(), now() - interval '1 day', 'abc-1', 1, 'upstash');
SELECT qstash_last_cursor() IS NULL AS no_cursor;
\! $QSTASH_MOCK_CTL count
-- a cursor the archive could not keep as it came is refused (QS042): a
-- NUL in it, bytes that are not printable ASCII, a credential of the
-- mapping (an API that echoes the token); and a path in an error never
-- shows a credential either
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [], "cursor": "1-5\u0000junk"}'
SELECT count(*) FROM qstash_log_pages(NULL, NULL, NULL, 1, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [], "cursor": "1-\u20ac"}'
SELECT count(*) FROM qstash_log_pages(NULL, NULL, NULL, 1, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
-- longer than a URL can carry with the next page (1024 characters at most;
-- the API's are about 20): refused now, not by every run after it
\setenv long_cursor `printf '1-%01024d' 7`
\! $QSTASH_MOCK_CTL queue --path /v2/events --body "{\"events\": [], \"cursor\": \"$long_cursor\"}"
SELECT count(*) FROM qstash_log_pages(NULL, NULL, NULL, 1, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
\setenv long_cursor `printf '1-%01022d' 7`
\! $QSTASH_MOCK_CTL queue --path /v2/events --body "{\"events\": [], \"cursor\": \"$long_cursor\"}"
SELECT count(*), length(qstash_last_cursor()) FROM qstash_log_pages(NULL, NULL, NULL, 1, 'upstash');
\setenv mock_token :mock_token
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --body "{\"messages\": [], \"cursor\": \"1-$mock_token\"}"
SELECT count(*) FROM qstash_dlq_pages(NULL, 1, 'upstash');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
SELECT qstash_last_cursor() IS NULL AS forgotten;
SELECT count(*) FROM qstash_dlq_pages('1-' || :'mock_token', 1, 'upstash');  -- ERROR

-- nothing is granted to PUBLIC: a role needs EXECUTE on each
CREATE ROLE regress_qstash_pages;
SET ROLE regress_qstash_pages;
SELECT count(*) FROM qstash_log_pages(NULL, NULL, NULL, 1, 'upstash');  -- ERROR
SELECT qstash_last_cursor();  -- ERROR
CALL qstash_archive_logs('upstash');  -- ERROR
CALL qstash_archive_dlq('upstash');  -- ERROR
RESET ROLE;
-- with EXECUTE but no USAGE on the server, the archive refuses before any request
GRANT EXECUTE ON FUNCTION qstash_archive_server(name), qstash_archive_claim(name, text),
  qstash_archive_start(text, name, integer, interval, interval), qstash_archive_origin(),
  qstash_requests_sent() TO regress_qstash_pages;
GRANT EXECUTE ON PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean)
  TO regress_qstash_pages;
GRANT SELECT, INSERT, UPDATE ON qstash_archive_state TO regress_qstash_pages;
\! $QSTASH_MOCK_CTL reset
SET ROLE regress_qstash_pages;
CALL qstash_archive_logs('upstash');  -- ERROR
RESET ROLE;
\! $QSTASH_MOCK_CTL count

-- the archive's own arguments
CALL qstash_archive_logs('upstash', max_requests => 0);  -- ERROR
CALL qstash_archive_logs('upstash', overlap => '-1 second');  -- ERROR
CALL qstash_archive_logs('upstash', backfill => '0');  -- ERROR
CALL qstash_archive_logs('nosuch');  -- ERROR
SELECT qstash_archive_reset('upstash', 'messages');  -- ERROR
SELECT qstash_archive_reset('upstash', 'dlq', since => now());  -- ERROR
SELECT qstash_archive_reset(NULL);  -- ERROR
SELECT qstash_archive_reset('upstash', 'logs', since => 'infinity');  -- ERROR
SELECT qstash_archive_reset('upstash', 'logs', since => now() + interval '1 day');  -- ERROR
SELECT qstash_archive_reset('upstash', 'logs', since => '1969-12-31 23:59:59+00');  -- ERROR
SELECT qstash_archive_reset('upstash', 'logs', since => '2026-11-18 00:00+00');
SELECT qstash_archive_reset('upstash');

SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
DROP ROLE regress_qstash_pages;
RESET client_min_messages;
