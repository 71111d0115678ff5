--
-- servers: two servers side by side, as a user with an EU and a US region
-- has them (each its own account, credentials, instance, message log and
-- DLQ: test/mock/launch's second mock).  Every operation on one server
-- touches only that server's rows: the archive, the DLQ history, a reset,
-- a failed run, the snapshots and the grants.
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
\getenv us_url QSTASH_MOCK_US_URL
\getenv us_email QSTASH_MOCK_US_EMAIL
\getenv us_key QSTASH_MOCK_US_API_KEY
\getenv us_token QSTASH_MOCK_US_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SERVER us FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'us_url', qstash_url :'us_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER us
  OPTIONS (email :'us_email', api_key :'us_key', token :'us_token');

-- each server reads its own account
SELECT 'upstash' AS server, id, region FROM qstash_users('upstash')
UNION ALL SELECT 'us', id, region FROM qstash_users('us') ORDER BY 1, 2;
SELECT 'upstash' AS server, count(*), min(dlq_id), max(dlq_id) FROM qstash_dlq(server => 'upstash')
UNION ALL SELECT 'us', count(*), min(dlq_id), max(dlq_id) FROM qstash_dlq(server => 'us');

-- Every row of one server, as a digest of each table: what an operation
-- on the other server must leave as it was.
CREATE FUNCTION server_rows(s name) RETURNS TABLE (what text, n bigint, digest text)
LANGUAGE sql AS $$
  SELECT 'archive_state', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.kind), ''))
    FROM qstash_archive_state t WHERE t.server = s
  UNION ALL
  SELECT 'log_archive', count(*),
         md5(coalesce(string_agg(a::text, '|' ORDER BY a.message_id, a.state, a."time"), ''))
    FROM qstash_log_archive a WHERE a.server = s
  UNION ALL
  SELECT 'dlq_history', count(*), md5(coalesce(string_agg(h::text, '|' ORDER BY h.dlq_id), ''))
    FROM qstash_dlq_history h WHERE h.server = s
$$;
CREATE TEMP TABLE kept (server name, what text, n bigint, digest text);
-- keep: remember a server's rows; unchanged: are they as remembered?
\set keep 'DELETE FROM kept; INSERT INTO kept SELECT s.srvname, r.* FROM pg_foreign_server s, server_rows(s.srvname) r WHERE s.srvname = '
\set unchanged 'SELECT k.server, k.what, k.n, r.n AS now, r.digest = k.digest AS unchanged FROM kept k JOIN LATERAL server_rows(k.server) r ON r.what = k.what ORDER BY k.what;'

-- the log archive of both, from the same time (the mock's entries are of
-- 2026-11-18); what a run reports depends on today's date, so it is not shown
SELECT qstash_archive_reset('upstash', 'logs', since => '2026-11-18 07:00+00');
SELECT qstash_archive_reset('us', 'logs', since => '2026-11-18 07:00+00');
\o /dev/null
CALL qstash_archive_logs('us', max_requests => 50);
\o
:keep 'us';
\! $QSTASH_MOCK_US_CTL clearlog
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 50);
\o
:unchanged
-- the US mock saw no request of the EU run
\! $QSTASH_MOCK_US_CTL count
SELECT server, count(*), count(DISTINCT message_id) AS messages, min(message_id), max(message_id)
  FROM qstash_log_archive GROUP BY server ORDER BY server;
SELECT server, kind, archived_from, caught_up, last_error FROM qstash_archive_state ORDER BY 1, 2;

