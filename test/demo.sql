-- pg_qstash demo: the bundled mock stands in for api.upstash.com.
\set ON_ERROR_STOP on
\pset footer off
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE EXTENSION qstash;
CREATE SERVER upstash FOREIGN DATA WRAPPER qstash_fdw
  OPTIONS (api_url :'mock_url', qstash_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key', token :'mock_token');

-- Your QStash instances (one per region) and their limits
SELECT id, region, type, state, max_requests_per_day, max_requests_per_second,
       budget, creation_time
  FROM qstash_users() ORDER BY region;

-- Secrets stay NULL unless the user mapping sets reveal_secrets 'true'
SELECT region, token IS NULL AS token_hidden FROM qstash_users() ORDER BY region;

-- Next to your own data: instances against a local budget table
CREATE TEMP TABLE team_budget (region text PRIMARY KEY, team text, monthly_usd numeric);
INSERT INTO team_budget VALUES ('eu-central-1', 'payments', 50), ('us-east-1', 'growth', 300);
SELECT b.team, u.region, u.type, u.budget AS upstash_budget_usd, b.monthly_usd AS our_budget_usd,
       u.budget > b.monthly_usd AS over_our_budget
  FROM qstash_users() u JOIN team_budget b USING (region) ORDER BY b.team;

-- QStash egress address blocks, for firewall allow-lists
SELECT cidr FROM qstash_ipv4() ORDER BY cidr;

-- The same data as a foreign table
CREATE FOREIGN TABLE qstash_instances (id uuid, region text, max_queues bigint)
  SERVER upstash OPTIONS (endpoint 'users');
SELECT * FROM qstash_instances ORDER BY region;

-- QStash REST API: every endpoint as a foreign table
CREATE SCHEMA qstash_remote;
IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO qstash_remote;

-- Failed deliveries per URL in the mock's last day (state and time are pushed into the request)
SELECT url, count(*) AS failed, max(time) AS last_failure
  FROM qstash_remote.logs
 WHERE state = 'FAILED' AND time >= timestamptz '2026-11-18 12:00+00' - interval '1 day'
 GROUP BY url ORDER BY failed DESC, url;

-- The latest log entries of one message (LIMIT is pushed: one request of count=5)
SELECT time, state, url, response_status, body_text
  FROM qstash_remote.logs WHERE message_id = 'msg_0000' LIMIT 5;

-- DLQ triage: what is failing, since when, with which answer
SELECT response_status, url, count(*) AS messages, min(created_at) AS oldest,
       (array_agg(response_body_text ORDER BY created_at DESC))[1] AS latest_answer
  FROM qstash_remote.dlq
 GROUP BY response_status, url ORDER BY messages DESC, response_status, url LIMIT 6;

-- Queues with a backlog, URL groups and their endpoints, flow control
SELECT name, lag, parallelism, paused FROM qstash_queues() ORDER BY name;
SELECT g.name AS url_group, e->>'url' AS endpoint
  FROM qstash_url_groups() g, jsonb_array_elements(g.endpoints) e ORDER BY 1, 2;
SELECT flow_control_key, wait_list_size, parallelism_count, parallelism_max, rate_count, rate_max
  FROM qstash_flow_control() ORDER BY flow_control_key;
