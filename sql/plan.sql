--
-- plan: the request plan.  No request before the first row is asked for;
-- listings are read page by page as rows are consumed; EXPLAIN VERBOSE
-- shows exactly the request that is sent.
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SCHEMA r;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO r;
CREATE TABLE local_regions (region text);
ANALYZE local_regions;

-- 1. a scan that is never pulled sends nothing
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM (SELECT * FROM r.users LIMIT 0) s;
SELECT count(*) FROM (SELECT * FROM r.logs LIMIT 0) s;
-- an empty outer side: the foreign scan is never started
SELECT l.region, u.id FROM local_regions l JOIN r.users u ON u.region = l.region;
SELECT l.region, u.id FROM local_regions l LEFT JOIN LATERAL
  (SELECT id FROM r.users WHERE region = l.region) u ON true;
-- a cursor declared and closed without a FETCH
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM r.logs;
CLOSE c;
COMMIT;
-- plain EXPLAIN, and a condition that is false
EXPLAIN (COSTS OFF) SELECT * FROM r.logs;
SELECT count(*) FROM r.users WHERE false;
\! $QSTASH_MOCK_CTL count

-- 2. a cursor fetches a page only when its rows are needed
\! $QSTASH_MOCK_CTL reset
BEGIN;
DECLARE c CURSOR FOR SELECT message_id FROM r.logs;
FETCH 2 FROM c;
\! $QSTASH_MOCK_CTL count
MOVE FORWARD 150 IN c;
FETCH 1 FROM c;
\! $QSTASH_MOCK_CTL count
MOVE FORWARD ALL IN c;
\! $QSTASH_MOCK_CTL log
CLOSE c;
COMMIT;
\! $QSTASH_MOCK_CTL reset

-- 3. a LIMIT above a filter that stays local stops after the page that
-- completes it: 1 000 entries (10 pages), the first match on page 3
\! $QSTASH_MOCK_CTL generate /v2/events log_pages 1000 12
EXPLAIN (VERBOSE, COSTS OFF)
SELECT message_id FROM r.logs WHERE message_id > 'msg_big0249' LIMIT 5;
SELECT message_id FROM r.logs WHERE message_id > 'msg_big0249' LIMIT 5;
\! $QSTASH_MOCK_CTL log
\! $QSTASH_MOCK_CTL reset
-- ... and the rescans of a nested loop replay what was read, and read on
-- only where the first pass stopped: one request per page, each page once
\! $QSTASH_MOCK_CTL generate /v2/events log_pages 1000 12
SELECT count(*) FROM generate_series(1, 3) g,
  LATERAL (SELECT message_id FROM r.logs WHERE state <> 'x' OFFSET 95 * g LIMIT 10) l;
\! $QSTASH_MOCK_CTL log
\! $QSTASH_MOCK_CTL reset

