--
-- hardening: large responses under a tiny work_mem, secrets in every form
-- they can be echoed in, hostile header values, strict JSON, which
-- statements share a response, what the cache keeps, and the edges of
-- the size cap and of the time bounds
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SCHEMA r;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO r;
SET qstash.max_retries = 0;

-- SQLSTATE, message, detail and hint of an error, and whether any of the
-- given secrets appears anywhere in them
CREATE FUNCTION show_error(query text, VARIADIC secrets text[] DEFAULT NULL) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hnt text; ctx text;
BEGIN
  EXECUTE query;
  RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
  RETURN NEXT 'sqlstate: ' || st;
  RETURN NEXT 'message:  ' || msg;
  IF det <> '' THEN RETURN NEXT 'detail:   ' || det; END IF;
  IF hnt <> '' THEN RETURN NEXT 'hint:     ' || hnt; END IF;
  IF secrets IS NOT NULL THEN
    RETURN NEXT 'secret shown: ' || EXISTS (
      SELECT FROM unnest(secrets) s WHERE strpos(concat_ws(' ', msg, det, hnt, ctx), s) > 0);
  END IF;
END $$;

-- 1. large rows: 100 log entries of 60 kB and 100 instances of 50 kB,
-- through the functions and the foreign tables, at the default work_mem
-- and at 64 kB (the foreign scan's rows spill to disk)
\! $QSTASH_MOCK_CTL generate /v2/events logs 100 60000
\! $QSTASH_MOCK_CTL generate /v2/qstash/users users 100 50000
CREATE TEMP TABLE big_results (setting text, source text, rows bigint, bytes bigint, ids bigint);
CREATE FUNCTION big_run(setting text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO big_results
    SELECT setting, 'qstash_logs()', count(*), sum(length(body)), count(DISTINCT message_id) FROM qstash_logs()
    UNION ALL
    SELECT setting, 'r.logs', count(*), sum(length(body)), count(DISTINCT message_id) FROM r.logs
    UNION ALL
    SELECT setting, 'qstash_users()', count(*), sum(length(extra->>'notes')), count(DISTINCT id) FROM qstash_users()
    UNION ALL
    SELECT setting, 'r.users', count(*), sum(length(extra->>'notes')), count(DISTINCT id) FROM r.users;
END $$;
SELECT big_run('default');
SET work_mem = 64;
SELECT big_run('work_mem 64kB');
-- a rescan replays the spilled rows: a nested loop over 100 x 100 rows
SELECT count(*) FROM r.logs a JOIN r.logs b ON a.message_id = b.message_id;
RESET work_mem;
SELECT * FROM big_results ORDER BY source, setting;
\! $QSTASH_MOCK_CTL reset
-- the stats of both instances over 30 days, spilled
SET work_mem = 64;
SELECT count(*), count(DISTINCT qstash_id), count(DISTINCT ts) FROM r.stats WHERE period = '30d';
SELECT count(*), sum(a.value) FROM r.stats a JOIN r.stats b USING (qstash_id, metric, series, ts)
 WHERE a.period = '30d' AND b.period = '30d';
RESET work_mem;

-- 2. secrets are masked in every form the API could echo them back: the
-- raw key, the Basic credentials as sent (base64 of email:key), the whole
-- Authorization header, the token, and secrets of any length
SELECT encode(convert_to(:'mock_email' || ':' || :'mock_key', 'UTF8'), 'base64') AS basic \gset
\setenv basic :basic
\! $QSTASH_MOCK_CTL queue --status 401 --body "{\"error\":\"bad header Authorization: Basic $basic\"}"
SELECT * FROM show_error('SELECT * FROM qstash_users()', :'basic', :'mock_key');
\! $QSTASH_MOCK_CTL queue --status 500 --body "received Authorization: Basic $basic for $QSTASH_MOCK_EMAIL"
SELECT * FROM show_error('SELECT * FROM qstash_users()', :'basic', :'mock_email');
\! $QSTASH_MOCK_CTL queue --path /v2/queues --status 403 --body "{\"message\":\"token $QSTASH_MOCK_TOKEN (Authorization: Bearer $QSTASH_MOCK_TOKEN) may not\"}"
SELECT * FROM show_error('SELECT * FROM qstash_queues()', :'mock_token');
-- a one-character key, a two-character email: still masked
CREATE SERVER tiny FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER tiny OPTIONS (email 'ab', api_key 'Z');
\! $QSTASH_MOCK_CTL queue --status 401 --body '{"error":"user ab with key Z (YWI6Wg==) is unknown"}'
SELECT * FROM show_error('SELECT * FROM qstash_users(''tiny'')', 'Z', 'ab', 'YWI6Wg==');
-- the same secrets in a rate-limit header value
\! $QSTASH_MOCK_CTL queue --status 429 --header "Burst-RateLimit-Limit: $QSTASH_MOCK_API_KEY" --header "Burst-RateLimit-Remaining: $basic"
SELECT * FROM show_error('SELECT * FROM qstash_users()', :'basic', :'mock_key');

-- 3. rate-limit header values go into DETAIL as printable ASCII: an
-- escape sequence and a byte that is not UTF-8 (a LATIN1 client still
-- gets QS001, not a conversion error)
\! $QSTASH_MOCK_CTL queue --status 429 --header "Burst-RateLimit-Limit: $(printf '\033[31m100')" --header "Burst-RateLimit-Remaining: $(printf 'caf\303\251')" --header "Burst-RateLimit-Reset: $(printf 'soon\033[0m')"
SELECT * FROM show_error('SELECT * FROM qstash_users()');
SET client_encoding = 'LATIN1';
\! $QSTASH_MOCK_CTL queue --status 429 --header "Burst-RateLimit-Limit: $(printf 'caf\303\251')"
SELECT * FROM show_error('SELECT * FROM qstash_users()');
RESET client_encoding;

-- 4. strict JSON: NaN and Infinity, duplicate keys (also spelled with an
-- escape), lone surrogates are refused (QS041); a pair is fine
\! $QSTASH_MOCK_CTL queue --body '[{"reserved_price": NaN}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"reserved_price": -Infinity}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"region": "eu-west-1", "budget": 1, "region": "us-east-1"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"enterprise": {"a": 1, "\u0061": 2}}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"region": "a"}, {"region": "b", "region": "c"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"state": "\ud800"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"state": "x\udc00"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"state": "\ud800\u0041"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"state": "\ud83d\ude00", "region": "NaN", "a": {"x": 1}, "b": {"x": 2}}]'
SELECT state, region, extra FROM qstash_users();
-- a response of the wrong shape is an error, never an all-NULL row
\! $QSTASH_MOCK_CTL queue --body '{"error": "an object where a list belongs"}'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --path /v2/schedules --body '{"scheduleId": "scd_1"}'
SELECT * FROM show_error('SELECT * FROM qstash_schedules()');
\! $QSTASH_MOCK_CTL queue --path /v2/globalParallelism --body '[{"parallelismMax": 1}]'
SELECT * FROM show_error('SELECT * FROM qstash_global_parallelism()');
\! $QSTASH_MOCK_CTL queue --path /v2/schedules/scd_1 --body '[{"scheduleId": "scd_1"}]'
SELECT * FROM show_error('SELECT * FROM r.schedules WHERE schedule_id = ''scd_1''');
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/stats/ --body '[1, 2]'
SELECT * FROM show_error('SELECT * FROM qstash_stats_summary(''1h'', ''99a4c327-31f0-490f-a594-043ade84085a'')');
\! $QSTASH_MOCK_CTL reset

-- 5. which statements share a response: PostgreSQL's snapshot rule
-- ... a polling loop: each statement takes a new snapshot, sees new data
DO $$
DECLARE n bigint;
BEGIN
  FOR i IN 1..3 LOOP
    SELECT count(*) INTO n FROM qstash_users();
    RAISE NOTICE 'iteration %: % instances', i, n;
    PERFORM count(*) FROM r.users;
  END LOOP;
END $$;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
-- ... between them, what the API returns changes and is seen
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"region": "first"}]'
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '[{"region": "second"}]'
DO $$
DECLARE r text;
BEGIN
  FOR i IN 1..2 LOOP
    SELECT region INTO r FROM qstash_users();
    RAISE NOTICE 'poll %: %', i, r;
  END LOOP;
