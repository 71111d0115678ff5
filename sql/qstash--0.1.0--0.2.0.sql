/* pg_qstash 0.1.0 -> 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION qstash UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0 hardens the library (see CHANGELOG); the SQL objects are the same,
-- but the rate-limit view now shows only the servers the role may use.
COMMENT ON VIEW qstash_rate_limits IS
  'Last rate-limit headers seen per server and kind in this session (burst, daily, chat_requests, chat_tokens), for the servers the current role has USAGE on';
