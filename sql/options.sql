--
-- options: extension objects, privileges and every rule of the validator
--
CREATE EXTENSION qstash;

-- what the extension creates, and that nothing is granted to PUBLIC
SELECT fdwname, fdwhandler::regproc, fdwvalidator::regproc
  FROM pg_foreign_data_wrapper WHERE fdwname = 'qstash_fdw';
CREATE ROLE regress_qstash_nobody;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('regress_qstash_nobody', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'qstash'
 ORDER BY p.oid::regprocedure::text;
SELECT has_foreign_data_wrapper_privilege('regress_qstash_nobody', 'qstash_fdw', 'USAGE')
  AS public_usage;

-- server options
CREATE SERVER s1 FOREIGN DATA WRAPPER qstash_fdw
  OPTIONS (api_url 'https://api.upstash.com', qstash_url 'http://127.0.0.1:1/',
           timeout_ms '1500', connect_timeout_ms '250');
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (colour 'blue');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_key 'k');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (email 'me@example.com');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (token 't');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (reveal_secrets 'true');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'ftp://api.upstash.com');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'file:///etc/passwd');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'not a url');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'https://me:pw@api.upstash.com');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (qstash_url 'https://qstash.upstash.io/?x=1');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms '0');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms '-5');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (connect_timeout_ms '10s');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms '99999999999');  -- ERROR
CREATE SERVER s2 FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms '1', timeout_ms '2');  -- ERROR
ALTER SERVER s1 OPTIONS (SET timeout_ms 'x');  -- ERROR
ALTER SERVER s1 OPTIONS (SET timeout_ms '2000');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 's1';

-- the foreign-data wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'https://x.example');  -- ERROR

-- user mapping options
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (api_url 'https://x.example');  -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (password 'x');  -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (reveal_secrets 'maybe');  -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (email '');  -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER s1
  OPTIONS (email 'me@example.com', api_key 'k', token 't', reveal_secrets 'off');
CREATE USER MAPPING FOR PUBLIC SERVER s1 OPTIONS (email 'team@example.com', api_key 'k2');

-- foreign table options
CREATE FOREIGN TABLE ft_users (id uuid) SERVER s1 OPTIONS (endpoint 'users');
CREATE FOREIGN TABLE ft_bad (id uuid) SERVER s1 OPTIONS (endpoint 'nope');  -- ERROR
CREATE FOREIGN TABLE ft_bad (id uuid) SERVER s1 OPTIONS (api_key 'k');  -- ERROR
CREATE FOREIGN TABLE ft_bad (id uuid) SERVER s1 OPTIONS (path '/v2/qstash/users');  -- ERROR
CREATE FOREIGN TABLE ft_bad (id uuid OPTIONS (json_key 'x')) SERVER s1;  -- ERROR

-- only a superuser may aim a server at a host
CREATE ROLE regress_qstash_owner;
GRANT USAGE ON FOREIGN DATA WRAPPER qstash_fdw TO regress_qstash_owner;
SET ROLE regress_qstash_owner;
CREATE SERVER s_owned FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url 'https://evil.example');  -- ERROR
CREATE SERVER s_owned FOREIGN DATA WRAPPER qstash_fdw OPTIONS (timeout_ms '5000');
ALTER SERVER s_owned OPTIONS (ADD qstash_url 'http://169.254.169.254');  -- ERROR
ALTER SERVER s_owned OPTIONS (ADD connect_timeout_ms '100');
RESET ROLE;
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 's_owned';

-- the settings
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'qstash.%' ORDER BY name;
SET qstash.ca_file = '/tmp/x.pem';
SET ROLE regress_qstash_owner;
SET qstash.ca_file = '/tmp/y.pem';  -- ERROR
RESET ROLE;
RESET qstash.ca_file;
SET qstash.no_such_setting = 1;  -- ERROR

DROP SERVER s_owned;
SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
DROP ROLE regress_qstash_owner;
DROP ROLE regress_qstash_nobody;