END $$;
\! $QSTASH_MOCK_CTL reset
-- ... two statements of one READ COMMITTED transaction: two responses
BEGIN;
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM r.users;
COMMIT;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
-- ... REPEATABLE READ: one snapshot, one response for the transaction
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM r.users;
COMMIT;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
-- ... one statement: a CTE twice, a self-join, a function and a table
WITH u AS NOT MATERIALIZED (SELECT * FROM qstash_users())
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM u),
       (SELECT count(*) FROM r.users a JOIN r.users b USING (id)),
       (SELECT count(*) FROM qstash_users() f JOIN r.users t USING (id));
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
-- ... a STABLE function called per row shares the caller's snapshot: one
-- response; a VOLATILE one takes a snapshot per call (as it would see new
-- rows): one response per call
CREATE FUNCTION instances_stable() RETURNS bigint STABLE LANGUAGE plpgsql
  AS $$ BEGIN RETURN (SELECT count(*) FROM qstash_users()); END $$;
CREATE FUNCTION instances_volatile() RETURNS bigint VOLATILE LANGUAGE plpgsql
  AS $$ BEGIN RETURN (SELECT count(*) FROM qstash_users()); END $$;
SELECT sum(instances_stable()) FROM generate_series(1, 5);
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
SELECT sum(instances_volatile()) FROM generate_series(1, 5);
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset

