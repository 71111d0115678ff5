--
-- hostile: a non-superuser with USAGE on the wrapper and on one server, a
-- mapping and a schema of its own, tries to misuse every option and every
-- endpoint.  Nothing may crash the backend, reach a header, or show what
-- the role may not see.
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
CREATE ROLE regress_qstash_hostile;
GRANT USAGE ON FOREIGN DATA WRAPPER qstash_fdw TO regress_qstash_hostile;
GRANT USAGE ON FOREIGN SERVER upstash TO regress_qstash_hostile;
GRANT EXECUTE ON FUNCTION qstash_users(name), qstash_stats_summary(text, uuid, name),
  qstash_rate_limits() TO regress_qstash_hostile;
GRANT SELECT ON qstash_rate_limits TO regress_qstash_hostile;
CREATE SCHEMA h AUTHORIZATION regress_qstash_hostile;
CREATE USER MAPPING FOR regress_qstash_hostile SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key', token :'mock_token');
-- what the hostile role will probe: every column of every endpoint
CREATE SCHEMA cat;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO cat;
GRANT USAGE ON SCHEMA cat TO regress_qstash_hostile;
GRANT SELECT ON ALL TABLES IN SCHEMA cat TO regress_qstash_hostile;

-- The outcome of a statement: its SQLSTATE and message, or "ok".
CREATE FUNCTION h.attempt(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;
ALTER FUNCTION h.attempt(text) OWNER TO regress_qstash_hostile;
SET ROLE regress_qstash_hostile;

-- 1. a control character in any option is refused (22023) and never
-- reaches a header: CR LF (a second Host: header), a lone LF, TAB, DEL,
-- and an escape
CREATE SERVER h_srv FOREIGN DATA WRAPPER qstash_fdw;
SELECT o.obj, o.opt, c.name, h.attempt(format(o.stmt, o.opt, quote_literal('v' || c.chr || 'Host: evil.example')))
  FROM (VALUES ('server', 'api_url', 'ALTER SERVER h_srv OPTIONS (ADD %s %s)'),
               ('server', 'qstash_url', 'ALTER SERVER h_srv OPTIONS (ADD %s %s)'),
               ('server', 'timeout_ms', 'ALTER SERVER h_srv OPTIONS (ADD %s %s)'),
               ('server', 'connect_timeout_ms', 'ALTER SERVER h_srv OPTIONS (ADD %s %s)'),
               ('mapping', 'email', 'ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET %s %s)'),
               ('mapping', 'api_key', 'ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET %s %s)'),
               ('mapping', 'token', 'ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET %s %s)'),
               ('mapping', 'reveal_secrets', 'ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD %s %s)'),
               ('table', 'endpoint', 'CREATE FOREIGN TABLE h.ft (id uuid) SERVER upstash OPTIONS (%s %s)'))
       AS o(obj, opt, stmt),
       (VALUES ('CR LF', E'\r\n'), ('LF', E'\n'), ('TAB', E'\t'), ('DEL', chr(127)), ('ESC', chr(27)))
       AS c(name, chr)
 ORDER BY 1, 2, 3;
-- the mapping still works, with the values it had
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL log

-- 2. a column whose declared type the endpoint cannot produce is 42804,
-- raised when the query is planned (plain EXPLAIN included), before any
-- request.  Every column of every endpoint, as point (no cast from
-- anything) and as integer (assignable from bigint only).
CREATE TEMP TABLE probe_out (endpoint name, col name, outcome text);
CREATE FUNCTION h.probe(decl text) RETURNS TABLE (endpoint name, outcome text, columns bigint)
LANGUAGE plpgsql AS $$
DECLARE r record; res text;
BEGIN
  TRUNCATE probe_out;
  FOR r IN SELECT c.relname, a.attname
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
            WHERE c.relnamespace = 'cat'::regnamespace ORDER BY 1, 2 LOOP
    EXECUTE format('CREATE FOREIGN TABLE h.probe (%I %s) SERVER upstash OPTIONS (endpoint %L)',
                   r.attname, decl, r.relname);
    res := h.attempt(format('EXPLAIN SELECT * FROM h.probe WHERE %I IS NOT NULL', r.attname));
    INSERT INTO probe_out VALUES (r.relname, r.attname, split_part(res, ':', 1));
    DROP FOREIGN TABLE h.probe;
  END LOOP;
  RETURN QUERY SELECT p.endpoint, p.outcome, count(*) FROM probe_out p GROUP BY 1, 2 ORDER BY 1, 2;
END $$;
\! $QSTASH_MOCK_CTL reset
SELECT * FROM h.probe('point');
SELECT * FROM h.probe('integer');
\! $QSTASH_MOCK_CTL count
-- the message names the column, its type and the type expected
CREATE FOREIGN TABLE h.t (period int) SERVER upstash OPTIONS (endpoint 'stats_summary');
EXPLAIN SELECT * FROM h.t WHERE period = 42;  -- ERROR
SELECT * FROM h.t;  -- ERROR
CREATE FOREIGN TABLE h.t_body (body text) SERVER upstash OPTIONS (endpoint 'logs');
CREATE FOREIGN TABLE h.t_bad_body (body uuid) SERVER upstash OPTIONS (endpoint 'logs');
SELECT * FROM h.t_bad_body;  -- ERROR
-- columns declared as a type the endpoint's type is assignable to work,
-- read through that type's input: text for uuid and bytea, numeric for
-- bigint, name for text (not pushed), int for bigint
CREATE FOREIGN TABLE h.loose (id text, budget numeric, max_queues int, region name, creation_time date)
  SERVER upstash OPTIONS (endpoint 'users');
SELECT * FROM h.loose ORDER BY region;
CREATE FOREIGN TABLE h.loose_period (period name, qstash_id text, dlq_message_count int)
  SERVER upstash OPTIONS (endpoint 'stats_summary');
SELECT * FROM h.loose_period WHERE period = '7d' ORDER BY qstash_id;  -- not pushed: the default period, no row
SELECT * FROM h.loose_period ORDER BY qstash_id;
SELECT left(body, 12) AS body FROM h.t_body LIMIT 2;
ALTER FOREIGN TABLE h.t_body ALTER COLUMN body TYPE varchar(5);
SELECT body FROM h.t_body LIMIT 1;  -- ERROR
\echo :LAST_ERROR_SQLSTATE

-- 3. ids that are path segments: "." and ".." are sent encoded, never
-- resolved to another path; the empty id is no row, and no request
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM cat.schedules WHERE schedule_id = '..';
SELECT count(*) FROM cat.schedules WHERE schedule_id = '.';
SELECT count(*) FROM cat.queues WHERE name = '../../v2/dlq';
SELECT count(*) FROM cat.schedules WHERE schedule_id = '';
SELECT count(*) FROM cat.users WHERE id = '00000000-0000-0000-0000-000000000000';
\! $QSTASH_MOCK_CTL log

-- 4. a server the role owns: a superuser aimed it at the mock, and the
-- owner can still change its other options, keep the URL, use the default
-- host, but not aim it anywhere else
RESET ROLE;
CREATE SERVER h_owned FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url', qstash_url :'mock_url');
ALTER SERVER h_owned OWNER TO regress_qstash_hostile;
SET ROLE regress_qstash_hostile;
ALTER SERVER h_owned OPTIONS (ADD timeout_ms '5000');
ALTER SERVER h_owned OPTIONS (SET timeout_ms '6000', ADD connect_timeout_ms '700');
ALTER SERVER h_owned OPTIONS (SET api_url 'http://169.254.169.254');  -- ERROR
ALTER SERVER h_owned OPTIONS (SET qstash_url 'https://qstash.upstash.io');
ALTER SERVER h_owned OPTIONS (SET qstash_url :'mock_url');
SELECT srvname, array_length(srvoptions, 1) AS options,
       srvoptions @> ARRAY['timeout_ms=6000', 'connect_timeout_ms=700'] AS changed
  FROM pg_foreign_server WHERE srvname = 'h_owned';
-- a URL a superuser set on a server the role does not own is not reusable
RESET ROLE;
CREATE SERVER h_theirs FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'http://127.0.0.1:9/');
SET ROLE regress_qstash_hostile;
CREATE SERVER h_copy FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'http://127.0.0.1:9/');  -- ERROR

