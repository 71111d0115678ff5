--
-- rest_icu: a nondeterministic ICU collation on a QStash REST listing.
-- Needs ICU; without it the file stops here (expected/rest_icu_1.out), as
-- PostgreSQL's own collation.icu.utf8 test does.
--
SELECT NOT EXISTS (SELECT FROM pg_collation WHERE collprovider = 'i') AS skip_test \gset
\if :skip_test
\quit
\endif
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');
CREATE SCHEMA r;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (logs) FROM SERVER upstash INTO r;

-- a case-insensitive collation keeps rows an API filter would drop: not pushed
CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
\! $QSTASH_MOCK_CTL reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM r.logs WHERE state = 'failed' COLLATE case_insensitive;
SELECT count(*) FROM r.logs WHERE state = 'failed' COLLATE case_insensitive;
\! $QSTASH_MOCK_CTL log

SET client_min_messages = warning;
DROP SCHEMA r CASCADE;
DROP COLLATION case_insensitive;
DROP EXTENSION qstash CASCADE;
RESET client_min_messages;
