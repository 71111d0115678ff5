-- pg_qstash demo: the bundled mock stands in for api.upstash.com.
\set ON_ERROR_STOP on
\pset footer off
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE EXTENSION qstash;
CREATE SERVER upstash FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key');

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
