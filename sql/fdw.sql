--
-- fdw: foreign tables, IMPORT FOREIGN SCHEMA, pushdown, one request per
-- statement
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup

-- IMPORT FOREIGN SCHEMA: every endpoint, or LIMIT TO / EXCEPT
CREATE SCHEMA qstash_remote;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO qstash_remote;
SELECT c.relname, ft.ftoptions,
       string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) AS columns
  FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'qstash_remote'::regnamespace AND c.relname <> 'users'
 GROUP BY c.relname, ft.ftoptions ORDER BY c.relname;
SELECT count(*) AS users_columns FROM pg_attribute
 WHERE attrelid = 'qstash_remote.users'::regclass AND attnum > 0;
-- the imported users table has exactly the columns of qstash_users()
SELECT (SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
          FROM pg_attribute WHERE attrelid = 'qstash_remote.users'::regclass AND attnum > 0) =
       (SELECT string_agg(n || ':' || format_type(t, NULL), ',' ORDER BY o)
          FROM pg_proc p, unnest(p.proargnames, p.proallargtypes, p.proargmodes) WITH ORDINALITY a(n, t, m, o)
         WHERE p.oid = 'qstash_users(name)'::regprocedure AND m = 't') AS same_as_function;
CREATE SCHEMA only_some;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (users, ipv4, nonexistent) FROM SERVER upstash INTO only_some;
SELECT relname FROM pg_class WHERE relnamespace = 'only_some'::regnamespace ORDER BY 1;
CREATE SCHEMA all_but;
IMPORT FOREIGN SCHEMA qstash EXCEPT (stats) FROM SERVER upstash INTO all_but;
SELECT relname FROM pg_class WHERE relnamespace = 'all_but'::regnamespace ORDER BY 1;
IMPORT FOREIGN SCHEMA public FROM SERVER upstash INTO all_but;  -- ERROR
\! $QSTASH_MOCK_CTL count

SELECT region, type, max_queues, extra FROM qstash_remote.users ORDER BY region;
SELECT * FROM qstash_remote.ipv4 ORDER BY cidr;

-- a table by hand: any subset of the columns, in any order
CREATE FOREIGN TABLE my_instances (max_queues bigint, region text, id uuid)
  SERVER upstash OPTIONS (endpoint 'users');
SELECT * FROM my_instances ORDER BY region;
CREATE FOREIGN TABLE users (id uuid, plan text) SERVER upstash;  -- endpoint defaults to the name
EXPLAIN (COSTS OFF) SELECT * FROM users;  -- ERROR: checked when planned, before any request
SELECT * FROM users;  -- ERROR
DROP FOREIGN TABLE users;

-- plain EXPLAIN makes no request
\! $QSTASH_MOCK_CTL reset
EXPLAIN (COSTS OFF) SELECT * FROM qstash_remote.users;
EXPLAIN (COSTS OFF) SELECT * FROM qstash_remote.stats WHERE period = '7d';
\! $QSTASH_MOCK_CTL count

-- pushdown: shown by EXPLAIN VERBOSE, seen in the mock's log
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT metric, value FROM qstash_remote.stats
   WHERE period = '7d' AND qstash_id = '99a4c327-31f0-490f-a594-043ade84085a';
SELECT count(*), min(period), count(DISTINCT qstash_id) FROM qstash_remote.stats
 WHERE period = '7d' AND qstash_id = '99a4c327-31f0-490f-a594-043ade84085a';
-- no period qual: the default period, reported by the column
SELECT period, count(*) FROM qstash_remote.stats_summary GROUP BY period;
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT qstash_id, dlq_message_count FROM qstash_remote.stats_summary
   WHERE period IN ('1h', '30d') AND qstash_id = '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10';
