--
-- bounds: the ends of a time range as the API receives them (fromDate and
-- toDate are inclusive unix milliseconds): one instant, strict and
-- inclusive ends at and between milliseconds, an empty range (no request),
-- two bounds on the same side (the tighter one is sent), on the message
-- log and the DLQ, from a foreign table and from the functions; and the
-- body columns when the API sends a body both as base64 and as text
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SCHEMA r;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (logs, dlq) FROM SERVER upstash INTO r;
-- the requests of the last statements: path and query only
\set sent '\\! $QSTASH_MOCK_CTL log | cut -d" " -f1,2; $QSTASH_MOCK_CTL clearlog'

-- the log's newest entries: 12:00:00.000, 11:58:59.999, 11:57:59.998
SELECT time, message_id, state FROM r.logs WHERE time >= '2026-11-18 11:57:59.998+00' ORDER BY time DESC;
\! $QSTASH_MOCK_CTL clearlog

-- one instant: time >= X AND time <= X is the entry at X, not nothing
SELECT time, state FROM r.logs WHERE time >= '2026-11-18 11:58:59.999+00' AND time <= '2026-11-18 11:58:59.999+00';
SELECT time, state FROM r.logs WHERE time BETWEEN '2026-11-18 11:58:59.999+00' AND '2026-11-18 11:58:59.999+00';
:sent
-- either end strict at X: nothing can match, nothing is sent
SELECT count(*) FROM r.logs WHERE time > '2026-11-18 11:58:59.999+00' AND time <= '2026-11-18 11:58:59.999+00';
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 11:58:59.999+00' AND time < '2026-11-18 11:58:59.999+00';
:sent
-- one millisecond wide, strict ends: the entries strictly inside
SELECT time FROM r.logs WHERE time > '2026-11-18 11:58:59.998+00' AND time < '2026-11-18 11:59:00+00';
SELECT time FROM r.logs WHERE time > '2026-11-18 11:58:59.999+00' AND time < '2026-11-18 11:59:00.001+00';
:sent
-- between milliseconds: an inclusive end rounds inwards, a strict one too
SELECT time FROM r.logs WHERE time >= '2026-11-18 11:58:59.9985+00' AND time <= '2026-11-18 11:58:59.9995+00';
SELECT time FROM r.logs WHERE time > '2026-11-18 11:58:59.9985+00' AND time < '2026-11-18 11:58:59.9995+00';
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 11:58:59.9991+00' AND time <= '2026-11-18 11:58:59.9999+00';
:sent
-- from after to: nothing is sent
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 12:00+00' AND time <= '2026-11-18 11:00+00';
:sent
-- two lower bounds, two upper bounds, in either order: the tighter ones
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 11:00+00' AND time >= '2026-11-18 11:50+00';
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 11:50+00' AND time >= '2026-11-18 11:00+00';
SELECT count(*) FROM r.logs WHERE time <= '2026-11-18 08:00+00' AND time <= '2026-11-18 09:00+00';
SELECT count(*) FROM r.logs WHERE time <= '2026-11-18 09:00+00' AND time <= '2026-11-18 08:00+00';
-- at the same instant, the strict bound is the tighter one, whichever comes first
SELECT count(*) FROM r.logs WHERE time >= '2026-11-18 11:58:59.999+00' AND time > '2026-11-18 11:58:59.999+00';
SELECT count(*) FROM r.logs WHERE time < '2026-11-18 11:58:59.999+00' AND time <= '2026-11-18 11:58:59.999+00';
:sent
-- the same with parameters (a generic plan evaluates them when the scan starts)
PREPARE twolower(timestamptz, timestamptz) AS
  SELECT count(*) FROM r.logs WHERE time >= $1 AND time >= $2;
