--
-- stats: qstash_stats() and qstash_stats_summary()
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup

-- the period is checked before any request
SELECT * FROM qstash_stats('2h');  -- ERROR
SELECT * FROM qstash_stats_summary('1w');  -- ERROR
SELECT * FROM qstash_stats('');  -- ERROR
\! $QSTASH_MOCK_CTL count

-- every period: fan-out over both instances; 60 points (240 for 30d) per series
SELECT p.period, u.region, count(*) AS rows,
       count(*) FILTER (WHERE s.metric = 'daily_used') AS daily_used_points,
       min(s.ts) FILTER (WHERE s.metric = 'daily_used') AS first_point,
       max(s.ts) FILTER (WHERE s.metric = 'daily_used') AS last_point,
       count(DISTINCT s.period) AS periods_reported
  FROM unnest(ARRAY['1h','3h','12h','1d','3d','7d','30d']) WITH ORDINALITY AS p(period, o),
       LATERAL qstash_stats(p.period) s
       JOIN qstash_users() u ON u.id = s.qstash_id
 GROUP BY p.o, p.period, u.region ORDER BY p.o, u.region;
-- one users list for the whole statement (7 fan-outs and the join share it) + 7 periods x 2 instances
\! $QSTASH_MOCK_CTL count

-- the requests of one fan-out, and of one instance
\! $QSTASH_MOCK_CTL reset
SELECT count(*) FROM qstash_stats('7d', server => 'upstash');
SELECT count(*) FROM qstash_stats('3h', '3f1c2a8e-5b7d-4e2f-9a61-0c8d4b2e7f10');
SELECT count(*) FROM qstash_stats();
\! $QSTASH_MOCK_CTL log

-- every series of one instance, long format
SELECT metric, series, count(*) AS points, sum(value) AS total, min(value), max(value)
  FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a')
 GROUP BY metric, series ORDER BY metric, series NULLS FIRST;
SELECT * FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a')
 WHERE metric = 'daily_used' ORDER BY ts LIMIT 5;
SELECT metric, series, ts, value FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a')
 WHERE metric = 'daily_requests' ORDER BY ts, series NULLS FIRST LIMIT 6;

-- an instance the API does not know: no rows, not an error
SELECT count(*) FROM qstash_stats('1h', '00000000-0000-0000-0000-000000000000');

-- Go times: 0-9 fraction digits, other offsets, m= suffix; numbers exactly as sent;
-- series the extension does not know yet
\! $QSTASH_MOCK_CTL fixture /v2/qstash/stats/99a4c327-31f0-490f-a594-043ade84085a stats_edge.json
SELECT metric, series, ts, value
  FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a');
SELECT value = 9223372036854775807 AS int64_max_exact, value::text
  FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a')
 WHERE value > 1e18 ORDER BY value;
SELECT * FROM qstash_stats_summary('1h', '99a4c327-31f0-490f-a594-043ade84085a');

-- a malformed time is an error naming the value
\! $QSTASH_MOCK_CTL fixture /v2/qstash/stats/99a4c327-31f0-490f-a594-043ade84085a stats_badtime.json
SELECT * FROM qstash_stats('1h', '99a4c327-31f0-490f-a594-043ade84085a');  -- ERROR
\! $QSTASH_MOCK_CTL reset

-- summary: one row per instance, joins users.id without a cast
SELECT u.region, s.period, s.dlq_message_count, s.total_monthly_billing,
       cardinality(s.days) AS days, s.days[1:3] AS first_days
  FROM qstash_stats_summary('7d') s JOIN qstash_users() u ON u.id = s.qstash_id
 ORDER BY u.region;

-- per-day billing of the month next to a local table
CREATE TEMP TABLE invoices (day date, region text, invoiced_usd numeric);
INSERT INTO invoices VALUES ('2026-11-01', 'eu-central-1', 0.125), ('2026-11-02', 'eu-central-1', 0.2),
                            ('2026-11-01', 'us-east-1', 1.125);
SELECT i.day, u.region, s.value AS upstash_usd, i.invoiced_usd,
       i.invoiced_usd - s.value AS difference
  FROM qstash_stats('1d') s
  JOIN qstash_users() u ON u.id = s.qstash_id
  JOIN invoices i ON i.day = s.ts::date AND i.region = u.region
 WHERE s.metric = 'daily_billings'
 ORDER BY i.day, u.region;

SET client_min_messages = warning;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