SELECT period, dlq_message_count FROM qstash_remote.stats_summary
 WHERE period IN ('1h', '30d') AND qstash_id = '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10' ORDER BY period;
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT region FROM qstash_remote.users WHERE id = '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10';
SELECT region FROM qstash_remote.users WHERE id = '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10';
SELECT region FROM qstash_remote.users WHERE id = '00000000-0000-0000-0000-000000000000';
-- a $1 parameter
PREPARE one_user(uuid) AS SELECT region FROM qstash_remote.users WHERE id = $1;
SET plan_cache_mode = force_custom_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE one_user('99a4c327-31f0-490f-a594-043ade84085a');
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE one_user('99a4c327-31f0-490f-a594-043ade84085a');
EXECUTE one_user('3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10');
RESET plan_cache_mode;
EXECUTE one_user('99a4c327-31f0-490f-a594-043ade84085a');
-- an absurdly long pushed value is refused before any request
CREATE FOREIGN TABLE users_by_text (id text, region text) SERVER upstash OPTIONS (endpoint 'users');
SELECT count(*) FROM users_by_text WHERE id = repeat('x', 9000);  -- ERROR
DROP FOREIGN TABLE users_by_text;
-- a qual that is not pushed is still applied
SELECT region FROM qstash_remote.users WHERE region LIKE 'eu%';
-- an invalid period is an error, as in the functions
SELECT count(*) FROM qstash_remote.stats WHERE period = '2h';  -- ERROR
-- period = NULL matches nothing and fetches nothing
SELECT count(*) FROM qstash_remote.stats WHERE period = NULL::text;
\! $QSTASH_MOCK_CTL log

-- one statement fetches each response once
\! $QSTASH_MOCK_CTL reset
CREATE TEMP TABLE billing AS
  SELECT g AS n, CASE WHEN g % 2 = 0 THEN 'eu-central-1' ELSE 'us-east-1' END AS region
    FROM generate_series(1, 10000) g;
ANALYZE billing;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SET enable_memoize = off;
-- (BUFFERS OFF: PostgreSQL 18 shows buffer counts by default, and they vary)
EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT count(*) FROM billing b JOIN qstash_remote.users u ON u.region = b.region;
SELECT count(*) FROM billing b JOIN qstash_remote.users u ON u.region = b.region;
-- the foreign scan as the inner side: 10000 rescans replay the stored rows
EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT count(*) FROM billing b,
         LATERAL (SELECT * FROM qstash_remote.users u WHERE u.region = b.region OFFSET 0) u;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
RESET enable_memoize;
\! $QSTASH_MOCK_CTL count
-- a self-join
SELECT a.region, b.region FROM qstash_remote.users a JOIN qstash_remote.users b ON a.id <> b.id ORDER BY 1;
\! $QSTASH_MOCK_CTL count
-- a function and a foreign table over the same data
SELECT f.region, t.max_queues FROM qstash_users() f JOIN qstash_remote.users t USING (id) ORDER BY 1;
\! $QSTASH_MOCK_CTL count
-- a CTE used twice, and stats with its summary (same response)
WITH u AS MATERIALIZED (SELECT * FROM qstash_remote.users)
SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM qstash_remote.users) AS n;
SELECT count(*) FROM qstash_remote.stats s JOIN qstash_remote.stats_summary m USING (qstash_id, period);
\! $QSTASH_MOCK_CTL count
-- the next statement fetches again
SELECT count(*) FROM qstash_remote.users;
\! $QSTASH_MOCK_CTL count

-- EXPLAIN ANALYZE counts requests and reuse
EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM qstash_remote.users a, qstash_remote.users b;

-- a role needs the table privilege and its own (or a PUBLIC) mapping
CREATE ROLE regress_qstash_ft;
GRANT USAGE ON SCHEMA qstash_remote TO regress_qstash_ft;
GRANT SELECT ON qstash_remote.users TO regress_qstash_ft;
SET ROLE regress_qstash_ft;
SELECT count(*) FROM qstash_remote.users;  -- ERROR
SELECT count(*) FROM qstash_remote.ipv4;  -- ERROR
RESET ROLE;

SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
DROP SCHEMA qstash_remote, only_some, all_but CASCADE;
DROP OWNED BY regress_qstash_ft;
DROP ROLE regress_qstash_ft;
RESET client_min_messages;
