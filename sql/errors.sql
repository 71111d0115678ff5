--
-- errors: missing set-up, HTTP failures and their SQLSTATEs, cancel,
-- connection reuse
--
\getenv mock_url QSTASH_MOCK_URL
\getenv mock_email QSTASH_MOCK_EMAIL
\getenv mock_key QSTASH_MOCK_API_KEY
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE EXTENSION qstash;
CREATE SERVER upstash FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url');
SET qstash.max_retries = 0;

-- Show SQLSTATE, message, detail and hint of an error, and whether the
-- api key (or the email:key pair) appears anywhere in them.
CREATE FUNCTION show_error(query text, secret text DEFAULT NULL) RETURNS SETOF text
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
  IF secret IS NOT NULL THEN
    RETURN NEXT 'secret shown: ' || (strpos(concat_ws(' ', msg, det, hnt, ctx), secret) > 0);
  END IF;
END $$;

-- no such server, a server of another wrapper, no user mapping, no key
SELECT * FROM show_error('SELECT * FROM qstash_users(''nope'')');
CREATE FOREIGN DATA WRAPPER regress_other_fdw;
CREATE SERVER other FOREIGN DATA WRAPPER regress_other_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER other OPTIONS (password 'other-secret');
SELECT * FROM show_error('SELECT * FROM qstash_users(''other'')', 'other-secret');
SELECT * FROM show_error('SELECT * FROM qstash_users(''upstash'')');
CREATE USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (email :'mock_email');
SELECT * FROM show_error('SELECT * FROM qstash_users(''upstash'')');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD api_key 'wrong-key-0123456789');
\! $QSTASH_MOCK_CTL count

-- 401: SQLSTATE 28000, and the key is never shown
SELECT * FROM show_error('SELECT * FROM qstash_users()', 'wrong-key-0123456789');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET api_key :'mock_key');
\! $QSTASH_MOCK_CTL queue --status 401 --body "{\"error\":\"invalid api key $QSTASH_MOCK_API_KEY\"}"
SELECT * FROM show_error('SELECT * FROM qstash_users()', :'mock_key');
-- a key that straddles the 200-character cut of DETAIL is still masked
\! $QSTASH_MOCK_CTL queue --status 401 --body "{\"error\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa $QSTASH_MOCK_API_KEY\"}"
SELECT * FROM show_error('SELECT * FROM qstash_users()', left(:'mock_key', 8));
\! $QSTASH_MOCK_CTL log

-- other statuses
\! $QSTASH_MOCK_CTL queue --status 403 --body '{"error":"team plan required"}'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 404 --body '{"message":"no such route"}'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 400 --body '<html><body>Bad Request</body></html>' --header 'Content-Type: text/html'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 500 --body '{"error":"internal"}'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 503 --body x --body-repeat 5000
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 302 --header 'Location: https://elsewhere.example/v2/qstash/users'
SELECT * FROM show_error('SELECT * FROM qstash_users()');

-- rate limits: the kind decides the SQLSTATE; the reset is absolute UTC
\! $QSTASH_MOCK_CTL queue --status 429 --header 'burst-ratelimit-limit: 100' --header 'BURST-RATELIMIT-REMAINING: 0' --header 'Burst-RateLimit-Reset: 1795000000'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Remaining: 0' --header 'RateLimit-Reset: 1795000000123'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 429 --header 'x-ratelimit-limit-requests: 100' --header 'x-ratelimit-remaining-requests: 0' --header 'x-ratelimit-reset-requests: 1795000060' --header 'x-ratelimit-limit-tokens: 5000' --header 'x-ratelimit-remaining-tokens: 12' --header 'x-ratelimit-reset-tokens: 1795000030'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 429 --body '{"error":"slow down"}'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 429 --header 'Burst-RateLimit-Reset: soon'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 429 --header 'Burst-RateLimit-Reset: 9223372036854775807'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --status 429 --header 'Burst-RateLimit-Reset: 946684799500'
SELECT * FROM show_error('SELECT * FROM qstash_users()');

-- bodies that are not what the endpoint promises
\! $QSTASH_MOCK_CTL queue --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a", "region": '
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[] trailing'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '{"error": "an object, not a list"}'
SELECT * FROM show_error('SELECT * FROM qstash_ipv4()');
\! $QSTASH_MOCK_CTL queue --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a", "max_topics": "ten"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"id": "not-a-uuid"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"max_topics": 9223372036854775808}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"budget": -9223372036854775809}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[{"reserved_price": 123456789012345678901234567890.5}]'
SELECT reserved_price FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --body '[{"state": "a\u0000b"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');

