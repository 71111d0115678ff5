--
-- dba: a DBA's first hour.  Filter values of a fixed set are matched or
-- refused, never silently empty; 401 hints name the API's own credential;
-- a kept 404 never answers a listing; billing days in any TimeZone; one
-- call gives a role read access (or what the pg_cron jobs need), tested as
-- that role; \dx, \df and \d+ describe the extension.
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SCHEMA dba_remote;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO dba_remote;
SET qstash.max_retries = 0;
\set SHOW_CONTEXT never

-- 1. the log state: any case in a function; a value outside the API's set
-- is an error naming them, before any request
\! $QSTASH_MOCK_CTL reset
SELECT count(*) AS failed FROM qstash_logs(state => 'FAILED');
SELECT count(*) AS failed FROM qstash_logs(state => 'failed');
SELECT count(*) AS failed FROM qstash_logs(state => 'Failed', max_rows => 5);
SELECT count(*) AS in_progress FROM qstash_logs(state => 'in_progress');
\! $QSTASH_MOCK_CTL log
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_logs(state => 'BOGUS');  -- ERROR
SELECT count(*) FROM qstash_logs(state => 'FAILED ');  -- ERROR
-- a foreign table checks its qual exactly too: another case is an error
-- that names the spelling, never an empty result
SELECT count(*) FROM dba_remote.logs WHERE state = 'failed';  -- ERROR
SELECT count(*) FROM dba_remote.logs WHERE state = 'BOGUS';  -- ERROR
EXPLAIN (VERBOSE, COSTS OFF) SELECT time FROM dba_remote.logs WHERE state = 'failed';  -- ERROR
-- ... and IN_PROGRESS, which the API takes but no entry carries, would
-- keep no row of a foreign table: an error that says what to write
SELECT count(*) FROM dba_remote.logs WHERE state = 'IN_PROGRESS';  -- ERROR
\! $QSTASH_MOCK_CTL count
SELECT count(*) FROM dba_remote.logs WHERE state IN ('ACTIVE', 'RETRY', 'ERROR');
-- ... and so in a qual that stays local (the API takes one state)
SELECT count(*) FROM dba_remote.logs WHERE state IN ('failed', 'DELIVERED');  -- ERROR
SELECT count(*) FROM dba_remote.logs WHERE state = ANY (ARRAY['BOGUS']);  -- ERROR
SELECT count(*) FROM dba_remote.logs WHERE state IN ('IN_PROGRESS', 'ACTIVE');  -- ERROR
SELECT count(*) FROM dba_remote.logs WHERE state IN ('FAILED', 'DELIVERED', '');
SELECT count(*) AS in_progress FROM qstash_logs(state => 'in_progress');
SELECT count(*) AS failed FROM dba_remote.logs WHERE state = 'FAILED';
-- an empty value matches no row and sends nothing, as before
SELECT count(*) FROM qstash_logs(state => '');

-- IMPORT FOREIGN SCHEMA takes no options (they would be ignored, and a
-- credential among them logged with the statement)
CREATE SCHEMA dba_import;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (users) FROM SERVER upstash INTO dba_import
  OPTIONS (api_key 'in-the-wrong-place');  -- ERROR
DROP SCHEMA dba_import;

-- 2. a 401 hints at the credential of the API that refused it
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET api_key 'wrong-key', SET token 'wrong-token');
SELECT count(*) FROM qstash_users();  -- ERROR
SELECT count(*) FROM qstash_queues();  -- ERROR
SELECT count(*) FROM dba_remote.logs;  -- ERROR
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET api_key :'mock_key', SET token :'mock_token');

-- 3. a 404 kept for an instance's stats (the lookup by id may miss) never
-- answers the listing of every instance, which expects it to exist
SET qstash.cache_ttl = 60;
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/stats/99a4c327-31f0-490f-a594-043ade84085a --status 404 --body '{"error":"not yet"}'
SELECT count(*) FROM qstash_stats(qstash_id => '99a4c327-31f0-490f-a594-043ade84085a');
SELECT qstash_id, count(*) FROM qstash_stats() GROUP BY 1 ORDER BY 1;
-- the same within one statement, through a foreign table
SELECT qstash_cache_reset();
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/stats/99a4c327-31f0-490f-a594-043ade84085a --status 404 --body '{"error":"not yet"}'
SELECT (SELECT count(*) FROM dba_remote.stats WHERE qstash_id = '99a4c327-31f0-490f-a594-043ade84085a') AS by_id,
       (SELECT count(*) FROM dba_remote.stats) AS every_instance;
