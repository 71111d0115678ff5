--
-- response: the life of a response (src/response.c), and what a response
-- kept for reuse serves.  A later mapping of the same response with the
-- same columns, types and settings takes the rows mapped the first time
-- (no parse); any other mapping parses the kept body again; a body that
-- does not parse is never kept; a listing is parsed one element at a time.
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
CREATE SCHEMA r;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO r;
SET qstash.cache_ttl = 60;

-- 1. the same call twice: one request, the same rows
\! $QSTASH_MOCK_CTL reset
SELECT id, region, max_queues, creation_time FROM qstash_users() ORDER BY region;
SET jit = off;  -- its own DEBUG lines
SET client_min_messages = debug1;
SELECT id, region, max_queues, creation_time FROM qstash_users() ORDER BY region;
RESET client_min_messages;
RESET jit;
\! $QSTASH_MOCK_CTL count

-- 2. other mappings of the kept response: a narrow scan, the function,
-- other types; still one request, each with its own conversion
CREATE FOREIGN TABLE users_local (id uuid, creation_time timestamp,
                                  max_queues numeric)
  SERVER upstash OPTIONS (endpoint 'users');
CREATE FOREIGN TABLE users_text (creation_time text)
  SERVER upstash OPTIONS (endpoint 'users');
SELECT region FROM r.users ORDER BY 1;
SELECT count(*), sum(max_queues) FROM qstash_users();
SET TimeZone = 'UTC';
SELECT creation_time, max_queues FROM users_local ORDER BY 1;
-- the rows depend on TimeZone: mapped again, not reused
SET TimeZone = 'Asia/Tokyo';
SELECT creation_time, max_queues FROM users_local ORDER BY 1;
SELECT creation_time FROM users_text ORDER BY 1;
RESET TimeZone;
\! $QSTASH_MOCK_CTL count

-- 3. a domain's constraints can change: its rows are never reused
CREATE DOMAIN small_queues AS bigint;
CREATE FOREIGN TABLE users_dom (region text, max_queues small_queues)
  SERVER upstash OPTIONS (endpoint 'users');
SELECT region, max_queues FROM users_dom ORDER BY 1;
ALTER DOMAIN small_queues ADD CONSTRAINT under_50 CHECK (VALUE < 50) NOT VALID;
SELECT region, max_queues FROM users_dom ORDER BY 1;
\! $QSTASH_MOCK_CTL count

-- 3b. a setting changed while a scan is open: the responses the scan
-- reads after the SET are mapped with the new setting, not taken from the
-- rows kept under the old one (stats: one response per instance)
CREATE FOREIGN TABLE stats_text (qstash_id uuid, metric text, ts text)
  SERVER upstash OPTIONS (endpoint 'stats');
SET TimeZone = 'UTC';
-- (reading the columns the cursor below reads: the same mapping, whose
-- rows are kept, under UTC)
SELECT count(DISTINCT qstash_id), min(ts) FROM stats_text WHERE metric = 'daily_used';
\! $QSTASH_MOCK_CTL reset
BEGIN;
DECLARE c CURSOR FOR SELECT qstash_id, ts FROM stats_text WHERE metric = 'daily_used';
FETCH 1 FROM c;
SET TimeZone = 'Asia/Tokyo';
MOVE FORWARD 59 IN c;
FETCH 1 FROM c;
COMMIT;
RESET TimeZone;
-- ... bytea_output too, for a body declared text (the message log: pages)
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE FOREIGN TABLE logs_body (message_id text, body text)
  SERVER upstash OPTIONS (endpoint 'logs');
SELECT count(DISTINCT message_id), max(body) FROM logs_body;
\! $QSTASH_MOCK_CTL reset
BEGIN;
DECLARE c CURSOR FOR SELECT message_id, body FROM logs_body;
FETCH 1 FROM c;
SET bytea_output = 'escape';
MOVE FORWARD 99 IN c;
FETCH 1 FROM c;
COMMIT;
RESET bytea_output;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL count

-- 3c. the rows of one column type are not served for another: a
-- timestamptz(0) rounds the points' fractions, a timestamptz keeps them
CREATE FOREIGN TABLE stats_s (qstash_id uuid, metric text, ts timestamptz(0))
  SERVER upstash OPTIONS (endpoint 'stats');
CREATE FOREIGN TABLE stats_us (qstash_id uuid, metric text, ts timestamptz)
  SERVER upstash OPTIONS (endpoint 'stats');
SELECT count(*) FILTER (WHERE ts <> date_trunc('second', ts)) AS fractional FROM stats_s
 WHERE qstash_id = '99a4c327-31f0-490f-a594-043ade84085a';
SELECT count(*) FILTER (WHERE ts <> date_trunc('second', ts)) AS fractional FROM stats_us
 WHERE qstash_id = '99a4c327-31f0-490f-a594-043ade84085a';

-- 3d. qstash.cache_max_bytes bounds what is kept: one stats response with
-- its rows (about 160 kB) fits in 250 kB, two do not, and the older goes
SELECT qstash_cache_reset();
SET qstash.cache_max_bytes = '250kB';
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a');
SELECT count(*) FROM qstash_stats('1h', '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10');
SELECT count(*) FROM qstash_stats('1h', '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10');
SELECT count(*) FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a');
\! $QSTASH_MOCK_CTL count
RESET qstash.cache_max_bytes;