-- the DLQ history: one pass of the US server, then two of the EU server
-- (passes are numbered per server: the EU's first is its pass 1)
CALL qstash_archive_dlq('us');
:keep 'us';
CALL qstash_archive_dlq('upstash');
:unchanged
SELECT server, kind, pass, pass_started_at IS NULL AS pass_done FROM qstash_archive_state
 WHERE kind = 'dlq' ORDER BY 1;
-- three EU messages leave its DLQ: its second pass marks those three gone,
-- and no US message, though the US rows were seen in an older pass number
\! echo '["dlq_0000", "dlq_0100", "dlq_0229"]' | $QSTASH_MOCK_CTL dlq remove -
CALL qstash_archive_dlq('upstash');
:unchanged
SELECT server, count(*) FILTER (WHERE left_at IS NULL) AS present,
       string_agg(dlq_id, ',' ORDER BY dlq_id) FILTER (WHERE left_at IS NOT NULL) AS gone,
       min(seen_pass), max(seen_pass)
  FROM qstash_dlq_history GROUP BY server ORDER BY server;
SELECT server, kind, rows FROM qstash_archive_status ORDER BY 1, 2;

-- a failed run of the EU server records its error on the EU rows only
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --status 503 --body '{"error":"unavailable"}'
:keep 'us';
CALL qstash_archive_dlq('upstash');  -- ERROR
:unchanged
SELECT server, kind, last_error FROM qstash_archive_state ORDER BY 1, 2;

-- a reset of one server forgets that server's progress only, its rows stay
:keep 'us';
SELECT qstash_archive_reset('upstash', 'dlq');
:unchanged
SELECT qstash_archive_reset('upstash', 'logs', since => '2026-11-18 11:00+00');
:unchanged
SELECT qstash_archive_reset('upstash');
:unchanged
SELECT server, kind FROM qstash_archive_state ORDER BY 1, 2;
SELECT server, count(*) FROM qstash_log_archive GROUP BY server ORDER BY 1;
-- and the other way round
:keep 'upstash';
SELECT qstash_archive_reset('us');
:unchanged
SELECT count(*) AS progress_rows FROM qstash_archive_state;

-- snapshots take the server they are given: the US account's instance only
SELECT * FROM qstash_snapshot_stats('1h', 'us');
SELECT qstash_snapshot_summary('1h', 'us');
SELECT 'stats' AS history, qstash_id, count(*) FROM qstash_stats_history GROUP BY qstash_id
UNION ALL
SELECT 'summary', qstash_id, count(*) FROM qstash_stats_summary_history GROUP BY qstash_id
ORDER BY 1, 2;
SELECT qstash_id, dlq_message_count, total_monthly_billing FROM qstash_stats_summary_history;
SELECT * FROM qstash_snapshot_stats('1h', 'upstash');
SELECT qstash_snapshot_summary('1h', 'upstash');
SELECT qstash_id, count(*) FROM qstash_stats_summary_history GROUP BY qstash_id ORDER BY 1;

-- the grants of one server cover that server and its foreign tables only
CREATE SCHEMA eu_r;
CREATE SCHEMA us_r;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (users, dlq) FROM SERVER upstash INTO eu_r;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (users, dlq) FROM SERVER us INTO us_r;
CREATE ROLE regress_us_reader;
CREATE ROLE regress_us_archiver;
SELECT s FROM qstash_grant_reader('regress_us_reader', 'us') s
 WHERE s LIKE '%SERVER%' OR s LIKE '%\_r.%' OR s LIKE '%SCHEMA%' ORDER BY 1;
SELECT s FROM qstash_grant_archiver('regress_us_archiver', 'us') s WHERE s LIKE '%SERVER%';
SELECT r.rolname, s.srvname, has_server_privilege(r.rolname, s.oid, 'USAGE') AS usage
  FROM pg_roles r, pg_foreign_server s
 WHERE r.rolname LIKE 'regress\_us\_%' ORDER BY 1, 2;
SELECT c.oid::regclass AS foreign_table, has_table_privilege('regress_us_reader', c.oid, 'SELECT') AS reader
  FROM pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid ORDER BY 1;
-- a reader of the US server with its own mapping reads it, and not the EU one
CREATE USER MAPPING FOR regress_us_reader SERVER us OPTIONS (token :'us_token');
SET ROLE regress_us_reader;
SELECT count(*) FROM us_r.dlq;
SELECT count(*) FROM eu_r.dlq;  -- ERROR
SELECT count(*) FROM qstash_dlq(server => 'upstash');  -- ERROR
RESET ROLE;

SET client_min_messages = warning;
DROP SCHEMA eu_r, us_r CASCADE;
DROP FUNCTION server_rows(name);
DROP EXTENSION qstash CASCADE;
DROP ROLE regress_us_reader, regress_us_archiver;
RESET client_min_messages;