-- 5. the rate-limit view shows only servers the role has USAGE on
RESET ROLE;
CREATE SERVER h_private FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER h_private OPTIONS (email :'mock_email', api_key :'mock_key');
\! $QSTASH_MOCK_CTL queue --body '[]' --header 'Burst-RateLimit-Limit: 100' --header 'Burst-RateLimit-Remaining: 42' --header 'Burst-RateLimit-Reset: 1795000000'
SELECT count(*) FROM qstash_users('h_private');
\! $QSTASH_MOCK_CTL queue --body '[]' --header 'Burst-RateLimit-Limit: 100' --header 'Burst-RateLimit-Remaining: 41' --header 'Burst-RateLimit-Reset: 1795000000'
SELECT count(*) FROM qstash_users('upstash');
SELECT server, api, kind, remaining FROM qstash_rate_limits ORDER BY 1, 2, 3;
SET ROLE regress_qstash_hostile;
SELECT server, api, kind, remaining FROM qstash_rate_limits ORDER BY 1, 2, 3;
SELECT server, api, kind, remaining FROM qstash_rate_limits() ORDER BY 1, 2, 3;
SELECT count(*) FROM qstash_users('h_private');  -- ERROR
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
ALTER SERVER h_private RENAME TO h_private_renamed;
SELECT server, api, kind, remaining FROM qstash_rate_limits ORDER BY 1, 2, 3;
DROP SERVER h_private_renamed CASCADE;
SELECT server, api, kind, remaining FROM qstash_rate_limits ORDER BY 1, 2, 3;