\! $QSTASH_MOCK_CTL log
RESET qstash.cache_ttl;
SELECT qstash_cache_reset();

-- 4. billing per day in any TimeZone: the daily points are at midnight UTC
SET TimeZone = 'America/Los_Angeles';
SELECT min(ts::date) AS local_day, min((ts AT TIME ZONE 'UTC')::date) AS utc_day
  FROM qstash_stats('1d') WHERE metric = 'daily_billings';
-- a total of daily_requests is over series IS NULL
SELECT series, sum(value) FROM qstash_stats('1d', '99a4c327-31f0-490f-a594-043ade84085a')
 WHERE metric = 'daily_requests' GROUP BY 1 ORDER BY 1;
RESET TimeZone;

-- 5. roles: one call for a reader, one for the archiving role
CREATE ROLE regress_qstash_reader LOGIN;
CREATE ROLE regress_qstash_archiver LOGIN;
CREATE ROLE regress_qstash_admin LOGIN;
SELECT qstash_grant_reader('regress_qstash_nobody');  -- ERROR
SELECT qstash_grant_reader('regress_qstash_reader', 'nope');  -- ERROR
SELECT qstash_grant_reader('public');  -- ERROR
-- a role with EXECUTE on it but no right to grant what it grants: 42501,
-- and nothing is granted
GRANT EXECUTE ON FUNCTION qstash_grant_reader(text, text) TO regress_qstash_admin;
SET ROLE regress_qstash_admin;
SELECT qstash_grant_reader('regress_qstash_reader');  -- ERROR
RESET ROLE;
SELECT has_server_privilege('regress_qstash_reader', 'upstash', 'USAGE') AS granted;
REVOKE EXECUTE ON FUNCTION qstash_grant_reader(text, text) FROM regress_qstash_admin;
SELECT qstash_grant_reader('regress_qstash_reader');
SELECT qstash_grant_archiver('regress_qstash_archiver', 'upstash');
CREATE USER MAPPING FOR regress_qstash_reader SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key', token :'mock_token');
CREATE USER MAPPING FOR regress_qstash_archiver SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key', token :'mock_token');

-- the reader: every read-only object readable (the extension's tables and
-- views, every foreign table, the functions that read), nothing writable
CREATE TEMP VIEW ext_relations AS
  SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash'
   WHERE c.relkind IN ('r', 'v')
  UNION ALL
  SELECT t.ftrelid::regclass, 'f' FROM pg_foreign_table t;
CREATE TEMP VIEW ext_routines AS
  SELECT p.oid::regprocedure AS routine, p.proname FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash';
GRANT SELECT ON ext_relations, ext_routines TO regress_qstash_reader, regress_qstash_archiver;
SELECT relkind, count(*) AS relations,
       bool_and(has_table_privilege('regress_qstash_reader', rel, 'SELECT')) AS all_readable,
       bool_or(has_table_privilege('regress_qstash_reader', rel, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))
         AS any_writable
  FROM ext_relations GROUP BY 1 ORDER BY 1;
SELECT proname AS executable_by_the_reader FROM ext_routines
 WHERE has_function_privilege('regress_qstash_reader', routine, 'EXECUTE') ORDER BY 1;
SET ROLE regress_qstash_reader;
DO $$
DECLARE
  r record;
  n bigint;
  total integer := 0;
BEGIN
  FOR r IN SELECT rel FROM ext_relations ORDER BY rel::text LOOP
    EXECUTE format('SELECT count(*) FROM %s', r.rel) INTO n;
    total := total + 1;
  END LOOP;
  RAISE NOTICE 'the reader read % relations', total;