-- 4. EXPLAIN VERBOSE shows the request the runner sends, rendered by the
-- same function: for each query below, the request EXPLAIN names is the
-- first one the mock logs
CREATE FUNCTION explained_request(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || query INTO plan;
  RETURN jsonb_path_query_first(plan, 'strict $.**."QStash Request"[0]') #>> '{}';
END $$;
CREATE TABLE checks (n int, query text);
INSERT INTO checks VALUES
  (1, $$SELECT * FROM r.users WHERE id = '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10'$$),
  (2, $$SELECT * FROM r.stats WHERE period = '7d' AND qstash_id = '99a4c327-31f0-490f-a594-043ade84085a'$$),
  (3, $$SELECT * FROM r.stats_summary WHERE period IN ('3h', '30d') AND qstash_id = '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10'$$),
  (4, $$SELECT * FROM r.logs WHERE state = 'ERROR' AND url = 'https://api.example.com/a' AND 'eu' = ANY (labels)
        AND time BETWEEN '2026-11-18 11:00:00.0005+00' AND '2026-11-18 12:00+00'$$),
  (5, $$SELECT * FROM r.logs WHERE message_id = 'a b&c=d/é' LIMIT 3$$),
  (6, $$SELECT * FROM r.dlq WHERE response_status IN (500, 502) AND url IN ('https://api.example.com/a', 'https://hooks.example.org/c') AND created_at > '2026-11-01 00:00+00'$$),
  (7, $$SELECT * FROM r.dlq WHERE dlq_id IN ('dlq_0001', 'dlq_0003')$$),
  (8, $$SELECT * FROM r.schedules WHERE schedule_id = 'scd_..'$$),
  (9, $$SELECT * FROM r.queues WHERE name = '..'$$),
  (10, $$SELECT * FROM r.ipv4$$);
-- run each query and compare the first logged request with EXPLAIN's
CREATE FUNCTION run_check(k int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE q text;
BEGIN
  SELECT query INTO q FROM checks WHERE n = k;
  EXECUTE 'SELECT count(*) FROM (' || q || ') s';
  RETURN explained_request(q);
END $$;
\getenv mockdir QSTASH_MOCK_DIR
\set n 1
\i :mockdir/explain_check.psql
\set n 2
\i :mockdir/explain_check.psql
\set n 3
\i :mockdir/explain_check.psql
\set n 4
\i :mockdir/explain_check.psql
\set n 5
\i :mockdir/explain_check.psql
\set n 6
\i :mockdir/explain_check.psql
\set n 7
\i :mockdir/explain_check.psql
\set n 8
\i :mockdir/explain_check.psql
\set n 9
\i :mockdir/explain_check.psql
\set n 10
\i :mockdir/explain_check.psql

-- 5. what a second adversarial review found
-- ... a pushed value is evaluated only when a row is needed: plain
-- EXPLAIN, LIMIT 0 and an empty outer side never run it
CREATE FUNCTION boom() RETURNS text STABLE LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'boom evaluated'; END $$;
EXPLAIN (COSTS OFF) SELECT * FROM r.logs WHERE state = boom();
SELECT count(*) FROM (SELECT * FROM r.logs WHERE state = boom() LIMIT 0) s;
SELECT count(*) FROM local_regions l JOIN r.logs g ON g.url = l.region WHERE g.state = boom();
SELECT count(*) FROM r.logs WHERE state = boom();  -- ERROR
-- ... an empty value matches no row and sends nothing
\! $QSTASH_MOCK_CTL reset
PREPARE by_state(text) AS SELECT count(*) FROM r.logs WHERE state = $1;
EXECUTE by_state('');
SELECT count(*) FROM r.dlq WHERE url IN ('', 'https://api.example.com/a');
\! $QSTASH_MOCK_CTL log
-- ... a cursor the API returns again after other pages ends the listing
-- with QS042, not only when it repeats the one just before
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [], "cursor": "A"}'
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [], "cursor": "B"}'
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [], "cursor": "A"}'
SET qstash.max_pages = 1000000;
SELECT count(*) FROM r.logs;  -- ERROR
RESET qstash.max_pages;
\! $QSTASH_MOCK_CTL count
-- ... a cursor open across ALTER / DROP USER MAPPING sends its next page
-- with the mapping as it is now, or fails as a new scan would
\! $QSTASH_MOCK_CTL reset
BEGIN;
DECLARE c CURSOR FOR SELECT message_id FROM r.logs;
MOVE FORWARD 99 IN c;
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET token 'tok-revoked');
FETCH 2 FROM c;  -- ERROR
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT message_id FROM r.logs;
MOVE FORWARD 99 IN c;
DROP USER MAPPING FOR CURRENT_USER SERVER upstash;
FETCH 2 FROM c;  -- ERROR
ROLLBACK;
\! $QSTASH_MOCK_CTL log
-- ... a LATERAL subquery under an outer join whose output names the
-- outer row: the scan runs inside the loop over the outer rows, so the
-- outer values are there (a hash join once read them from the table)
CREATE TABLE local_ids (id int, mid text);
INSERT INTO local_ids SELECT i, 'msg_000' || i FROM generate_series(0, 2) i;
SELECT l.id, x.* FROM local_ids l LEFT JOIN LATERAL
  (SELECT l.mid AS lm, d.message_id FROM r.dlq d WHERE d.dlq_id = 'dlq_000' || l.id) x ON true
 ORDER BY l.id;