-- 6. a mapping stored with a control character before the validator
-- refused it (0.1.0) is never sent
UPDATE pg_user_mapping SET umoptions = array_replace(umoptions, 'token=' || :'mock_token', E'token=x\r\nHost: evil.example')
 WHERE umuser = 'regress_qstash_hostile'::regrole;
GRANT EXECUTE ON FUNCTION qstash_requests_sent() TO regress_qstash_hostile;
SET ROLE regress_qstash_hostile;
\! $QSTASH_MOCK_CTL reset
SELECT qstash_requests_sent() AS sent_before \gset
SELECT count(*) FROM cat.queues;  -- ERROR
\echo :LAST_ERROR_SQLSTATE
\! $QSTASH_MOCK_CTL count
-- and counts as no request sent
SELECT qstash_requests_sent() - :sent_before AS counted;
RESET ROLE;

-- 7. the memory bounds are a superuser's: the role may neither raise nor
-- lower them (up to 512 MB each a session), unless granted SET on them
SET ROLE regress_qstash_hostile;
SELECT h.attempt('SET qstash.max_response_bytes = ''512MB''');
SELECT h.attempt('SET qstash.cache_max_bytes = ''512MB''');
SHOW qstash.max_response_bytes;
RESET ROLE;
GRANT SET ON PARAMETER qstash.max_response_bytes TO regress_qstash_hostile;
SET ROLE regress_qstash_hostile;
SELECT h.attempt('SET qstash.max_response_bytes = ''1MB''');
SHOW qstash.max_response_bytes;
RESET qstash.max_response_bytes;
RESET ROLE;
REVOKE SET ON PARAMETER qstash.max_response_bytes FROM regress_qstash_hostile;

-- the server never crashed: the role's session still works, once the
-- mapping is repaired
ALTER USER MAPPING FOR regress_qstash_hostile SERVER upstash OPTIONS (SET token :'mock_token');
SET ROLE regress_qstash_hostile;
SELECT count(*) FROM qstash_users();
RESET ROLE;

SET client_min_messages = warning;
DROP SCHEMA h CASCADE;
DROP SCHEMA cat CASCADE;
DROP EXTENSION qstash CASCADE;
DROP OWNED BY regress_qstash_hostile;
DROP ROLE regress_qstash_hostile;
RESET client_min_messages;
