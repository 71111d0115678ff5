--
-- rest: the QStash REST API (logs, dlq, schedules, queues, url groups, flow
-- control, global parallelism): typed rows, cursor paging, pushdown, LIMIT,
-- qstash.max_pages, faults in the middle of a listing
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN

-- no token yet: a clear error before any request
SELECT count(*) FROM qstash_queues();
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SCHEMA r;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (logs, dlq, schedules, queues, url_groups, flow_control, global_parallelism)
  FROM SERVER upstash INTO r;
-- each foreign table has exactly the columns of its function (a composite
-- row type for logs and dlq, RETURNS TABLE for the others)
SELECT c.relname,
       (SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
          FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0) =
       COALESCE(
         (SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
            FROM pg_proc p
            JOIN pg_type t ON t.oid = p.prorettype
            JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0
           WHERE p.proname = 'qstash_' || c.relname),
         (SELECT string_agg(n || ':' || format_type(t, NULL), ',' ORDER BY o)
            FROM pg_proc p, unnest(p.proargnames, p.proallargtypes, p.proargmodes) WITH ORDINALITY a(n, t, m, o)
           WHERE p.proname = 'qstash_' || c.relname AND m = 't')) AS same_as_function
  FROM pg_class c WHERE c.relnamespace = 'r'::regnamespace ORDER BY 1;
\! $QSTASH_MOCK_CTL reset

-- logs: every page (250 entries, 100 per page: 3 requests), typed columns
SELECT count(*), count(DISTINCT message_id), min(time), max(time) FROM qstash_logs();
\! $QSTASH_MOCK_CTL log
SELECT time, message_id, state, url, topic_name, queue_name, schedule_id, body, body_text,
       response_status, response_body_text, response_headers, next_delivery_time, timeout, labels
  FROM qstash_logs(max_rows => 8);
-- the binary body (entry 7) is only in bytea
SELECT body, body_text IS NULL AS not_utf8 FROM r.logs WHERE message_id = 'msg_0001' AND state = 'DELIVERED';
\! $QSTASH_MOCK_CTL reset

-- function filters go into the query string
SELECT count(*) FROM qstash_logs(state => 'ERROR', url => 'https://api.example.com/a');
SELECT count(*) FROM qstash_logs(message_id => 'msg_0002');
SELECT count(*) FROM qstash_logs(topic_name => 'orders');
SELECT count(*) FROM qstash_logs(queue_name => 'emails', label => 'eu');
SELECT count(*) FROM qstash_logs(schedule_id => 'scd_daily');
SELECT count(*) FROM qstash_logs(from_time => '2026-11-18 11:00:00.5+00', to_time => '2026-11-18 11:30+00');
SELECT count(*) FROM qstash_logs(from_time => '2026-11-19', to_time => '2026-11-18');  -- empty range: no request
SELECT count(*) FROM qstash_logs(max_rows => 0);  -- ERROR
\echo :LAST_ERROR_SQLSTATE
\! $QSTASH_MOCK_CTL log

-- foreign table pushdown: EXPLAIN VERBOSE and the mock's log agree
\! $QSTASH_MOCK_CTL reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT message_id FROM r.logs
 WHERE state = 'FAILED' AND message_id = 'msg_0000' AND url = 'https://api.example.com/b'
   AND topic_name = 'orders' AND queue_name = 'emails' AND schedule_id = 'scd_daily'
   AND 'eu' = ANY (labels) AND time BETWEEN '2026-11-18 11:00:00.0005+00' AND '2026-11-18 12:00+00';
SELECT message_id FROM r.logs
 WHERE state = 'FAILED' AND message_id = 'msg_0000' AND url = 'https://api.example.com/b'
   AND topic_name = 'orders' AND queue_name = 'emails' AND schedule_id = 'scd_daily'
   AND 'eu' = ANY (labels) AND time BETWEEN '2026-11-18 11:00:00.0005+00' AND '2026-11-18 12:00+00';
SELECT count(*) FROM r.logs WHERE url = 'https://hooks.example.org/c' AND state = 'DELIVERED';
SELECT count(*) FROM r.logs WHERE time > '2026-11-18 11:58:59.999+00';  -- strict: fromDate + 1 ms
SELECT count(*) FROM r.logs WHERE time < '2026-11-18 07:52:00+00';
SELECT count(*) FROM r.logs WHERE label = 'eu';  -- pushed; the deprecated column itself is NULL
\! $QSTASH_MOCK_CTL log