EXECUTE twolower('2026-11-18 11:00+00', '2026-11-18 11:50+00');
EXECUTE twolower('2026-11-18 11:50+00', '2026-11-18 11:00+00');
PREPARE instant(timestamptz) AS SELECT count(*) FROM r.logs WHERE time >= $1 AND time <= $1;
EXECUTE instant('2026-11-18 11:58:59.999+00');
EXECUTE instant('2026-11-18 11:58:59.9995+00');
:sent
-- the functions' from_time and to_time are inclusive ends too
SELECT time FROM qstash_logs(from_time => '2026-11-18 11:58:59.999+00', to_time => '2026-11-18 11:58:59.999+00');
SELECT count(*) FROM qstash_logs(from_time => '2026-11-18 12:00+00', to_time => '2026-11-18 11:00+00');
SELECT count(*) FROM qstash_logs(from_time => '2026-11-18 11:50+00') WHERE time >= '2026-11-18 11:55+00';
:sent

-- the DLQ: 10:59:59.999 is its second message
SELECT created_at, dlq_id FROM r.dlq
 WHERE created_at >= '2026-11-18 10:59:59.999+00' AND created_at <= '2026-11-18 10:59:59.999+00';
SELECT count(*) FROM r.dlq
 WHERE created_at > '2026-11-18 10:59:59.999+00' AND created_at <= '2026-11-18 10:59:59.999+00';
SELECT dlq_id FROM r.dlq
 WHERE created_at > '2026-11-18 10:59:59.998+00' AND created_at < '2026-11-18 11:00+00';
SELECT count(*) FROM r.dlq
 WHERE created_at >= '2026-11-17 00:00+00' AND created_at >= '2026-11-18 09:00+00'
   AND created_at <= '2026-11-18 11:00+00' AND created_at <= '2026-11-18 23:00+00';
SELECT dlq_id FROM qstash_dlq(from_time => '2026-11-18 10:59:59.999+00', to_time => '2026-11-18 10:59:59.999+00');
SELECT count(*) FROM qstash_dlq(from_time => '2026-11-18 11:00+00', to_time => '2026-11-18 10:00+00');
:sent

-- a body sent both ways: a non-empty bodyBase64 wins, an empty one gives
-- way to the plain body; either alone is the body, empty included
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --body '{"messages": [{"dlqId": "b1", "bodyBase64": "", "body": "plain one", "responseBodyBase64": "", "responseBody": "resp one"}, {"dlqId": "b2", "bodyBase64": "aGk=", "body": "", "responseBodyBase64": "b2s=", "responseBody": ""}, {"dlqId": "b3", "bodyBase64": "aGk=", "body": "other", "responseBodyBase64": "b2s=", "responseBody": "other"}, {"dlqId": "b4", "bodyBase64": ""}, {"dlqId": "b5", "body": ""}, {"dlqId": "b6"}, {"dlqId": "b7", "bodyBase64": null, "body": "x", "responseBodyBase64": null, "responseBody": "y"}, {"dlqId": "b8", "bodyBase64": "", "body": null}]}'
SELECT dlq_id, body, body_text, body IS NULL AS body_null, body_text IS NULL AS text_null,
       response_body, response_body_text
  FROM qstash_dlq() ORDER BY dlq_id;
-- the log, the same rules
\! $QSTASH_MOCK_CTL queue --path /v2/events --body '{"events": [{"messageId": "e1", "time": 1, "bodyBase64": "", "body": "cGxhaW4="}, {"messageId": "e2", "time": 1, "body": ""}, {"messageId": "e3", "time": 1}]}'
SELECT message_id, body, body_text, body IS NULL AS body_null FROM qstash_logs() ORDER BY message_id;
-- a body of another JSON kind, a message that is not an object: errors
-- that name the kind they met, with its article
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --body '{"messages": [{"dlqId": "b9", "bodyBase64": ["eA=="]}]}'
SELECT dlq_id, body FROM qstash_dlq();  -- ERROR
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --body '{"messages": [{"dlqId": "b10", "body": {"a": 1}}]}'
SELECT dlq_id, body FROM qstash_dlq();  -- ERROR
\! $QSTASH_MOCK_CTL queue --path /v2/dlq --body '{"messages": [["b11"]]}'
SELECT dlq_id FROM qstash_dlq();  -- ERROR

SET client_min_messages = warning;
DROP SCHEMA r CASCADE;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