END $$;
SELECT (SELECT count(*) FROM qstash_users()) AS users, (SELECT count(*) FROM qstash_ipv4()) AS ipv4,
       (SELECT count(*) FROM qstash_stats()) > 0 AS stats, (SELECT count(*) FROM qstash_stats_summary()) AS summaries,
       (SELECT count(*) FROM qstash_logs(max_rows => 3)) AS logs, (SELECT count(*) FROM qstash_dlq(max_rows => 3)) AS dlq,
       (SELECT count(*) FROM qstash_schedules()) AS schedules, (SELECT count(*) FROM qstash_queues()) AS queues,
       (SELECT count(*) FROM qstash_url_groups()) AS url_groups, (SELECT count(*) FROM qstash_flow_control()) AS flow_control,
       (SELECT count(*) FROM qstash_global_parallelism()) AS global_parallelism,
       (SELECT count(*) FROM qstash_rate_limits) > 0 AS rate_limits;
INSERT INTO qstash_stats_history (qstash_id, metric, ts) VALUES ('99a4c327-31f0-490f-a594-043ade84085a', 'x', now());  -- ERROR
DELETE FROM qstash_archive_state;  -- ERROR
SELECT qstash_snapshot_stats();  -- ERROR
SELECT qstash_cache_reset();  -- ERROR
SELECT qstash_archive_reset('upstash');  -- ERROR
CALL qstash_archive_logs('upstash');  -- ERROR
SELECT qstash_grant_reader('regress_qstash_archiver');  -- ERROR
RESET ROLE;

-- the archiving role: snapshots and both archives run, it may reset the
-- progress; it reads no foreign table
SELECT proname AS executable_by_the_archiver FROM ext_routines
 WHERE has_function_privilege('regress_qstash_archiver', routine, 'EXECUTE') ORDER BY 1;
SET ROLE regress_qstash_archiver;
SELECT inserted > 0 AS inserted FROM qstash_snapshot_stats('1h', 'upstash');
SELECT qstash_snapshot_summary('1h', 'upstash');
\o /dev/null
CALL qstash_archive_logs('upstash', max_requests => 3);
CALL qstash_archive_dlq('upstash', max_requests => 3);
\o
SELECT server, kind, last_run_requests > 0 AS sent, last_error FROM qstash_archive_status ORDER BY 1, 2;
SELECT count(*) AS dlq_messages FROM qstash_dlq_history;
SELECT qstash_archive_reset('upstash', 'dlq');
SELECT count(*) FROM dba_remote.users;  -- ERROR
RESET ROLE;

-- nothing is granted to PUBLIC
SELECT count(*) AS granted_to_public FROM (
  SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p WHERE p.oid IN (SELECT routine FROM ext_routines)
  UNION ALL
  SELECT (aclexplode(c.relacl)).grantee FROM pg_class c WHERE c.oid IN (SELECT rel FROM ext_relations)
  UNION ALL
  SELECT (aclexplode(s.srvacl)).grantee FROM pg_foreign_server s) g
 WHERE grantee = 0;

-- 6. \dx, \df, \d+: the extension, every function and every column users
-- read has a comment; the internal helpers say so
SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'qstash';
SELECT routine, obj_description(routine, 'pg_proc') FROM ext_routines
 WHERE coalesce(obj_description(routine, 'pg_proc'), '') = '';
SELECT proname AS internal FROM ext_routines
 WHERE obj_description(routine, 'pg_proc') LIKE 'Internal%' ORDER BY 1;
SELECT c.relname, count(*) AS columns, count(col_description(c.oid, a.attnum)) AS described
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relname IN ('qstash_stats_point', 'qstash_stats_summary_row', 'qstash_log_entry',
                     'qstash_dlq_message', 'qstash_stats_history', 'qstash_stats_summary_history',
                     'qstash_log_archive', 'qstash_dlq_history', 'qstash_archive_state',
                     'qstash_archive_status', 'qstash_rate_limits')
 GROUP BY 1 ORDER BY 1;
SELECT t.typname, obj_description(t.oid, 'pg_type') FROM pg_type t
 WHERE t.typname LIKE 'qstash%' AND t.typtype = 'c' AND t.typrelid IN (
   SELECT c.oid FROM pg_class c WHERE c.relkind = 'c') ORDER BY 1;

SET client_min_messages = warning;
DROP OWNED BY regress_qstash_reader, regress_qstash_archiver, regress_qstash_admin CASCADE;
DROP ROLE regress_qstash_reader, regress_qstash_archiver, regress_qstash_admin;
DROP SCHEMA dba_remote CASCADE;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