-- bounds the API cannot take: before 1970 (no lower bound, or no rows), infinity
SELECT count(*) FROM r.logs WHERE time >= '1960-01-01+00';
SELECT count(*) FROM r.logs WHERE time <= '1969-12-31+00';
SELECT count(*) FROM r.logs WHERE time <= 'infinity' AND time > '-infinity';
SELECT count(*) FROM r.logs WHERE time >= 'infinity';
-- a timestamptz(0) column rounds the API's milliseconds: its range is not pushed
CREATE FOREIGN TABLE logs_seconds (time timestamptz(0), state text) SERVER upstash OPTIONS (endpoint 'logs');
SELECT count(*) FROM logs_seconds WHERE time <= '2026-11-18 07:51:00+00';
\! $QSTASH_MOCK_CTL log

-- stable expressions and parameters are evaluated once, then pushed
\! $QSTASH_MOCK_CTL reset
PREPARE failed_since(timestamptz) AS
  SELECT url, count(*) FROM r.logs WHERE state = 'FAILED' AND time >= $1 GROUP BY url ORDER BY url;
EXECUTE failed_since('2026-11-18 11:00+00');
-- (EXPLAIN shows the bound it computes: the same as now() - 1 day, in ms)
CREATE FUNCTION explain_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP RETURN NEXT l; END LOOP;
END $$;
SELECT replace(l, ceil(extract(epoch FROM now() - interval '1 day') * 1000)::bigint::text,
               '<now() - 1 day in ms>') AS "QUERY PLAN"
  FROM explain_lines($$SELECT count(*) FROM r.logs WHERE time >= now() - interval '1 day'$$) l;
\! $QSTASH_MOCK_CTL log

-- LIMIT: pushed when every qual is pushed and nothing sorts or joins
\! $QSTASH_MOCK_CTL reset
EXPLAIN (VERBOSE, COSTS OFF) SELECT time, state FROM r.logs WHERE state = 'ERROR' LIMIT 3;
SELECT time, state FROM r.logs WHERE state = 'ERROR' LIMIT 3;
SELECT count(*) FROM (SELECT * FROM r.logs LIMIT 150) s;    -- 2 pages, the second of 50
SELECT count(*) FROM (SELECT * FROM r.logs LIMIT 10 OFFSET 100) s;
\! $QSTASH_MOCK_CTL log
\! $QSTASH_MOCK_CTL reset
-- not pushed: a local qual, ORDER BY, a join (count=100 pages; the scan still stops
-- at the page that completes the LIMIT: 6 requests, not every page of each)
EXPLAIN (VERBOSE, COSTS OFF) SELECT time FROM r.logs WHERE body_text LIKE '%1%' LIMIT 3;
SELECT count(*) FROM (SELECT time FROM r.logs WHERE body_text LIKE '{"n":1%' LIMIT 3) s;
SELECT time FROM r.logs ORDER BY time LIMIT 2;
SELECT q.name, l.state FROM r.queues q JOIN r.logs l ON l.queue_name = q.name LIMIT 1;
\! $QSTASH_MOCK_CTL count
-- (a nondeterministic collation, which needs ICU: rest_icu)

-- qstash.max_pages: an error, never a silently truncated listing
\! $QSTASH_MOCK_CTL reset
SET qstash.max_pages = 2;
SELECT count(*) FROM r.logs;  -- ERROR
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 10:00+00';  -- 120 rows: 2 pages
SELECT count(*) FROM r.logs LIMIT 1000;  -- LIMIT is not pushed under an aggregate: ERROR
\echo :LAST_ERROR_SQLSTATE
RESET qstash.max_pages;
\! $QSTASH_MOCK_CTL log

-- a burst 429 on page 3 that resets soon: waited for, the listing is complete
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --after 2 --status 429 --reset-in-ms 300 --header 'Burst-RateLimit-Limit: 100' --header 'Burst-RateLimit-Remaining: 0'
SELECT count(*) FROM r.logs;
\! $QSTASH_MOCK_CTL log
-- a daily 429 on page 3: the statement fails, pages 1-2 are not returned
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --after 2 --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Remaining: 0' --header 'RateLimit-Reset: 1795046400'
SELECT count(*) FROM r.logs;  -- ERROR QS002
\echo :LAST_ERROR_SQLSTATE
-- a 503 on page 2 is retried; a reset connection mid-body on page 3 too
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --after 1 --status 503 --body '{"error":"unavailable"}'
SELECT count(*) FROM r.logs;
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --after 2 --body '{"events":[],"cursor":""}' --close-mid-body
SELECT count(*) FROM r.logs;
\! $QSTASH_MOCK_CTL count
-- a cursor that repeats: an error, not an endless loop
\! $QSTASH_MOCK_CTL fixture /v2/events rest_same_cursor.json
SELECT count(*) FROM r.logs;  -- ERROR
\echo :LAST_ERROR_SQLSTATE
-- the "logs" key of the spec is read like "events"; times as strings, the
-- SDKs' other spellings, unknown keys in extra
\! $QSTASH_MOCK_CTL fixture /v2/events rest_logs_key.json
SELECT time, state, header, body_text, response_headers, retry_delay_expression, timeout, extra
  FROM qstash_logs();

