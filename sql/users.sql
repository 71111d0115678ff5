--
-- users: qstash_users() and qstash_ipv4() against the mock API
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup

-- the typed result: one column per field of the QStash user object
SELECT a.ord, a.name, format_type(a.type, NULL) AS type
  FROM pg_proc p,
       unnest(p.proargnames, p.proallargtypes, p.proargmodes)
         WITH ORDINALITY AS a(name, type, mode, ord)
 WHERE p.oid = 'qstash_users(name)'::regprocedure AND a.mode = 't'
 ORDER BY a.ord;

-- two instances, every column; secrets are NULL by default
\x on
SELECT * FROM qstash_users('upstash') ORDER BY region;
\x off
\! $QSTASH_MOCK_CTL log
-- the user agent names the extension and the version installed
\set agent `$QSTASH_MOCK_CTL agent`
SELECT :'agent' = 'pg_qstash/' || extversion AS agent_has_version
  FROM pg_extension WHERE extname = 'qstash';

-- the server argument defaults to qstash.server
SELECT id, region FROM qstash_users() ORDER BY region;
SET qstash.server = 'nope';
SELECT id FROM qstash_users();  -- ERROR
RESET qstash.server;
SELECT count(*) FROM qstash_users(NULL);

-- edge cases: absent field, nulls, unknown fields, int64 extremes,
-- prometheus_enabled as a string, numbers kept exactly
\! $QSTASH_MOCK_CTL fixture /v2/qstash/users users_edge.json
\x on
SELECT id, customer_id, active, state,
       modifying_state IS NULL AS modifying_state_absent,
       reserved_type IS NULL AS reserved_type_null,
       created_by IS NULL AS created_by_null,
       reserved_price, budget, max_dlq_size, max_dlq_retention_time_milis,
       max_retries IS NULL AS max_retries_absent,
       prometheus_enabled, enterprise, creation_time, deletion_time,
       last_plan_upgrade_time IS NULL AS last_plan_upgrade_time_absent, extra
  FROM qstash_users();
\x off
SELECT budget = -9223372036854775808 AS budget_is_int64_min,
       max_dlq_size = 9223372036854775807 AS max_dlq_size_is_int64_max,
       pg_typeof(budget), pg_typeof(reserved_price), pg_typeof(enterprise),
       pg_typeof(prometheus_enabled), pg_typeof(creation_time), pg_typeof(id)
  FROM qstash_users();
SELECT extra -> 'new_limits' -> 'nested' AS nested, extra ->> 'monthly_discount' AS discount
  FROM qstash_users();

-- secrets: masked unless the user mapping says reveal_secrets
SELECT token IS NULL AS token_masked, password IS NULL AS password_masked,
       read_only_password IS NULL AS ro_password_masked FROM qstash_users();
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD reveal_secrets 'true');
SELECT md5(token) AS token_md5, md5(read_only_password) AS ro_password_md5,
       password IS NULL AS password_absent FROM qstash_users();
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (SET reveal_secrets 'false');
SELECT token IS NULL AS token_masked FROM qstash_users();

-- a PUBLIC user mapping is honoured; the functions need EXECUTE and USAGE
CREATE ROLE regress_qstash_reader;
CREATE USER MAPPING FOR PUBLIC SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key');
SET ROLE regress_qstash_reader;
SELECT count(*) FROM qstash_users('upstash');  -- ERROR
RESET ROLE;
GRANT EXECUTE ON FUNCTION qstash_users(name) TO regress_qstash_reader;
SET ROLE regress_qstash_reader;
SELECT count(*) FROM qstash_users('upstash');  -- ERROR
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER upstash TO regress_qstash_reader;
SET ROLE regress_qstash_reader;
SELECT id, region FROM qstash_users('upstash');
RESET ROLE;

-- ipv4
SELECT cidr, pg_typeof(cidr), masklen(cidr) FROM qstash_ipv4() ORDER BY cidr;

-- requests seen by the mock since the fixture switch
\! $QSTASH_MOCK_CTL count

\! $QSTASH_MOCK_CTL reset
-- text arrives as UTF-8 and is stored in the database's encoding; a
-- timestamptz(0) column rounds as its typmod says
CREATE DATABASE regress_qstash_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regress_qstash_latin1
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET client_min_messages = warning;
CREATE EXTENSION qstash;
CREATE SERVER upstash FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key');
RESET client_min_messages;
\! $QSTASH_MOCK_CTL queue --body '[{"state": "caf\u00e9", "enterprise": {"n\u00e4me": "Stra\u00dfe"}}]'
SELECT convert_to(state, 'LATIN1') AS state_latin1, length(state) AS state_chars,
       convert_to(enterprise::text, 'LATIN1') AS enterprise_latin1 FROM qstash_users();
\! $QSTASH_MOCK_CTL queue --body '[{"state": "\u65e5"}]'
SELECT state FROM qstash_users();  -- ERROR
CREATE FOREIGN TABLE round_stats (ts timestamptz(0), metric text)
  SERVER upstash OPTIONS (endpoint 'stats');
SELECT min(ts), max(ts) FROM round_stats WHERE metric = 'daily_used';
\c contrib_regression
DROP DATABASE regress_qstash_latin1;

-- a numeric column with a scale gets the integers of the API at that scale
CREATE FOREIGN TABLE users_scaled (region text, max_queues numeric(10,2), reserved_price numeric(12,3))
  SERVER upstash OPTIONS (endpoint 'users');
SELECT region, max_queues, reserved_price FROM users_scaled ORDER BY region;
DROP FOREIGN TABLE users_scaled;

SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
DROP OWNED BY regress_qstash_reader;
DROP ROLE regress_qstash_reader;
