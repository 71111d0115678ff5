--
-- snapshot: history tables, cross-statement cache, rate-limit view
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup

-- snapshots are idempotent: the second run stores nothing new
SELECT * FROM qstash_snapshot_stats('1h');
SELECT * FROM qstash_snapshot_stats('1h');
SELECT count(*), count(DISTINCT qstash_id), count(*) FILTER (WHERE series IS NULL) AS unsplit
  FROM qstash_stats_history;
-- a changed value is updated, not duplicated
UPDATE qstash_stats_history SET value = -1 WHERE metric = 'daily_used';
SELECT * FROM qstash_snapshot_stats('1h', 'upstash');
SELECT count(*) FILTER (WHERE value = -1) AS stale FROM qstash_stats_history;
-- a longer period adds its points
SELECT * FROM qstash_snapshot_stats('30d');
SELECT count(*) FROM qstash_stats_history;
-- snapshots of two periods never overwrite each other's points: '3h'
-- points fall on the times of every third '1h' point, with other values
CREATE TEMP TABLE before_3h AS SELECT * FROM qstash_stats_history WHERE period = '1h';
SELECT count(*) AS same_time_other_value
  FROM before_3h a JOIN qstash_stats('3h') b
    ON a.qstash_id = b.qstash_id AND a.metric = b.metric AND a.series IS NOT DISTINCT FROM b.series
   AND a.ts = b.ts AND a.value IS DISTINCT FROM b.value;
SELECT * FROM qstash_snapshot_stats('3h');
SELECT count(*) AS changed_1h_points
  FROM before_3h a FULL JOIN (SELECT * FROM qstash_stats_history WHERE period = '1h') b
    ON a.qstash_id = b.qstash_id AND a.metric = b.metric AND a.series IS NOT DISTINCT FROM b.series
   AND a.ts = b.ts
 WHERE a.value IS DISTINCT FROM b.value OR a.fetched_at IS DISTINCT FROM b.fetched_at;
SELECT period, count(*), min(ts), max(ts) FROM qstash_stats_history GROUP BY period ORDER BY min(ts) DESC, period;
-- the summary: one row per instance per run
SELECT qstash_snapshot_summary('7d');
SELECT qstash_snapshot_summary('7d');
SELECT period, count(*), count(DISTINCT fetched_at) AS runs, sum(dlq_message_count)
  FROM qstash_stats_summary_history GROUP BY period;
-- both tables are dumped by pg_dump
SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension WHERE extname = 'qstash' ORDER BY 1;
SELECT * FROM qstash_snapshot_stats('5m');  -- ERROR

-- the cross-statement cache: off by default
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
SET qstash.cache_ttl = 60;
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a');
SELECT count(*) FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a');
\! $QSTASH_MOCK_CTL count
SELECT qstash_cache_reset();
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
-- expiry
SET qstash.cache_ttl = 1;
SELECT count(*) FROM qstash_users();
SELECT pg_sleep(1.2);
SELECT count(*) FROM qstash_users();
\! $QSTASH_MOCK_CTL count
-- two roles never share an entry, even through one PUBLIC mapping
SET qstash.cache_ttl = 60;
CREATE ROLE regress_qstash_a;
CREATE ROLE regress_qstash_b;
GRANT USAGE ON FOREIGN SERVER upstash TO regress_qstash_a, regress_qstash_b;
GRANT EXECUTE ON FUNCTION qstash_users(name) TO regress_qstash_a, regress_qstash_b;
CREATE USER MAPPING FOR PUBLIC SERVER upstash OPTIONS (email :'mock_email', api_key :'mock_key');
\! $QSTASH_MOCK_CTL reset
SET ROLE regress_qstash_a;
SELECT count(*) FROM qstash_users();
SELECT count(*) FROM qstash_users();
SET ROLE regress_qstash_b;
SELECT count(*) FROM qstash_users();
RESET ROLE;
\! $QSTASH_MOCK_CTL count
RESET qstash.cache_ttl;
SELECT qstash_cache_reset();

-- the rate-limit view: figures of the last response that had them
SELECT * FROM qstash_rate_limits;
\! $QSTASH_MOCK_CTL queue --body '[]' --header 'Burst-RateLimit-Limit: 100' --header 'Burst-RateLimit-Remaining: 97' --header 'Burst-RateLimit-Reset: 1795000000'
SELECT count(*) FROM qstash_users();
SELECT server, kind, "limit", remaining, reset_at, observed_at > now() - interval '1 minute' AS recent
  FROM qstash_rate_limits;
SET qstash.max_retries = 0;
\! $QSTASH_MOCK_CTL queue --status 429 --header 'RateLimit-Limit: 1000' --header 'RateLimit-Remaining: 0' --header 'RateLimit-Reset: 1795003600000' --header 'Burst-RateLimit-Limit: 100' --header 'Burst-RateLimit-Remaining: 96'
SELECT count(*) FROM qstash_users();  -- ERROR
SELECT server, kind, "limit", remaining, reset_at FROM qstash_rate_limits ORDER BY kind;
RESET qstash.max_retries;

-- EXPLAIN ANALYZE figures match what the mock saw
CREATE FOREIGN TABLE stats (qstash_id uuid, metric text, value numeric) SERVER upstash;
\! $QSTASH_MOCK_CTL reset
-- (BUFFERS OFF: PostgreSQL 18 shows buffer counts by default, and they vary)
EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT count(*) FROM (SELECT * FROM stats UNION ALL SELECT * FROM stats) both_scans;
\! $QSTASH_MOCK_CTL count

SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
DROP OWNED BY regress_qstash_a, regress_qstash_b;
DROP ROLE regress_qstash_a, regress_qstash_b;
RESET client_min_messages;