-- a 200 without the rows key is not an empty listing
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --after 1 --body '{"error":"maintenance"}'
SELECT count(*) FROM r.logs;  -- ERROR
\echo :LAST_ERROR_SQLSTATE

-- dlq: 230 messages in 3 pages; bodies plain or base64
\! $QSTASH_MOCK_CTL reset
SELECT count(*), count(body_text), count(*) FILTER (WHERE body IS NULL), min(created_at), max(created_at) FROM r.dlq;
SELECT dlq_id, message_id, created_at, url, body, body_text, response_status, response_header,
       response_body_text, caller_ip, labels, not_before
  FROM qstash_dlq(max_rows => 4);
\! $QSTASH_MOCK_CTL log
-- triage: by response status, pushed as one request with repeated values
\! $QSTASH_MOCK_CTL reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT response_status, count(*) FROM r.dlq WHERE response_status IN (404, 429) GROUP BY 1;
SELECT response_status, count(*) FROM r.dlq WHERE response_status IN (404, 429) GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM qstash_dlq(response_status => 502);
SELECT count(*) FROM r.dlq WHERE url IN ('https://api.example.com/a', 'https://hooks.example.org/c')
   AND topic_name = 'orders' AND caller_ip = '203.0.113.0';
SELECT dlq_id FROM r.dlq WHERE dlq_id IN ('dlq_0003', 'dlq_0005') AND response_status = 429;  -- dlqIds: the API ignores the rest
SELECT dlq_id FROM r.dlq WHERE created_at >= '2026-11-18 00:00+00' AND topic_name = 'orders' AND 'billing' = ANY (labels);
SELECT count(*) FROM r.dlq WHERE queue_name = 'emails' AND created_at < '2026-11-18 00:00+00';
SELECT count(*) FROM qstash_dlq(schedule_id => 'none', message_id => 'msg_d0001');
\! $QSTASH_MOCK_CTL log

-- schedules, queues, url groups, flow control: plain arrays; by key with /{key}
\! $QSTASH_MOCK_CTL reset
SELECT schedule_id, cron, destination, method, is_paused, created_at, last_schedule_time,
       next_schedule_time, last_schedule_states, header, body, body_text, retries, delay,
       caller_ip, labels, retry_delay_expression, flow_control_key, parallelism, rate, period, extra
  FROM qstash_schedules() ORDER BY schedule_id;
SELECT * FROM r.schedules WHERE schedule_id = 'scd_daily';
SELECT * FROM r.schedules WHERE schedule_id = 'scd_missing';
SELECT * FROM qstash_queues() ORDER BY name;
SELECT name, lag FROM r.queues WHERE name IN ('emails', 'nope');
SELECT name, created_at, updated_at, jsonb_array_length(endpoints) AS n, endpoints FROM r.url_groups ORDER BY name;
SELECT name, e->>'url' AS url FROM r.url_groups, jsonb_array_elements(endpoints) e WHERE name = 'orders';
SELECT * FROM qstash_flow_control() ORDER BY flow_control_key;
SELECT flow_control_key, wait_list_size FROM r.flow_control WHERE flow_control_key = 'orders-fc';
SELECT * FROM qstash_global_parallelism();
SELECT * FROM r.global_parallelism;
\! $QSTASH_MOCK_CTL log
-- the burst headers of REST responses reach the rate-limit view, under the
-- QStash API; the daily 429 above is not exhausted any more once a later
-- success of that API carried no daily headers: its remaining is unknown
SELECT server, api, kind, "limit", remaining FROM qstash_rate_limits;

-- filter values are sent as UTF-8 whatever the database encoding
CREATE DATABASE qstash_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c qstash_latin1
SET client_encoding = 'UTF8';
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_logs(url => 'https://example.com/café');
SELECT count(*) FROM qstash_schedules() WHERE false;
CREATE FOREIGN TABLE q (name text, lag bigint) SERVER upstash OPTIONS (endpoint 'queues');
SELECT * FROM q WHERE name = 'café';
\! $QSTASH_MOCK_CTL log
\c contrib_regression
DROP DATABASE qstash_latin1;
-- an empty key names no object: not sent, the other one is
\! $QSTASH_MOCK_CTL reset
SELECT schedule_id FROM r.schedules WHERE schedule_id IN ('', 'scd_daily');
\! $QSTASH_MOCK_CTL log
-- a cursor "" is the end of a listing, as no cursor is
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [{"time": 1795003200000, "messageId": "m1", "state": "CREATED"}], "cursor": ""}'
SELECT message_id FROM qstash_logs();
\! $QSTASH_MOCK_CTL count

SET client_min_messages = warning;
DROP SCHEMA r CASCADE;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