\! $QSTASH_MOCK_CTL queue --body-b64 W3sic3RhdGUiOiAiY2Fm6SJ9XQ==
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');

-- the size cap
SET qstash.max_response_bytes = 1024;
\! $QSTASH_MOCK_CTL queue --body x --body-repeat 5000
SELECT * FROM show_error('SELECT * FROM qstash_users()');
RESET qstash.max_response_bytes;

-- transport failures: refused, timeout, reset mid-body
CREATE SERVER closed FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'http://127.0.0.1:1');
CREATE USER MAPPING FOR CURRENT_USER SERVER closed OPTIONS (email 'a@example.com', api_key 'k');
SELECT * FROM show_error('SELECT * FROM qstash_users(''closed'')');
SET qstash.timeout_ms = 200;
\! $QSTASH_MOCK_CTL queue --delay-ms 2000 --body '[]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL queue --body-delay-ms 2000 --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a"}]'
SELECT * FROM show_error('SELECT * FROM qstash_users()');
RESET qstash.timeout_ms;
\! $QSTASH_MOCK_CTL queue --body '[{"id": "99a4c327-31f0-490f-a594-043ade84085a"}]' --close-mid-body
SELECT * FROM show_error('SELECT * FROM qstash_users()');

-- TLS is always verified: a self-signed certificate fails, unless trusted
\getenv tls_url QSTASH_MOCK_TLS_URL
\getenv ca_file QSTASH_MOCK_CA_FILE
CREATE SERVER tls FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'tls_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls OPTIONS (email :'mock_email', api_key :'mock_key');
SELECT * FROM show_error('SELECT * FROM qstash_users(''tls'')');
SET qstash.ca_file = :'ca_file';
SELECT region FROM qstash_users('tls') ORDER BY region;
RESET qstash.ca_file;

-- a rate limit caught in PL/pgSQL, its reset read from the diagnostics
\! $QSTASH_MOCK_CTL queue --status 429 --header 'Burst-RateLimit-Limit: 100' --header 'Burst-RateLimit-Remaining: 0' --header 'Burst-RateLimit-Reset: 1795000000'
DO $$
DECLARE detail text; hint text;
BEGIN
  PERFORM * FROM qstash_users();
EXCEPTION WHEN SQLSTATE 'QS001' THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE 'rate limited: % / reset %', detail,
    substring(detail from 'reset at ([0-9: -]+\+00)')::timestamptz;
END $$;

-- retries: two 500s then the fixture: 3 requests; a daily 429 is never retried
SET qstash.max_retries = 3;
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 500 --body '{"error":"internal"}' --times 2
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Reset: 1795000000' --times 4
SELECT * FROM show_error('SELECT * FROM qstash_users()');
\! $QSTASH_MOCK_CTL count
-- ... nor a 4xx: the same request would get the same answer
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 404 --body '{"message":"no such route"}'
\! $QSTASH_MOCK_CTL queue --status 400 --body '{"message":"bad request"}'
SELECT * FROM show_error('SELECT * FROM qstash_users()') LIMIT 1;
SELECT * FROM show_error('SELECT * FROM qstash_users()') LIMIT 1;
\! $QSTASH_MOCK_CTL count
-- a burst 429 that resets within qstash.retry_max_wait_ms is waited out, once
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 429 --reset-in-ms 300
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
-- ... one that resets later is not
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --status 429 --reset-in-ms 60000 --times 2
-- (only SQLSTATE and message: the reset time in DETAIL differs at each run)
SELECT * FROM show_error('SELECT count(*) FROM qstash_users()') LIMIT 2;
\! $QSTASH_MOCK_CTL count
SET qstash.max_retries = 0;

-- a cancelled slow request (57014), then a normal query in the same session
\! $QSTASH_MOCK_CTL reset
\! $QSTASH_MOCK_CTL queue --delay-ms 5000 --body '[]'
SET statement_timeout = '300ms';
SELECT * FROM qstash_users();  -- ERROR
RESET statement_timeout;
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count

-- 200 calls in one session use one connection (keep-alive)
\! $QSTASH_MOCK_CTL reset
\set ECHO none
\o /dev/null
SELECT 'SELECT count(*) FROM qstash_users()' FROM generate_series(1, 200) \gexec
\o
\set ECHO all
\! $QSTASH_MOCK_CTL count

DROP FUNCTION show_error(text, text);
SET client_min_messages = warning;
DROP SERVER other CASCADE;
DROP FOREIGN DATA WRAPPER regress_other_fdw;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
