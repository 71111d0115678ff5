--
-- keys: what a response or an error is keyed and masked by.  Every header
-- an error quotes is masked (a redirect's Location, a rate limit's values)
-- in every form of a credential; within a session, a kept response (one
-- statement, or qstash.cache_ttl) never answers another credential: two
-- mappings that differ only in their token, a token changed between two
-- statements, the two roles of a query that reads through a view
--
\getenv setup QSTASH_MOCK_SETUP
\i :setup
\getenv mock_token QSTASH_MOCK_TOKEN
ALTER SERVER upstash OPTIONS (ADD qstash_url :'mock_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token :'mock_token');

-- SQLSTATE, message, detail and hint of an error, and whether any of the
-- given secrets (in any of the forms given) appears in them
CREATE FUNCTION show_error(query text, secrets text[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hnt text; ctx text; s text; shown int := 0;
BEGIN
  EXECUTE query;
  RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
  FOREACH s IN ARRAY secrets LOOP
    shown := shown + (strpos(concat_ws(' ', msg, det, hnt, ctx), s) > 0)::int;
  END LOOP;
  RETURN NEXT 'sqlstate: ' || st;
  RETURN NEXT 'message:  ' || msg;
  IF det <> '' THEN RETURN NEXT 'detail:   ' || det; END IF;
  IF hnt <> '' THEN RETURN NEXT 'hint:     ' || hnt; END IF;
  RETURN NEXT 'secrets shown: ' || shown || ' of ' || cardinality(secrets);
END $$;
SELECT ARRAY[:'mock_token', :'mock_key', encode(convert_to(:'mock_token', 'UTF8'), 'base64'),
             encode(convert_to(:'mock_email' || ':' || :'mock_key', 'UTF8'), 'base64')]::text AS forms \gset
\setenv mock_token :mock_token
\setenv mock_key :mock_key
\setenv token_b64 `printf %s "$mock_token" | base64 -w0`
\setenv basic_b64 `printf %s "$QSTASH_MOCK_EMAIL:$mock_key" | base64 -w0`

-- a redirect whose Location echoes the credentials, raw and encoded, on
-- both APIs
\! $QSTASH_MOCK_CTL queue --path /v2/qstash/users --status 302 --header "Location: https://elsewhere.example/login?token=$mock_token&key=$mock_key&b=$basic_b64"
SELECT * FROM show_error('SELECT * FROM qstash_users()', :'forms'::text[]);
\! $QSTASH_MOCK_CTL queue --path /v2/queues --status 307 --header "Location: https://elsewhere.example/v2/queues?auth=Bearer%20$mock_token&t=$token_b64"
SELECT * FROM show_error('SELECT * FROM qstash_queues()', :'forms'::text[]);
-- a rate limit's header values that echo the token (not retried)
SET qstash.max_retries = 0;
\! $QSTASH_MOCK_CTL queue --path /v2/queues --status 429 --header "Burst-RateLimit-Limit: $mock_token" --header "Burst-RateLimit-Remaining: $token_b64" --header 'Burst-RateLimit-Reset: 1795000000'
SELECT * FROM show_error('SELECT * FROM qstash_queues()', :'forms'::text[]);
RESET qstash.max_retries;

-- two roles whose mappings differ only in their token (the second wrong)
CREATE ROLE regress_tok_a;
CREATE ROLE regress_tok_b;
GRANT USAGE ON FOREIGN SERVER upstash TO regress_tok_a, regress_tok_b;
GRANT EXECUTE ON FUNCTION qstash_queues(name) TO regress_tok_a, regress_tok_b;
CREATE USER MAPPING FOR regress_tok_a SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key', token :'mock_token');
CREATE USER MAPPING FOR regress_tok_b SERVER upstash
  OPTIONS (email :'mock_email', api_key :'mock_key', token 'not-the-token');
SET qstash.cache_ttl = 300;
\! $QSTASH_MOCK_CTL reset
SET ROLE regress_tok_a;
SELECT count(*) FROM qstash_queues();
SET ROLE regress_tok_b;
SELECT count(*) FROM qstash_queues();  -- ERROR
RESET ROLE;
-- the token of a mapping changed between two statements: the new one is sent
ALTER USER MAPPING FOR regress_tok_a SERVER upstash OPTIONS (SET token 'changed-token');
SET ROLE regress_tok_a;
SELECT count(*) FROM qstash_queues();  -- ERROR
RESET ROLE;
\! $QSTASH_MOCK_CTL log | cut -d' ' -f1,2,4
ALTER USER MAPPING FOR regress_tok_a SERVER upstash OPTIONS (SET token :'mock_token');
RESET qstash.cache_ttl;

-- one statement, two credentials: a view reads with its owner's mapping,
-- the foreign table beside it with the caller's; neither is answered
-- with the other's response
CREATE SCHEMA k;
IMPORT FOREIGN SCHEMA qstash LIMIT TO (queues) FROM SERVER upstash INTO k;
GRANT USAGE ON SCHEMA k TO regress_tok_a, regress_tok_b;
GRANT SELECT ON k.queues TO regress_tok_a, regress_tok_b;
CREATE VIEW k.queues_of_b AS SELECT * FROM k.queues;
ALTER VIEW k.queues_of_b OWNER TO regress_tok_b;
GRANT SELECT ON k.queues_of_b TO regress_tok_a;
\! $QSTASH_MOCK_CTL reset
SET ROLE regress_tok_a;
SELECT (SELECT count(*) FROM k.queues) AS mine, (SELECT count(*) FROM k.queues_of_b) AS the_views;  -- ERROR
RESET ROLE;
\! $QSTASH_MOCK_CTL log | cut -d' ' -f1,2,4
-- and when both credentials are right, each is sent once
ALTER USER MAPPING FOR regress_tok_b SERVER upstash OPTIONS (SET token :'mock_token');
\! $QSTASH_MOCK_CTL reset
SET ROLE regress_tok_a;
SELECT (SELECT count(*) FROM k.queues) AS mine, (SELECT count(*) FROM k.queues_of_b) AS the_views,
       (SELECT count(*) FROM k.queues) AS mine_again;
RESET ROLE;
\! $QSTASH_MOCK_CTL count

SET client_min_messages = warning;
DROP SCHEMA k CASCADE;
DROP FUNCTION show_error(text, text[]);
DROP EXTENSION qstash CASCADE;
DROP OWNED BY regress_tok_a, regress_tok_b;
DROP ROLE regress_tok_a, regress_tok_b;
RESET client_min_messages;