-- 4. a listing whose element 2 does not parse: QS041 with the byte in the
-- document, and the body is not kept (the next call fetches again)
SELECT qstash_cache_reset();
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a", "region": "eu-central-1"}, {"id": "x", "region": }]'
\set VERBOSITY default
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
-- a missing element, white space around the array, an empty array
SET qstash.cache_ttl = 0;
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a"},]'
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body ' [ {"id": "99a4c327-31f0-490f-a594-043ade84085a", "region": "eu-central-1"} ] '
SELECT id, region FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[ ]'
SELECT count(*) FROM qstash_users();
-- an element that is not an object is the wrong shape (QS042), as before
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a"}, 7]'
SELECT count(*) FROM qstash_users();
-- two documents, or data after the array: not one JSON value
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[] []'
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a"}] x'
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count

-- 5. a listing of 5 000 instances: every row, each element parsed alone;
-- the function's second call takes the kept rows
SET qstash.cache_ttl = 60;
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL generate /v2/qstash/users users 5000 0
SELECT count(*), count(DISTINCT id), min(region), max(max_queues) FROM qstash_users();
SELECT count(*), count(DISTINCT id), min(region), max(max_queues) FROM qstash_users();
SELECT count(*) FROM r.users WHERE region = 'eu-central-1';
\! $QSTASH_MOCK_CTL count
SELECT qstash_cache_reset();

-- 6. review findings.  A domain's CHECK that calls qstash functions (each
-- statement of it a new snapshot: the outer statement's response is
-- dropped from the cache) while the outer scan still reads that body
-- element by element: the body stays alive until the scan is done (a new
-- session: glibc unmaps a freed large body there, so a read after free
-- would crash)
\c -
SET qstash.cache_ttl = 0;
-- poke() sets a flag, which parallel mode forbids
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'off', false) AS parallel_mode;
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL generate /v2/qstash/users users 3000 300
-- (once, for the first row: a call per row would take minutes)
CREATE FUNCTION poke(t text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('test.poked', true) IS DISTINCT FROM 'yes' THEN
    PERFORM set_config('test.poked', 'yes', false);
    PERFORM 1 FROM qstash_users() LIMIT 1;
  END IF;
  RETURN true;
END $$;
CREATE DOMAIN poked AS text CHECK (poke(VALUE));
CREATE FOREIGN TABLE u_plain (id uuid, region text) SERVER upstash OPTIONS (endpoint 'users');
CREATE FOREIGN TABLE u_dom (id uuid, region poked) SERVER upstash OPTIONS (endpoint 'users');
SELECT (SELECT count(*) FROM u_plain), (SELECT count(region) FROM u_dom);
\! $QSTASH_MOCK_CTL count
-- rows whose input reads search_path (regclass) or whose text reads
-- bytea_output are mapped again when those change
SET qstash.cache_ttl = 60;
\! $QSTASH_MOCK_CTL reset
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE TABLE s1."eu-central-1" ();
CREATE TABLE s1."us-east-1" ();
CREATE TABLE s2."eu-central-1" ();
CREATE TABLE s2."us-east-1" ();
CREATE FOREIGN TABLE ft_rc (region regclass) SERVER upstash OPTIONS (endpoint 'users');
SET search_path = s1, public;
SELECT count(*) AS n, count(*) FILTER (WHERE c.relnamespace = 's1'::regnamespace) AS in_s1
  FROM ft_rc f JOIN pg_class c ON c.oid = f.region;
SET search_path = s2, public;
SELECT count(*) AS n, count(*) FILTER (WHERE c.relnamespace = 's1'::regnamespace) AS in_s1
  FROM ft_rc f JOIN pg_class c ON c.oid = f.region;
RESET search_path;
-- (the QStash API's token is set in 3b)
CREATE FOREIGN TABLE ft_logb (message_id text, body text) SERVER upstash OPTIONS (endpoint 'logs');
SET bytea_output = 'hex';
SELECT body FROM ft_logb WHERE message_id = 'msg_0000' ORDER BY 1 LIMIT 2;
SET bytea_output = 'escape';
SELECT body FROM ft_logb WHERE message_id = 'msg_0000' ORDER BY 1 LIMIT 2;
RESET bytea_output;
\! $QSTASH_MOCK_CTL count
-- an instances list that does not parse (read by qstash_stats) is not kept
SELECT qstash_cache_reset();
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a"}, {"id": tru}]'
SELECT count(*) FROM qstash_stats('1h');
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count

-- a huge integer (beyond bigint) reads as sent in text, json and extra
-- columns, not with the pre-pass's internal "e0" mark
SET qstash.cache_ttl = 0;
CREATE FOREIGN TABLE u_txt (id uuid, reserved_price text, enterprise json, extra json)
  SERVER upstash OPTIONS (endpoint 'users');
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a", "reserved_price": 123456789012345678901234567890, "enterprise": {"a": 99999999999999999999999, "b": 1.5e0, "c": 5e0}, "zz": -99999999999999999999}]'
SELECT reserved_price, enterprise, extra FROM u_txt;
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a", "reserved_price": 123456789012345678901234567890}]'
SELECT reserved_price::numeric = 123456789012345678901234567890 AS exact FROM qstash_users();

SET client_min_messages = warning;
DROP SCHEMA r, s1, s2 CASCADE;
DROP DOMAIN small_queues, poked CASCADE;
DROP FUNCTION poke(text);
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