-- 6. the cache (its context and each entry's: body and rows): freed with
-- its statement at cache_ttl = 0; with a TTL,
-- bounded, and a changed mapping is never answered from it
\! $QSTASH_MOCK_CTL generate /v2/events logs 100 60000
SELECT count(*) FROM qstash_logs();
SELECT coalesce(sum(total_bytes), 0) < 65536 AS cache_freed
  FROM pg_backend_memory_contexts
 WHERE name IN ('qstash cache', 'qstash cache entry', 'qstash response body', 'qstash cached rows');
SET qstash.cache_ttl = 60;
SELECT count(*) FROM qstash_logs();
SELECT sum(total_bytes) > 8000000 AS cache_kept
  FROM pg_backend_memory_contexts
 WHERE name IN ('qstash cache', 'qstash cache entry', 'qstash response body', 'qstash cached rows');
SET qstash.cache_max_bytes = '64kB';
SELECT count(*) FROM qstash_users();
SELECT sum(total_bytes) < 131072 AS cache_bounded
  FROM pg_backend_memory_contexts
 WHERE name IN ('qstash cache', 'qstash cache entry', 'qstash response body', 'qstash cached rows');
RESET qstash.cache_max_bytes;
SELECT qstash_cache_reset();
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET api_key 'revoked-key-0123456789');
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()', 'revoked-key-0123456789');
\! $QSTASH_MOCK_CTL count
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET api_key :'mock_key');
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
RESET qstash.cache_ttl;
SELECT qstash_cache_reset();
\! $QSTASH_MOCK_CTL reset

-- 7. a certificate that fails verification is not retried
\getenv tls_url QSTASH_MOCK_TLS_URL
CREATE SERVER tls FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'tls_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls OPTIONS (email :'mock_email', api_key :'mock_key');
SET qstash.max_retries = 3;
\! $QSTASH_MOCK_CTL tls
SELECT * FROM show_error('SELECT * FROM qstash_users(''tls'')');
\! $QSTASH_MOCK_CTL tls
-- ... while a 503 is (the retry count is not simply zero)
\! $QSTASH_MOCK_CTL queue --status 503 --body '{}'
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset

-- 8. rate limits whose reset is computed from the clock: a daily 429
-- that resets in 200 ms is still never retried, where a burst one is
\! $QSTASH_MOCK_CTL queue --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Remaining: 0' --reset-in-ms 200 --reset-header RateLimit-Reset --times 4
SELECT * FROM show_error('SELECT * FROM qstash_users()') LIMIT 2;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 429 --header 'x-ratelimit-limit-requests: 100' --reset-in-ms 200 --reset-header x-ratelimit-reset-requests --times 4
SELECT * FROM show_error('SELECT * FROM qstash_users()') LIMIT 2;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 429 --header 'Burst-RateLimit-Limit: 100' --reset-in-ms 200
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
SET qstash.max_retries = 0;