SELECT g, x.* FROM generate_series(1, 2) g LEFT JOIN LATERAL
  (SELECT g AS gg, d.caller_ip FROM r.dlq d WHERE d.dlq_id = 'dlq_000' || g) x ON true ORDER BY g;
-- ... the pages a listing has read are not all held in memory: the
-- cache keeps within qstash.cache_max_bytes, the statement's own
-- responses included
\! $QSTASH_MOCK_CTL generate /v2/events log_pages 2000 6000
SET qstash.cache_max_bytes = '1MB';
BEGIN;
DECLARE c CURSOR FOR SELECT message_id, body FROM r.logs;
MOVE FORWARD 1990 IN c;
SELECT sum(total_bytes) < 2 * 1024 * 1024 AS cache_bounded
  FROM pg_backend_memory_contexts
 WHERE name IN ('qstash cache', 'qstash cache entry', 'qstash response body', 'qstash cached rows');
COMMIT;
RESET qstash.cache_max_bytes;
\! $QSTASH_MOCK_CTL count

-- 6. a time bound with the constant on either side sends the same bound
-- (each constant is the time of an entry: strict and not differ by one),
-- and gives the rows a local filter gives (OFFSET 0 keeps the qual local)
\! $QSTASH_MOCK_CTL reset
CREATE TABLE bounds (op text, pushed bigint, local bigint);
DO $$
DECLARE
  ops text[] := ARRAY['<', '<=', '>', '>='];
  op text;
  pushed bigint;
  kept bigint;
BEGIN
  FOREACH op IN ARRAY ops LOOP
    EXECUTE format('SELECT count(*) FROM r.logs WHERE %L::timestamptz %s time',
                   '2026-11-18 11:00:59.941+00', op) INTO pushed;
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM r.logs OFFSET 0) l WHERE %L::timestamptz %s time',
                   '2026-11-18 11:00:59.941+00', op) INTO kept;
    INSERT INTO bounds VALUES ('constant ' || op || ' time', pushed, kept);
    EXECUTE format('SELECT count(*) FROM r.dlq WHERE %L::timestamptz %s created_at',
                   '2026-11-10 03:59:59.8+00', op) INTO pushed;
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM r.dlq OFFSET 0) d WHERE %L::timestamptz %s created_at',
                   '2026-11-10 03:59:59.8+00', op) INTO kept;
    INSERT INTO bounds VALUES ('constant ' || op || ' created_at', pushed, kept);
  END LOOP;
END $$;
SELECT op, pushed, local, pushed = local AS same FROM bounds ORDER BY op;
-- ... a column that rounds the API's milliseconds (timestamptz(0)) keeps
-- its bounds local: 11:00:59.941 reads as 11:01:00, which is >= 11:00:59.95
CREATE FOREIGN TABLE logs_s (time timestamptz(0), message_id text)
  SERVER upstash OPTIONS (endpoint 'logs');
SELECT count(*) AS rounded_kept FROM logs_s WHERE time >= '2026-11-18 11:00:59.95+00';
SELECT count(*) AS rounded_local FROM (SELECT * FROM logs_s OFFSET 0) l WHERE time >= '2026-11-18 11:00:59.95+00';
\! $QSTASH_MOCK_CTL log | grep -E 'fromDate|toDate' | grep -v cursor=
\! $QSTASH_MOCK_CTL reset

SET client_min_messages = warning;
DROP SCHEMA r CASCADE;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