-- 9. the size cap: a body of exactly qstash.max_response_bytes is read,
-- one byte more is refused
SET qstash.max_response_bytes = 1024;
\! $QSTASH_MOCK_CTL queue --body '[]' --pad-to 1024
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --body '[]' --pad-to 1025
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()') LIMIT 2;
-- ... and so when the body comes chunked, with no Content-Length to check
-- before reading
\! $QSTASH_MOCK_CTL queue --body '[]' --pad-to 1024 --chunked
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --body '[]' --pad-to 1025 --chunked
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()') LIMIT 2;
RESET qstash.max_response_bytes;
\! $QSTASH_MOCK_CTL reset

-- 10. a time bound written constant-first is the same bound: 60 entries
-- from 11:00 on, in the request as fromDate
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM r.logs WHERE '2026-11-18 11:00+00' <= time;
SELECT count(*) FROM r.logs WHERE '2026-11-18 11:00+00' <= time;
SELECT count(*) FROM r.logs WHERE '2026-11-18 11:00+00' > time AND '2026-11-18 10:00+00' < time;
\! $QSTASH_MOCK_CTL log

-- 11. last_plan_upgrade_time 0 (the spec's own example) is NULL
\! $QSTASH_MOCK_CTL queue --body '[{"creation_time": 1760422513, "last_plan_upgrade_time": 0, "deletion_time": 0}]'
SELECT creation_time, last_plan_upgrade_time, deletion_time FROM qstash_users();

-- 12. what an adversarial review found, each a regression test
-- ... a JSON string where a list belongs aborted the backend (json-c
-- asserts): now QS042 on every list endpoint, function or table
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body '"abc"'
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()') LIMIT 3;
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/ipv4 --body '"abc"'
SELECT * FROM show_error('SELECT count(*) FROM qstash_ipv4()') LIMIT 3;
\! $QSTASH_MOCK_CTL queue --path /v2/schedules --body '"abc"'
SELECT * FROM show_error('SELECT count(*) FROM qstash_schedules()') LIMIT 3;
\! $QSTASH_MOCK_CTL queue --path /v2/queues --body '"abc"'
SELECT * FROM show_error('SELECT count(*) FROM r.queues') LIMIT 3;
\! $QSTASH_MOCK_CTL queue --path /v2/topics --body '42'
SELECT * FROM show_error('SELECT count(*) FROM r.url_groups') LIMIT 3;
\! $QSTASH_MOCK_CTL queue --path /v2/flowControl --body 'null'
SELECT * FROM show_error('SELECT count(*) FROM qstash_flow_control()') LIMIT 3;
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": "abc"}'
SELECT * FROM show_error('SELECT count(*) FROM r.logs') LIMIT 3;
-- ... valid JSON scalars are the wrong shape, not truncated JSON; an
-- empty body is an empty document
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body 'true'
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --body ''
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()');
-- ... UTF-8 that json-c lets through (overlong, surrogate, beyond
-- U+10FFFF) is refused before it reaches jsonb, text[] or a table
\! $QSTASH_MOCK_CTL queue --path /v2/events --body-b64 eyJldmVudHMiOlt7ImxhYmVscyI6WyLAryJdfV19
SELECT * FROM show_error('SELECT labels FROM qstash_logs()');
\! $QSTASH_MOCK_CTL queue --body-b64 W3sicmVnaW9uIjoi7aCAIn1d
SELECT * FROM show_error('SELECT region FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body-b64 W3siZW50ZXJwcmlzZSI6eyL0kICAIjoxfX1d
SELECT * FROM show_error('SELECT enterprise FROM qstash_users()');
-- ... a NUL in a key would cut it short (and dodge the duplicate check)
\! $QSTASH_MOCK_CTL queue --body '[{"region": "us", "region\u0000x": "eu"}]'
SELECT * FROM show_error('SELECT region FROM qstash_users()');
-- ... a NUL at the end of a value, as anywhere in it
\! $QSTASH_MOCK_CTL queue --body '[{"region": "eu\u0000"}]'
SELECT * FROM show_error('SELECT region FROM qstash_users()');
-- ... nesting deeper than 64 levels is refused before json-c sees it; 64
-- levels are read
\! $QSTASH_MOCK_CTL queue --body "$(python3 -c 'print("[{\"region\": \"eu\", \"x\": " + "[" * 62 + "]" * 62 + "}]")')"
SELECT region FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --body "$(python3 -c 'print("[{\"region\": \"eu\", \"x\": " + "[" * 63 + "]" * 63 + "}]")')"
SELECT * FROM show_error('SELECT region FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body "$(python3 -c 'print("[" * 5000 + "]" * 5000)')"
SELECT * FROM show_error('SELECT region FROM qstash_users()');
-- ... more encodings of the secrets: base64 without padding, of the key
-- alone, and percent-encoded
SELECT rtrim(:'basic', '=') AS basic_unpadded,
       encode(convert_to(:'mock_key', 'UTF8'), 'base64') AS key_b64 \gset
\setenv basic_unpadded :basic_unpadded
\setenv key_b64 :key_b64
\! $QSTASH_MOCK_CTL queue --status 400 --body "got $basic_unpadded and $key_b64 and $(echo $QSTASH_MOCK_API_KEY | sed 's/-/%2D/')"
SELECT * FROM show_error('SELECT * FROM qstash_users()', :'basic_unpadded', :'key_b64', :'mock_key');
-- ... a secret inside another (the token inside the key): the longer is
-- masked first, so no part of it stays
CREATE SERVER nested FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER nested
  OPTIONS (email 'nested@example.com', api_key 'zzTOKENVALUEzz', token 'TOKENVALUE');
\! $QSTASH_MOCK_CTL queue --status 401 --body '{"error":"key zzTOKENVALUEzz is unknown"}'
SELECT * FROM show_error('SELECT * FROM qstash_users(''nested'')', 'zz', 'TOKENVALUE');
DROP SERVER nested CASCADE;
-- ... and the token's, padded or not, echoed by the QStash API
SELECT encode(convert_to(:'mock_token', 'UTF8'), 'base64') AS token_b64,
       rtrim(encode(convert_to(:'mock_token', 'UTF8'), 'base64'), '=') AS token_b64_unpadded \gset
\setenv token_b64 :token_b64
\setenv token_b64_unpadded :token_b64_unpadded
\! $QSTASH_MOCK_CTL queue --path /v2/queues --status 403 --body "bearer $token_b64 / $token_b64_unpadded refused"
SELECT * FROM show_error('SELECT * FROM qstash_queues()', :'token_b64', :'token_b64_unpadded');
-- ... a text[] declared text reads text[]'s own text form
CREATE FOREIGN TABLE summary_days (days text, qstash_id uuid) SERVER upstash OPTIONS (endpoint 'stats_summary');
SELECT left(days, 30) AS days FROM summary_days WHERE qstash_id = '99a4c327-31f0-490f-a594-043ade84085a';
-- ... a foreign scan converts only the columns the query reads: a value
-- that a column not read could not hold fails nothing
CREATE FOREIGN TABLE narrow (customer_id char(2), region text, budget int)
  SERVER upstash OPTIONS (endpoint 'users');
SELECT region FROM narrow ORDER BY region;
SELECT count(*) FROM narrow;
SELECT region FROM narrow WHERE budget > 100;
SELECT customer_id FROM narrow;  -- ERROR
SELECT n.* IS NOT NULL AS whole_row FROM narrow n;  -- ERROR
-- ... option values: digits only; a huge value is cut in messages
CREATE SERVER s_ws FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms ' 5');  -- ERROR
CREATE SERVER s_ws FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms '+10');  -- ERROR
SELECT * FROM show_error($$SELECT * FROM qstash_stats(repeat('x', 100000))$$);
\! $QSTASH_MOCK_CTL reset

DROP FUNCTION show_error(text, text[]);
SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
