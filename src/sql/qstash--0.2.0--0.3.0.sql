/* pg_qstash 0.2.0 -> 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION qstash UPDATE TO '0.3.0'" to load this file. \quit

-- This script is also the second half of a fresh install of 0.3.0: the
-- Makefile builds qstash--0.3.0.sql as the 0.2.0 script followed by this
-- one, so an upgraded database and a fresh one run the same statements.

-- The objects this script drops and creates anew keep their grants: what
-- roles were granted on them before is recorded here and granted again at
-- the end (a reporting role's SELECT on the views, an archiving role's
-- EXECUTE on the archive routines, which become its new routines).
CREATE TEMP TABLE qstash_upgrade_grants ON COMMIT DROP AS
  SELECT c.relname::text AS object, a.grantee, a.privilege_type
    FROM pg_class c, aclexplode(c.relacl) a
   WHERE c.relnamespace = '@extschema@'::regnamespace
     AND c.relname IN ('qstash_archive_status', 'qstash_rate_limits')
     AND a.grantee <> c.relowner AND a.grantee <> 0
  UNION
  SELECT p.proname::text, a.grantee, a.privilege_type
    FROM pg_proc p, aclexplode(p.proacl) a
   WHERE p.pronamespace = '@extschema@'::regnamespace
     AND p.proname IN ('qstash_rate_limits', 'qstash_archive_logs', 'qstash_archive_dlq')
     AND a.grantee <> p.proowner AND a.grantee <> 0;

------------------------------------------------------------------------
-- Snapshots keyed by period: a '3h' snapshot no longer rewrites the
-- points of a '1h' one.  Rows kept by 0.2.0 came from the default period.
------------------------------------------------------------------------
ALTER TABLE qstash_stats_history ADD COLUMN period text NOT NULL DEFAULT '1h';
ALTER TABLE qstash_stats_history ALTER COLUMN period DROP DEFAULT;
ALTER TABLE qstash_stats_history DROP CONSTRAINT qstash_stats_history_key;
ALTER TABLE qstash_stats_history ADD CONSTRAINT qstash_stats_history_key
  UNIQUE NULLS NOT DISTINCT (qstash_id, metric, series, period, ts);
COMMENT ON TABLE qstash_stats_history IS
  'Data points stored by qstash_snapshot_stats(), one per instance, metric, series, period and time';

CREATE OR REPLACE FUNCTION qstash_snapshot_stats(period text DEFAULT '1h', server name DEFAULT NULL,
                                                 OUT inserted bigint, OUT updated bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH points AS (
    -- a response may carry the same point twice (times are rounded to µs)
    SELECT DISTINCT ON (s.qstash_id, s.metric, s.series, s.ts)
           s.qstash_id, s.metric, s.series, s.period, s.ts, s.value
      FROM @extschema@.qstash_stats(period, NULL, server) s
     ORDER BY s.qstash_id, s.metric, s.series, s.ts
  ), upserted AS (
    INSERT INTO @extschema@.qstash_stats_history AS h
           (qstash_id, metric, series, period, ts, value, fetched_at)
    SELECT qstash_id, metric, series, period, ts, value, now() FROM points
    ON CONFLICT (qstash_id, metric, series, period, ts) DO UPDATE
       SET value = excluded.value, fetched_at = excluded.fetched_at
     WHERE h.value IS DISTINCT FROM excluded.value
    RETURNING (xmax = 0) AS is_insert
  )
  SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert) FROM upserted
$$;

------------------------------------------------------------------------
-- The archive, rebuilt to never stall: listings are read one page per
-- transaction, and the cursor of the next page is kept in the progress,
-- so a window or a DLQ pass of any size goes on in the next run where the
-- last one stopped.
------------------------------------------------------------------------

-- The page readers: the listings of qstash_logs() and qstash_dlq(), from a
-- cursor, for at most max_pages pages; qstash_last_cursor() then says
-- where the next page starts (NULL: the listing was read to its end).
CREATE FUNCTION qstash_log_pages(from_time timestamptz, to_time timestamptz,
                                 cursor text, max_pages integer, server name)
RETURNS SETOF qstash_log_entry
AS 'MODULE_PATHNAME', 'qstash_logs'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION qstash_log_pages(timestamptz, timestamptz, text, integer, name) IS
  'Internal (the log archive): at most max_pages pages of the message log from cursor; see qstash_last_cursor()';

CREATE FUNCTION qstash_dlq_pages(cursor text, max_pages integer, server name)
RETURNS SETOF qstash_dlq_message
AS 'MODULE_PATHNAME', 'qstash_dlq'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION qstash_dlq_pages(text, integer, name) IS
  'Internal (the DLQ history): at most max_pages pages of the DLQ from cursor; see qstash_last_cursor()';

CREATE FUNCTION qstash_last_cursor() RETURNS text
AS 'MODULE_PATHNAME', 'qstash_last_cursor'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION qstash_last_cursor() IS
  'Internal (the archive): where the last page reader of this session stopped, NULL when it read to the end';

-- One spelling across both archives: the log archive says *_headers.
ALTER TABLE qstash_dlq_history RENAME COLUMN response_header TO response_headers;
ALTER TABLE qstash_dlq_history RENAME COLUMN callback_header TO callback_headers;
ALTER TABLE qstash_dlq_history RENAME COLUMN failure_callback_header TO failure_callback_headers;
-- the DLQ pass that last saw a message (NULL: before 0.3.0)
ALTER TABLE qstash_dlq_history ADD COLUMN seen_pass bigint;

DROP VIEW qstash_archive_status;
DROP PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean, text);
DROP FUNCTION qstash_archive_logs_start(name, integer, interval, interval);
DROP FUNCTION qstash_archive_logs_step(qstash_archive_run);
DROP FUNCTION qstash_archive_logs_finish(qstash_archive_run);
DROP FUNCTION qstash_archive_dlq(name);
DROP TYPE qstash_archive_run;

-- The progress of an archive.  A window (logs) or a pass (DLQ) that is
-- being read keeps its cursor here; origin says in which cluster and
-- database server_oid was recorded (a restored copy adopts its new server).
ALTER TABLE qstash_archive_state
  ADD COLUMN origin text,
  ADD COLUMN archived_from timestamptz,
  ADD COLUMN window_from timestamptz,
  ADD COLUMN window_to timestamptz,
  ADD COLUMN window_floor timestamptz,
  ADD COLUMN window_rows bigint,
  ADD COLUMN window_oldest timestamptz,
  ADD COLUMN next_cursor text,
  ADD COLUMN pass_started_at timestamptz,
  ADD COLUMN pass bigint,
  ADD COLUMN overlap interval,
  ADD COLUMN entry_rate double precision,
  ADD COLUMN previous_run_at timestamptz;
COMMENT ON TABLE qstash_archive_state IS
  'Progress of the archive per server and kind: logs are complete up to archived_to; a window or DLQ pass in progress goes on at next_cursor';

CREATE VIEW qstash_archive_status AS
  SELECT s.server, s.kind, s.archived_from, s.archived_to,
         CASE s.kind
           WHEN 'logs' THEN (SELECT count(*) FROM @extschema@.qstash_log_archive a
                              WHERE a.server = s.server)
           ELSE (SELECT count(*) FROM @extschema@.qstash_dlq_history h
                  WHERE h.server = s.server AND h.left_at IS NULL)
         END AS rows,
         s.caught_up,
         CASE WHEN s.window_to IS NOT NULL
              THEN tstzrange(s.window_from, s.window_to, '[]') END AS reading,
         s.pass_started_at,
         s.last_run_at, s.last_run_at - s.previous_run_at AS run_interval,
         s.last_run_requests, s.last_run_rows,
         round(s.entry_rate::numeric, 2) AS entry_rate,
         -- what a run every run_interval needs to keep up: the new entries
         -- and the overlap, 100 a request, 10% for partial pages, and 5
         CASE WHEN s.kind = 'logs' AND s.entry_rate IS NOT NULL
                   AND s.previous_run_at IS NOT NULL
              THEN ceil(1.1 * s.entry_rate
                        * extract(epoch FROM (s.last_run_at - s.previous_run_at)
                                             + coalesce(s.overlap, interval '0'))
                        / 100)::integer + 5
         END AS requests_needed,
         s.last_success_at, s.last_error, s.last_error_at, s.window_size
    FROM @extschema@.qstash_archive_state s;
COMMENT ON VIEW qstash_archive_status IS
  'The archive per server and kind: how far it reaches, what is being read, the recent entry rate and the budget a run needs, the last run and its error (cleared by the next success)';

-- Where the progress of this database is recorded: the cluster's system
-- identifier and the database's OID.  A restored copy has another.
CREATE FUNCTION qstash_archive_origin()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (SELECT system_identifier::text FROM pg_control_system()) || '/' ||
         (SELECT oid::text FROM pg_database WHERE datname = current_database())
$$;

-- Progress recorded by 0.2.0 was recorded in this database (a 0.2.0 dump
-- restored into 0.3.0 has none here: its rows come later, by COPY).
UPDATE qstash_archive_state SET origin = qstash_archive_origin();

-- One run of qstash_archive_logs() or qstash_archive_dlq(): what the
-- procedure carries between its transactions.  The procedures only call
-- the functions below (each with a fixed search_path): they commit, so
-- they cannot pin their own, and an operator they evaluated could be taken
-- from the caller's search_path.
CREATE TYPE qstash_archive_run AS (
  server name,
  kind text,
  max_requests integer,
  first_count bigint,
  horizon timestamptz,
  overlap interval,
  backfill interval,
  overlapped boolean,
  steps integer,
  rows_added bigint,
  rows_present bigint,
  rows_left bigint,
  windows integer,
  read_rows bigint,
  read_seconds double precision,
  requests integer,
  caught_up boolean,
  done boolean,
  sqlstate text,
  error text,
  detail text,
  hint text
);

-- The progress row of an archive, locked, after checking that the server
-- is the one it was made for.  A progress restored into another database
-- or cluster (pg_dump/pg_restore, pg_upgrade) adopts the server there;
-- in the database where it was recorded, a server dropped and created
-- again under the same name is refused.
CREATE FUNCTION qstash_archive_claim(server name, kind text)
RETURNS qstash_archive_state
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  srv_oid oid := (SELECT s.oid FROM pg_foreign_server s WHERE s.srvname = server);
  here text := @extschema@.qstash_archive_origin();
  st @extschema@.qstash_archive_state;
BEGIN
  IF NOT has_server_privilege(srv_oid, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for foreign server %', server
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO @extschema@.qstash_archive_state AS s (server, kind, server_oid, origin, window_size)
  VALUES (server, kind, srv_oid, here, CASE kind WHEN 'logs' THEN interval '1 day' END)
  ON CONFLICT DO NOTHING;
  SELECT * INTO st FROM @extschema@.qstash_archive_state s
   WHERE s.server = qstash_archive_claim.server AND s.kind = qstash_archive_claim.kind
     FOR UPDATE;
  IF st.server_oid IS DISTINCT FROM srv_oid AND st.origin = here THEN
    RAISE EXCEPTION 'server "%" was dropped and created again after its % archive began', server, kind
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = format('The archive was recorded in this database for the server of OID %s; '
                            'the server named "%s" now has OID %s.', st.server_oid, server, srv_oid),
            HINT = CASE kind
              WHEN 'logs' THEN
                format('If the new server reads the same QStash account (as after pg_restore --clean), '
                       'go on with: SELECT %s.qstash_archive_reset(%L, %L, since => %L); '
                       'to start afresh: SELECT %s.qstash_archive_reset(%L, %L);',
                       '@extschema@', server, kind, coalesce(st.archived_to, now()),
                       '@extschema@', server, kind)
              ELSE
                format('Start a new pass over the DLQ of the new server (the history is kept) with: '
                       'SELECT %s.qstash_archive_reset(%L, %L);', '@extschema@', server, kind)
            END;
  END IF;
  IF st.server_oid IS DISTINCT FROM srv_oid OR st.origin IS DISTINCT FROM here THEN
    UPDATE @extschema@.qstash_archive_state s SET server_oid = srv_oid, origin = here
     WHERE s.server = st.server AND s.kind = st.kind;
    st.server_oid := srv_oid;
    st.origin := here;
  END IF;
  RETURN st;
END
$$;

-- Start a run: the server, the budget, the present.
CREATE FUNCTION qstash_archive_start(kind text, server name, max_requests integer,
                                     overlap interval DEFAULT NULL, backfill interval DEFAULT NULL)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r @extschema@.qstash_archive_run;
  st @extschema@.qstash_archive_state;
BEGIN
  IF max_requests IS NULL OR max_requests < 1 THEN
    RAISE EXCEPTION 'max_requests must be at least 1'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF kind = 'logs' AND (overlap IS NULL OR overlap < interval '0' OR backfill <= interval '0') THEN
    RAISE EXCEPTION 'overlap must be 0 or more and backfill more than 0'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  r.kind := kind;
  r.server := @extschema@.qstash_archive_server(server);
  st := @extschema@.qstash_archive_claim(r.server, kind);
  r.max_requests := max_requests;
  r.first_count := @extschema@.qstash_requests_sent();
  r.horizon := date_trunc('milliseconds', clock_timestamp());
  r.overlap := overlap;
  r.backfill := coalesce(backfill, interval '7 days');
  IF backfill IS NOT NULL AND st.archived_from IS NOT NULL
     AND r.horizon - backfill < st.archived_from - interval '1 minute' THEN
    RAISE NOTICE 'the log archive of server "%" began at %: backfill reaches before it and is not read',
          r.server, st.archived_from
      USING HINT = format('To read from %s on, run once: SELECT %s.qstash_archive_reset(%L, ''logs'', since => %L);',
                          r.horizon - backfill, '@extschema@', r.server, r.horizon - backfill);
  END IF;
  -- the first new window of every run reaches back the overlap (a run
  -- that finishes a window begun before, too: entries of that window's
  -- end may have been listed late)
  r.overlapped := false;
  r.steps := 0;
  r.rows_added := 0;
  r.rows_present := 0;
  r.rows_left := 0;
  r.windows := 0;
  r.read_rows := 0;
  r.read_seconds := 0;
  r.caught_up := false;
  r.done := false;
  RETURN r;
END
$$;

-- Record an error that ends a run: the procedure raises it after the
-- pages read before are committed.
CREATE FUNCTION qstash_archive_failed(r qstash_archive_run, code text, msg text, detail text,
                                      hint text)
RETURNS qstash_archive_run
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  r.sqlstate := code;
  r.error := msg;
  r.detail := nullif(detail, '');
  r.hint := nullif(hint, '');
  r.done := true;
  RETURN r;
END
$$;

-- The requests left in a run's budget.
CREATE FUNCTION qstash_archive_budget(r qstash_archive_run)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT r.max_requests - (@extschema@.qstash_requests_sent() - r.first_count)
$$;

-- A new window of the log archive, oldest first: from the progress (less
-- the overlap, in the first window of a run) for window_size, or to the
-- present.  Entries at or below window_floor were read before.
CREATE FUNCTION qstash_archive_logs_window(r qstash_archive_run, st qstash_archive_state)
RETURNS qstash_archive_state
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  lo timestamptz := coalesce(st.archived_to, r.horizon - r.backfill);
BEGIN
  st.window_floor := CASE WHEN st.archived_to IS NOT NULL AND NOT r.overlapped
                               AND r.overlap > interval '0' THEN lo END;
  st.window_from := date_trunc('milliseconds', lo - CASE WHEN st.window_floor IS NULL
                                                         THEN interval '0' ELSE r.overlap END);
  st.window_to := least(lo + st.window_size, r.horizon);
  st.window_rows := 0;
  st.window_oldest := st.window_to;
  st.next_cursor := NULL;
  st.archived_from := coalesce(st.archived_from, st.window_from);
  UPDATE @extschema@.qstash_archive_state s
     SET window_from = st.window_from, window_to = st.window_to, window_floor = st.window_floor,
         window_rows = 0, window_oldest = st.window_to, next_cursor = NULL,
         archived_from = st.archived_from
   WHERE s.server = st.server AND s.kind = 'logs';
  RETURN st;
END
$$;

-- A window is read: the archive is complete up to its end.  The next
-- window is sized for about 50 pages at the rate this one had (between 1
-- second and 7 days; a sparse window doubles).
CREATE FUNCTION qstash_archive_logs_window_done(r qstash_archive_run, st qstash_archive_state)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  secs double precision := greatest(extract(epoch FROM st.window_to - st.window_from)::float8, 0.001);
  next_size interval;
BEGIN
  IF st.window_rows < 50 THEN
    next_size := least(st.window_size * 2, interval '7 days');
  ELSE
    next_size := least(greatest(make_interval(secs => secs * 5000 / st.window_rows),
                                interval '1 second'), interval '7 days');
  END IF;
  r.windows := r.windows + 1;
  r.caught_up := st.window_to >= r.horizon;
  r.read_rows := r.read_rows + st.window_rows;
  r.read_seconds := r.read_seconds + secs;
  UPDATE @extschema@.qstash_archive_state s
     SET archived_to = greatest(s.archived_to, st.window_to), window_size = next_size,
         window_from = NULL, window_to = NULL, window_floor = NULL, window_rows = NULL,
         window_oldest = NULL, next_cursor = NULL
   WHERE s.server = st.server AND s.kind = 'logs';
  RETURN r;
END
$$;

-- The next step of a run: done when its budget is spent (or after more
-- steps than its requests could take: a bound on the loop).
CREATE FUNCTION qstash_archive_next(r qstash_archive_run)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  r.steps := r.steps + 1;
  r.done := @extschema@.qstash_archive_budget(r) <= 0 OR r.steps > 2::bigint * r.max_requests + 10;
  RETURN r;
END
$$;

-- The progress row of a run, locked; NULL (with a NOTICE) when it was
-- reset meanwhile.
-- A row whose values no run could have written (edited by hand) is an
-- error that names the column and the call that starts afresh.
CREATE FUNCTION qstash_archive_progress(r qstash_archive_run)
RETURNS qstash_archive_state
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  st @extschema@.qstash_archive_state;
  bad text;
BEGIN
  SELECT * INTO st FROM @extschema@.qstash_archive_state s
   WHERE s.server = r.server AND s.kind = r.kind FOR UPDATE;
  IF NOT FOUND THEN
    RAISE NOTICE 'the progress of the % archive of server "%" was reset during the run', r.kind, r.server;
    RETURN NULL;
  END IF;
  bad := CASE
    WHEN NOT isfinite(st.archived_to) THEN 'archived_to'
    WHEN r.kind = 'logs' AND (st.window_size IS NULL OR st.window_size <= interval '0'
                              OR st.window_size > interval '7 days') THEN 'window_size'
    WHEN st.window_to IS NOT NULL AND (st.window_from IS NULL OR NOT isfinite(st.window_from)
                                       OR NOT isfinite(st.window_to)
                                       OR st.window_from > st.window_to) THEN 'window_from'
    WHEN st.window_rows < 0 OR st.window_rows > 1000000000000 THEN 'window_rows'
    WHEN st.pass < 0 THEN 'pass'
  END;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'the progress of the % archive of server "%" is invalid', r.kind, r.server
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = format('Column %s of qstash_archive_state holds a value no run writes.', bad),
            HINT = format('Start afresh with: SELECT %s.qstash_archive_reset(%L, %L);',
                          '@extschema@', r.server, r.kind);
  END IF;
  RETURN st;
END
$$;

-- The error of a page that would make a window or pass never end: the
-- API gave back the cursor it was asked with, or went back in time.
CREATE FUNCTION qstash_archive_page_loop(r qstash_archive_run, detail text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RAISE EXCEPTION 'the API returned a page the % archive of server "%" has read before', r.kind, r.server
    USING ERRCODE = 'QS042', DETAIL = detail,
          HINT = format('The window or pass is read again from its start after: SELECT %s.qstash_archive_reset(%L, %L%s);',
                        '@extschema@', r.server, r.kind,
                        CASE r.kind WHEN 'logs' THEN ', since => <archived_to>' ELSE '' END);
END
$$;

-- One request of a log archive run: the next page of the window being
-- read (a new window when none is).  No retries: a retry would spend
-- requests the budget does not have; a failure ends the run, and the next
-- run asks for the same page again.
CREATE FUNCTION qstash_archive_logs_step(r qstash_archive_run)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET qstash.max_retries = 0
SET qstash.cache_ttl = 0
AS $$
DECLARE
  st @extschema@.qstash_archive_state;
  added bigint;
  got bigint;
  oldest timestamptz;
  newest timestamptz;
  cur text;
  msg text;
  detail text;
  hint text;
  code text;
BEGIN
  BEGIN
    st := @extschema@.qstash_archive_progress(r);
    IF st.server IS NULL THEN
      r.done := true;
      RETURN r;
    END IF;
    IF st.window_to IS NULL THEN
      IF st.archived_to >= r.horizon THEN
        r.caught_up := true;
        r.done := true;
        RETURN r;
      END IF;
      st := @extschema@.qstash_archive_logs_window(r, st);
      r.overlapped := true;
    END IF;
    WITH page AS MATERIALIZED (
      SELECT * FROM @extschema@.qstash_log_pages(from_time => st.window_from, to_time => st.window_to,
                                                 cursor => st.next_cursor, max_pages => 1,
                                                 server => r.server)
    ), ins AS (
      INSERT INTO @extschema@.qstash_log_archive
      SELECT r.server, p.*, now() FROM page p
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM page),
           (SELECT min(p."time") FROM page p), (SELECT max(p."time") FROM page p)
      INTO added, got, oldest, newest;
    cur := @extschema@.qstash_last_cursor();
    -- newest first: a page never starts after where the last one ended
    IF cur = st.next_cursor THEN
      PERFORM @extschema@.qstash_archive_page_loop(r, format('The cursor %s came back for itself.', cur));
    ELSIF newest > st.window_oldest THEN
      PERFORM @extschema@.qstash_archive_page_loop(r, format(
        'A page from cursor %s has entries of %s, after %s where the page before it ended.',
        st.next_cursor, newest, st.window_oldest));
    END IF;
    r.rows_added := r.rows_added + added;
    st.window_rows := st.window_rows + got;
    IF cur IS NULL
       -- the budget is spent once the new part of the window is read: the
       -- rest is overlap, read before, and the next run has its own
       OR (@extschema@.qstash_archive_budget(r) <= 0 AND st.window_floor IS NOT NULL
           AND oldest <= st.window_floor) THEN
      r := @extschema@.qstash_archive_logs_window_done(r, st);
    ELSE
      UPDATE @extschema@.qstash_archive_state s
         SET next_cursor = cur, window_rows = st.window_rows,
             window_oldest = least(coalesce(oldest, s.window_oldest), s.window_oldest)
       WHERE s.server = r.server AND s.kind = 'logs';
    END IF;
  EXCEPTION WHEN query_canceled OR OTHERS THEN
    -- recorded, and raised again once the pages read before are committed
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN @extschema@.qstash_archive_failed(r, code, msg, detail, hint);
  END;
  RETURN r;
END
$$;

-- One request of a DLQ history run: the next page of the pass being read
-- (a new pass when none is; one pass at most a run).  Messages listed are
-- added, or seen again in this pass; when a pass ends, every message it
-- did not see has left the DLQ.  Passes are numbered: what was seen is
-- decided by the pass, never by the clock.
CREATE FUNCTION qstash_archive_dlq_step(r qstash_archive_run)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET qstash.max_retries = 0
SET qstash.cache_ttl = 0
AS $$
DECLARE
  st @extschema@.qstash_archive_state;
  t timestamptz := clock_timestamp();
  added bigint;
  present bigint;
  gone bigint;
  cur text;
  msg text;
  detail text;
  hint text;
  code text;
BEGIN
  BEGIN
    st := @extschema@.qstash_archive_progress(r);
    IF st.server IS NULL THEN
      r.done := true;
      RETURN r;
    END IF;
    IF st.pass_started_at IS NULL THEN
      -- numbered after every pass the history has seen (a reset keeps it)
      st.pass_started_at := t;
      st.pass := greatest(coalesce(st.pass, 0),
                          (SELECT coalesce(max(h.seen_pass), 0) FROM @extschema@.qstash_dlq_history h
                            WHERE h.server = r.server)) + 1;
      st.next_cursor := NULL;
      UPDATE @extschema@.qstash_archive_state s
         SET pass_started_at = t, pass = st.pass, next_cursor = NULL
       WHERE s.server = r.server AND s.kind = 'dlq';
    END IF;
    WITH page AS MATERIALIZED (
      -- a message listed twice counts once; one without an id cannot be tracked
      SELECT DISTINCT ON (d.dlq_id) d.*
        FROM @extschema@.qstash_dlq_pages(cursor => st.next_cursor, max_pages => 1,
                                          server => r.server) d
       WHERE d.dlq_id IS NOT NULL ORDER BY d.dlq_id
    ), upserted AS (
      INSERT INTO @extschema@.qstash_dlq_history AS h
      SELECT r.server, p.*, t, t, NULL, st.pass FROM page p
      ON CONFLICT ON CONSTRAINT qstash_dlq_history_pkey
      DO UPDATE SET last_seen = excluded.last_seen, left_at = NULL, seen_pass = excluded.seen_pass
      RETURNING (xmax = 0) AS is_new
    )
    SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new)
      INTO added, present FROM upserted;
    cur := @extschema@.qstash_last_cursor();
    IF cur = st.next_cursor THEN
      PERFORM @extschema@.qstash_archive_page_loop(r, format('The cursor %s came back for itself.', cur));
    END IF;
    r.rows_added := r.rows_added + added;
    r.rows_present := r.rows_present + present;
    IF cur IS NULL THEN
      -- a complete pass: what it did not see is gone
      UPDATE @extschema@.qstash_dlq_history h SET left_at = t
       WHERE h.server = r.server AND h.left_at IS NULL
         AND coalesce(h.seen_pass, 0) < st.pass;
      GET DIAGNOSTICS gone = ROW_COUNT;
      r.rows_left := r.rows_left + gone;
      r.caught_up := true;
      r.done := true;
      UPDATE @extschema@.qstash_archive_state s
         SET pass_started_at = NULL, next_cursor = NULL, archived_to = st.pass_started_at
       WHERE s.server = r.server AND s.kind = 'dlq';
    ELSE
      UPDATE @extschema@.qstash_archive_state s SET next_cursor = cur
       WHERE s.server = r.server AND s.kind = 'dlq';
    END IF;
  EXCEPTION WHEN query_canceled OR OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN @extschema@.qstash_archive_failed(r, code, msg, detail, hint);
  END;
  RETURN r;
END
$$;

-- End a run: record what it did, and its error (a success clears the last).
CREATE FUNCTION qstash_archive_finish(r qstash_archive_run)
RETURNS qstash_archive_run
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  r.requests := @extschema@.qstash_requests_sent() - r.first_count;
  UPDATE @extschema@.qstash_archive_state st
     SET previous_run_at = st.last_run_at, last_run_at = r.horizon,
         last_run_requests = r.requests,
         last_run_rows = r.rows_added + r.rows_present, caught_up = r.caught_up,
         overlap = coalesce(r.overlap, st.overlap),
         entry_rate = CASE WHEN r.read_seconds > 0 THEN r.read_rows / r.read_seconds
                           ELSE st.entry_rate END,
         last_success_at = CASE WHEN r.error IS NULL THEN r.horizon ELSE st.last_success_at END,
         last_error = CASE WHEN r.error IS NULL THEN NULL
                           ELSE r.error || coalesce(' (' || r.detail || ')', '') END,
         last_error_at = CASE WHEN r.error IS NULL THEN NULL ELSE clock_timestamp() END
   WHERE st.server = r.server AND st.kind = r.kind;
  RETURN r;
END
$$;

-- Raise the error that ended a run (after the procedure committed what it
-- read), with its own SQLSTATE, so that pg_cron records the job as failed.
CREATE FUNCTION qstash_archive_raise(r qstash_archive_run)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  hint text := coalesce(r.hint || ' ', '') ||
               format('The %s rows read before by this run (%s requests) are kept; '
                      'the next run goes on from there.', r.rows_added + r.rows_present, r.requests);
BEGIN
  IF r.error IS NULL THEN
    RETURN;
  END IF;
  IF r.detail IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = r.sqlstate, MESSAGE = r.error, HINT = hint;
  END IF;
  RAISE EXCEPTION USING ERRCODE = r.sqlstate, MESSAGE = r.error, DETAIL = r.detail, HINT = hint;
END
$$;

-- Archive the message log of one server: windows oldest first, each read
-- newest first one page per transaction, the cursor kept, so that a run
-- stopped by its budget (or an error) is continued by the next one where
-- it stopped.  The first window of a run re-reads the overlap before the
-- progress (late arrivals) with what the budget leaves.  Raises the error
-- that stopped a run, after committing what it read.  Must be CALLed
-- outside a transaction block (pg_cron does).
CREATE PROCEDURE qstash_archive_logs(
  server name DEFAULT NULL,
  max_requests integer DEFAULT 100,
  overlap interval DEFAULT '5 minutes',
  backfill interval DEFAULT NULL,
  INOUT rows_added bigint DEFAULT NULL,
  INOUT requests integer DEFAULT NULL,
  INOUT windows integer DEFAULT NULL,
  INOUT caught_up boolean DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  r @extschema@.qstash_archive_run;
BEGIN
  r := @extschema@.qstash_archive_start('logs', server, max_requests, overlap, backfill);
  COMMIT;
  LOOP
    r := @extschema@.qstash_archive_next(r);
    EXIT WHEN r.done;
    r := @extschema@.qstash_archive_logs_step(r);
    COMMIT;
    EXIT WHEN r.done;
  END LOOP;
  r := @extschema@.qstash_archive_finish(r);
  COMMIT;
  PERFORM @extschema@.qstash_archive_raise(r);
  rows_added := r.rows_added;
  requests := r.requests;
  windows := r.windows;
  caught_up := r.caught_up;
END
$$;

COMMENT ON PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean) IS
  'Archive new message log entries into qstash_log_archive within a request budget; a run goes on where the last one stopped';

-- The DLQ history of one server: one complete pass over the DLQ, which
-- may span runs, a page per transaction; a message is marked as gone only
-- when a complete pass did not see it.
CREATE PROCEDURE qstash_archive_dlq(
  server name DEFAULT NULL,
  max_requests integer DEFAULT 100,
  INOUT added bigint DEFAULT NULL,
  INOUT present bigint DEFAULT NULL,
  INOUT left_dlq bigint DEFAULT NULL,
  INOUT pass_complete boolean DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  r @extschema@.qstash_archive_run;
BEGIN
  r := @extschema@.qstash_archive_start('dlq', server, max_requests);
  COMMIT;
  LOOP
    r := @extschema@.qstash_archive_next(r);
    EXIT WHEN r.done;
    r := @extschema@.qstash_archive_dlq_step(r);
    COMMIT;
    EXIT WHEN r.done;
  END LOOP;
  r := @extschema@.qstash_archive_finish(r);
  COMMIT;
  PERFORM @extschema@.qstash_archive_raise(r);
  added := r.rows_added;
  present := r.rows_present;
  left_dlq := r.rows_left;
  pass_complete := r.caught_up;
END
$$;

COMMENT ON PROCEDURE qstash_archive_dlq(name, integer, bigint, bigint, bigint, boolean) IS
  'Update qstash_dlq_history within a request budget: messages added, seen again, and gone after a complete pass';

-- Start an archive afresh, or from a given time: forgets the progress
-- (the rows stay; entries read again are not stored twice).
CREATE FUNCTION qstash_archive_reset(server name, kind text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
BEGIN
  IF server IS NULL THEN
    RAISE EXCEPTION 'server must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF kind IS NOT NULL AND kind NOT IN ('logs', 'dlq') THEN
    RAISE EXCEPTION 'invalid archive kind "%"', kind
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Name a server, and kind ''logs'', ''dlq'' or NULL for both.';
  END IF;
  IF since IS NOT NULL AND (NOT isfinite(since) OR since > now()
                           OR since < timestamptz '1970-01-01 00:00:00+00') THEN
    RAISE EXCEPTION 'since must be a time between 1970 and now'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF since IS NOT NULL AND kind IS DISTINCT FROM 'logs' THEN
    RAISE EXCEPTION 'since applies to the log archive only'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass kind => ''logs''; the DLQ history has no time to start from.';
  END IF;
  IF since IS NULL THEN
    DELETE FROM @extschema@.qstash_archive_state s
     WHERE s.server = qstash_archive_reset.server
       AND (qstash_archive_reset.kind IS NULL OR s.kind = qstash_archive_reset.kind);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
  END IF;
  INSERT INTO @extschema@.qstash_archive_state AS s (server, kind, archived_from, archived_to, window_size)
  VALUES (server, 'logs', since, since, interval '1 day')
  ON CONFLICT ON CONSTRAINT qstash_archive_state_pkey DO UPDATE
     SET archived_to = excluded.archived_to,
         archived_from = least(s.archived_from, excluded.archived_from),
         server_oid = NULL, origin = NULL, caught_up = false,
         window_from = NULL, window_to = NULL, window_floor = NULL, window_rows = NULL,
         window_oldest = NULL, next_cursor = NULL;
  RETURN 1;
END
$$;

COMMENT ON FUNCTION qstash_archive_reset(name, text, timestamptz) IS
  'Forget the progress of an archive (rows stay): the next run starts with its backfill, or at since';

REVOKE ALL ON FUNCTION qstash_log_pages(timestamptz, timestamptz, text, integer, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_dlq_pages(text, integer, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_last_cursor() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_origin() FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_claim(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_start(text, name, integer, interval, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_failed(qstash_archive_run, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_budget(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_logs_window(qstash_archive_run, qstash_archive_state) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_logs_window_done(qstash_archive_run, qstash_archive_state) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_next(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_progress(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_page_loop(qstash_archive_run, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_logs_step(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_dlq_step(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_finish(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_raise(qstash_archive_run) FROM PUBLIC;
REVOKE ALL ON PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE qstash_archive_dlq(name, integer, bigint, bigint, bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_archive_reset(name, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON qstash_archive_status FROM PUBLIC;

------------------------------------------------------------------------
-- A DBA's first hour (issue 21): the rate-limit view has one row per
-- server, API and kind; one call gives a role what reading, or running
-- the pg_cron jobs, needs; \dx, \df and \d+ describe the extension.
------------------------------------------------------------------------
COMMENT ON EXTENSION qstash IS
  'Upstash QStash as SQL: instances, limits, usage, message log, DLQ, schedules, queues, URL groups, flow control; pg_cron snapshots and a log/DLQ archive';

-- The developer API and the QStash API have rate limits of their own: the
-- view names the API, so their burst limits are two rows, not one row
-- that alternates between them.
DROP VIEW qstash_rate_limits;
DROP FUNCTION qstash_rate_limits();
CREATE FUNCTION qstash_rate_limits(
  OUT server text, OUT api text, OUT kind text, OUT "limit" bigint, OUT remaining bigint,
  OUT reset_at timestamptz, OUT observed_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'qstash_rate_limits'
LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 4;
COMMENT ON FUNCTION qstash_rate_limits() IS
  'The rows of the view qstash_rate_limits (its readers need EXECUTE on this function too)';

CREATE VIEW qstash_rate_limits AS SELECT * FROM @extschema@.qstash_rate_limits();
COMMENT ON VIEW qstash_rate_limits IS
  'The last rate-limit figures seen per server, API and kind (this session''s; with shared_preload_libraries = ''qstash'', every session''s), for the servers the current role has USAGE on';
REVOKE ALL ON FUNCTION qstash_rate_limits() FROM PUBLIC;
REVOKE ALL ON qstash_rate_limits FROM PUBLIC;

-- (The grant functions take text: a look-alike taking text in a schema
-- earlier in the caller's search_path would win over a name parameter for
-- an untyped literal; in the extension's schema it cannot be created.)
-- One step for a role that reads: USAGE on the servers of qstash_fdw (or
-- the one named), EXECUTE on the functions that read the APIs, SELECT on
-- the extension's tables and views and on the foreign tables of those
-- servers, USAGE on the schemas that hold them.  It grants what exists
-- when it runs (run it again after importing more foreign tables) and only
-- what the caller may grant: every privilege is checked first, and nothing
-- is granted when one is missing.  Returns the statements it ran.
CREATE FUNCTION qstash_grant_reader(role text, server text DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ext_oid oid := (SELECT e.oid FROM pg_extension e WHERE e.extname = 'qstash');
  routines name[] := ARRAY['qstash_users', 'qstash_stats', 'qstash_stats_summary', 'qstash_ipv4',
                           'qstash_logs', 'qstash_dlq', 'qstash_schedules', 'qstash_queues',
                           'qstash_url_groups', 'qstash_flow_control', 'qstash_global_parallelism',
                           'qstash_rate_limits', 'qstash_requests_sent'];
  plan text[][];
  i integer;
BEGIN
  IF role IS NULL THEN
    RAISE EXCEPTION 'role must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF role = 'public' THEN
    RAISE EXCEPTION 'nothing is granted to PUBLIC'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Name a role (CREATE ROLE reporting LOGIN), and give it a user mapping.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
    RAISE EXCEPTION 'role "%" does not exist', role
      USING ERRCODE = 'undefined_object',
            HINT = format('Create it first (CREATE ROLE %I LOGIN), then call this again.', role);
  END IF;
  IF server IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
        WHERE w.fdwname = 'qstash_fdw' AND s.srvname = server) THEN
    RAISE EXCEPTION 'server "%" does not exist', server
      USING ERRCODE = 'undefined_object',
            HINT = 'Name a server of the foreign-data wrapper qstash_fdw, or NULL for all of them.';
  END IF;
  -- {what, may the caller grant it, statement}, in the order they run
  SELECT array_agg(ARRAY[g.what, g.may::text, g.stmt] ORDER BY g.ord, g.stmt) INTO plan
    FROM (
      WITH servers AS (
        SELECT s.oid, s.srvname FROM pg_foreign_server s
          JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
         WHERE w.fdwname = 'qstash_fdw'
           AND (qstash_grant_reader.server IS NULL OR s.srvname = qstash_grant_reader.server)
      ), members AS (
        SELECT d.classid, d.objid FROM pg_depend d
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext_oid AND d.deptype = 'e'
      ), foreign_tables AS (
        SELECT c.oid, c.relnamespace FROM pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid
         WHERE t.ftserver IN (SELECT oid FROM servers)
      )
      SELECT 1 AS ord, format('foreign server %I', s.srvname) AS what,
             has_server_privilege(s.oid, 'USAGE WITH GRANT OPTION') AS may,
             format('GRANT USAGE ON FOREIGN SERVER %I TO %I', s.srvname, role) AS stmt
        FROM servers s
      UNION ALL
      -- the extension's schema and those of the foreign tables, unless the
      -- role may use them already (public, say)
      SELECT 2, format('schema %I', n.nspname),
             has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION'),
             format('GRANT USAGE ON SCHEMA %I TO %I', n.nspname, role)
        FROM pg_namespace n
       WHERE (n.oid = (SELECT e.extnamespace FROM pg_extension e WHERE e.oid = ext_oid)
              OR n.oid IN (SELECT relnamespace FROM foreign_tables))
         AND NOT has_schema_privilege(role, n.oid, 'USAGE')
      UNION ALL
      SELECT 3, format('function %s', p.oid::regprocedure),
             has_function_privilege(p.oid, 'EXECUTE WITH GRANT OPTION'),
             format('GRANT EXECUTE ON FUNCTION %s TO %I', p.oid::regprocedure, role)
        FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
       WHERE p.proname = ANY (routines)
      UNION ALL
      SELECT 4, format('table %s', c.oid::regclass),
             has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION'),
             format('GRANT SELECT ON %s TO %I', c.oid::regclass, role)
        FROM pg_class c
       WHERE c.oid IN (SELECT m.objid FROM members m WHERE m.classid = 'pg_class'::regclass)
         AND c.relkind IN ('r', 'v', 'm', 'p')
      UNION ALL
      SELECT 5, format('foreign table %s', f.oid::regclass),
             has_table_privilege(f.oid, 'SELECT WITH GRANT OPTION'),
             format('GRANT SELECT ON %s TO %I', f.oid::regclass, role)
        FROM foreign_tables f
    ) g;
  FOR i IN 1 .. coalesce(array_length(plan, 1), 0) LOOP
    IF NOT plan[i][2]::boolean THEN
      RAISE EXCEPTION 'permission denied to grant access to %', plan[i][1]
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Nothing was granted.',
              HINT = 'Run it as the owner of the extension''s objects, of the servers and of the foreign tables, or as a superuser.';
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(plan, 1), 0) LOOP
    EXECUTE plan[i][3];
    RETURN NEXT plan[i][3];
  END LOOP;
END
$$;
COMMENT ON FUNCTION qstash_grant_reader(text, text) IS
  'Let a role read everything read-only: USAGE on the servers (all of qstash_fdw, or the one named), EXECUTE on the reading functions, SELECT on the tables, views and foreign tables; returns the GRANTs it ran';

-- One step for the role that runs the pg_cron jobs (snapshots and the
-- archive): USAGE on the servers, EXECUTE on the snapshot and archive
-- routines and every function they call (qstash_archive_reset included),
-- SELECT, INSERT and UPDATE on the tables they write and DELETE on the
-- progress (a reset without since), SELECT on qstash_archive_status.  Those
-- table privileges let it write any server's rows: grant them to that role
-- only.
-- (Each grant function is whole in itself, checks and loop included: EXECUTE
-- on it is all a role needs, with no internal helper to grant as well.)
CREATE FUNCTION qstash_grant_archiver(role text, server text DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ext_oid oid := (SELECT e.oid FROM pg_extension e WHERE e.extname = 'qstash');
  routines name[] := ARRAY['qstash_snapshot_stats', 'qstash_snapshot_summary', 'qstash_stats',
                           'qstash_stats_summary', 'qstash_requests_sent', 'qstash_log_pages',
                           'qstash_dlq_pages', 'qstash_last_cursor'];
  written name[] := ARRAY['qstash_stats_history', 'qstash_stats_summary_history',
                          'qstash_log_archive', 'qstash_dlq_history', 'qstash_archive_state'];
  plan text[][];
  i integer;
BEGIN
  IF role IS NULL THEN
    RAISE EXCEPTION 'role must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF role = 'public' THEN
    RAISE EXCEPTION 'nothing is granted to PUBLIC'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Name a role (CREATE ROLE reporting LOGIN), and give it a user mapping.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
    RAISE EXCEPTION 'role "%" does not exist', role
      USING ERRCODE = 'undefined_object',
            HINT = format('Create it first (CREATE ROLE %I LOGIN), then call this again.', role);
  END IF;
  IF server IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
        WHERE w.fdwname = 'qstash_fdw' AND s.srvname = server) THEN
    RAISE EXCEPTION 'server "%" does not exist', server
      USING ERRCODE = 'undefined_object',
            HINT = 'Name a server of the foreign-data wrapper qstash_fdw, or NULL for all of them.';
  END IF;
  SELECT array_agg(ARRAY[g.what, g.may::text, g.stmt] ORDER BY g.ord, g.stmt) INTO plan
    FROM (
      WITH members AS (
        SELECT d.classid, d.objid FROM pg_depend d
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext_oid AND d.deptype = 'e'
      )
      SELECT 1 AS ord, format('foreign server %I', s.srvname) AS what,
             has_server_privilege(s.oid, 'USAGE WITH GRANT OPTION') AS may,
             format('GRANT USAGE ON FOREIGN SERVER %I TO %I', s.srvname, role) AS stmt
        FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
       WHERE w.fdwname = 'qstash_fdw'
         AND (qstash_grant_archiver.server IS NULL OR s.srvname = qstash_grant_archiver.server)
      UNION ALL
      SELECT 2, format('schema %I', n.nspname),
             has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION'),
             format('GRANT USAGE ON SCHEMA %I TO %I', n.nspname, role)
        FROM pg_namespace n
       WHERE n.oid = (SELECT e.extnamespace FROM pg_extension e WHERE e.oid = ext_oid)
         AND NOT has_schema_privilege(role, n.oid, 'USAGE')
      UNION ALL
      -- the procedures, and every function they call
      SELECT 3, format('routine %s', p.oid::regprocedure),
             has_function_privilege(p.oid, 'EXECUTE WITH GRANT OPTION'),
             format('GRANT EXECUTE ON ROUTINE %s TO %I', p.oid::regprocedure, role)
        FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
       WHERE p.proname = ANY (routines) OR p.proname LIKE 'qstash\_archive\_%'
      UNION ALL
      SELECT 4, format('table %s', c.oid::regclass),
             has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION')
             AND has_table_privilege(c.oid, 'INSERT WITH GRANT OPTION')
             AND has_table_privilege(c.oid, 'UPDATE WITH GRANT OPTION'),
             format('GRANT SELECT, INSERT, UPDATE ON %s TO %I', c.oid::regclass, role)
        FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
       WHERE c.relname = ANY (written)
      UNION ALL
      SELECT 4, format('table %s', c.oid::regclass),
             has_table_privilege(c.oid, 'DELETE WITH GRANT OPTION'),
             format('GRANT DELETE ON %s TO %I', c.oid::regclass, role)
        FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
       WHERE c.relname = 'qstash_archive_state'
      UNION ALL
      SELECT 5, format('view %s', c.oid::regclass),
             has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION'),
             format('GRANT SELECT ON %s TO %I', c.oid::regclass, role)
        FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
       WHERE c.relname = 'qstash_archive_status'
    ) g;
  FOR i IN 1 .. coalesce(array_length(plan, 1), 0) LOOP
    IF NOT plan[i][2]::boolean THEN
      RAISE EXCEPTION 'permission denied to grant access to %', plan[i][1]
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Nothing was granted.',
              HINT = 'Run it as the owner of the extension''s objects and of the servers, or as a superuser.';
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(plan, 1), 0) LOOP
    EXECUTE plan[i][3];
    RETURN NEXT plan[i][3];
  END LOOP;
END
$$;
COMMENT ON FUNCTION qstash_grant_archiver(text, text) IS
  'Let the role that runs the pg_cron jobs snapshot and archive: USAGE on the servers, EXECUTE on the snapshot and archive routines, SELECT, INSERT and UPDATE on their tables (and DELETE on the progress, for resets); returns the GRANTs it ran';

REVOKE ALL ON FUNCTION qstash_grant_reader(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION qstash_grant_archiver(text, text) FROM PUBLIC;

-- \df qstash*: what is not for users says so.  The archive's helpers are
-- called by its procedures (EXECUTE on them goes with qstash_grant_archiver);
-- they are found by name, so that a helper added or changed later is
-- commented too.
COMMENT ON FUNCTION qstash_fdw_handler() IS 'Internal: the handler of the foreign-data wrapper qstash_fdw';
COMMENT ON FUNCTION qstash_fdw_validator(text[], oid) IS
  'Internal: the option validator of the foreign-data wrapper qstash_fdw';
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS fn,
           coalesce(v.txt, 'Internal (the archive): a step of qstash_archive_logs() or qstash_archive_dlq()') AS txt
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash'
      LEFT JOIN (VALUES
        ('qstash_archive_server', 'Internal (the archive): the server named, or the only server of qstash_fdw'),
        ('qstash_archive_origin', 'Internal (the archive): the cluster and database where the progress is recorded'),
        ('qstash_archive_claim', 'Internal (the archive): the progress row of a server and kind, locked, its server checked'),
        ('qstash_archive_start', 'Internal (the archive): the start of a run'),
        ('qstash_archive_failed', 'Internal (the archive): record the error that ends a run'),
        ('qstash_archive_budget', 'Internal (the archive): the requests left in a run''s budget'),
        ('qstash_archive_logs_window', 'Internal (the log archive): the next time window to read'),
        ('qstash_archive_logs_window_done', 'Internal (the log archive): a window read to its end, and the size of the next'),
        ('qstash_archive_logs_step', 'Internal (the log archive): one page of a run'),
        ('qstash_archive_dlq_step', 'Internal (the DLQ history): one page of a run'),
        ('qstash_archive_finish', 'Internal (the archive): record what a run did'),
        ('qstash_archive_raise', 'Internal (the archive): raise the error that ended a run')
      ) v(name, txt) ON v.name = p.proname
     WHERE p.proname LIKE 'qstash\_archive\_%' AND p.prokind = 'f'
       AND p.proname <> 'qstash_archive_reset'
       AND obj_description(p.oid, 'pg_proc') IS NULL
  LOOP
    EXECUTE format('COMMENT ON FUNCTION %s IS %L', f.fn, f.txt);
  END LOOP;
END
$$;
COMMENT ON TYPE qstash_archive_run IS
  'Internal (the archive): what a run carries between its transactions';

-- \dT+ and \d+: the row types and tables users read, and their columns.
COMMENT ON TYPE qstash_stats_point IS 'A row of qstash_stats(): one data point of a usage series';
COMMENT ON TYPE qstash_stats_summary_row IS 'A row of qstash_stats_summary(): one instance';
COMMENT ON TYPE qstash_log_entry IS 'A row of qstash_logs(): one message log entry';
COMMENT ON TYPE qstash_dlq_message IS 'A row of qstash_dlq(): one message of the dead letter queue';

-- Column comments, written once per meaning: each applies to every listed
-- relation (row type, table or view) that has the column.
DO $$
DECLARE
  c record;
  stats text[] := ARRAY['qstash_stats_point', 'qstash_stats_history'];
  summary text[] := ARRAY['qstash_stats_summary_row', 'qstash_stats_summary_history'];
  messages text[] := ARRAY['qstash_log_entry', 'qstash_dlq_message', 'qstash_log_archive',
                           'qstash_dlq_history'];
  logs text[] := ARRAY['qstash_log_entry', 'qstash_log_archive'];
  dlq text[] := ARRAY['qstash_dlq_message', 'qstash_dlq_history'];
  archive text[] := ARRAY['qstash_archive_state', 'qstash_archive_status'];
BEGIN
  FOR c IN
    SELECT rel, col, txt FROM (VALUES
      (stats, 'qstash_id', 'The QStash instance (qstash_users().id)'),
      (stats, 'period', 'The period asked for: 1h, 3h, 12h, 1d, 3d, 7d or 30d'),
      (stats, 'metric', 'The series: daily_requests, daily_billings, daily_bandwidths, daily_used, daily_used_workflow, daily_bandwidth_used, daily_qstash_messages, daily_workflow_messages, ...'),
      (stats, 'series', 'The breakdown (delivered, failed, ...); workflow_message and workflow_run for the extra numbers of daily_requests; NULL for the total: sum totals WHERE series IS NULL'),
      (stats, 'ts', 'Time of the point; the daily_* series of the month are at midnight UTC: the day is (ts AT TIME ZONE ''UTC'')::date'),
      (stats, 'value', 'The number exactly as sent (daily_billings in USD)'),
      (ARRAY['qstash_stats_history', 'qstash_stats_summary_history'], 'fetched_at',
       'When a snapshot stored the row (or changed its value)'),
      (summary, 'qstash_id', 'The QStash instance (qstash_users().id)'),
      (summary, 'period', 'The period asked for'),
      (summary, 'dlq_message_count', 'Messages in the dead letter queue'),
      (summary, 'total_monthly_billing', 'Billing of the month so far, USD'),
      (summary, 'days', 'The labels of the days the daily series cover, as sent'),
      (messages, 'message_id', 'The message (msg_...)'),
      (messages, 'url', 'The destination URL'),
      (messages, 'topic_name', 'The URL group the message was published to, if any'),
      (messages, 'endpoint_name', 'The endpoint of the URL group, if any'),
      (messages, 'schedule_id', 'The schedule that created the message, if any'),
      (messages, 'queue_name', 'The queue of the message, if any'),
      (messages, 'method', 'The HTTP method of the delivery'),
      (messages, 'header', 'The headers of the message, as sent (jsonb: name -> array of values)'),
      (messages, 'body', 'The body of the message (decoded from base64)'),
      (messages, 'body_text', 'The same bytes as text when they are valid UTF-8, else NULL'),
      (messages, 'response_status', 'HTTP status of the last delivery attempt'),
      (messages, 'response_headers', 'Headers of the last delivery''s response (jsonb)'),
      (messages, 'response_header', 'Headers of the last delivery''s response (jsonb)'),
      (messages, 'response_body', 'Body of the last delivery''s response'),
      (messages, 'response_body_text', 'The same bytes as text when they are valid UTF-8, else NULL'),
      (messages, 'max_retries', 'Retries allowed'),
      (messages, 'retry_delay_expression', 'The retry delay expression, if set'),
      (messages, 'callback', 'The callback URL, if any'),
      (messages, 'callback_headers', 'Headers sent to the callback (jsonb)'),
      (messages, 'callback_header', 'Headers sent to the callback (jsonb)'),
      (messages, 'failure_callback', 'The failure callback URL, if any'),
      (messages, 'failure_callback_headers', 'Headers sent to the failure callback (jsonb)'),
      (messages, 'failure_callback_header', 'Headers sent to the failure callback (jsonb)'),
      (messages, 'label', 'The label of the message'),
      (messages, 'labels', 'Every label of the message'),
      (messages, 'flow_control_key', 'The flow-control key, if any'),
      (messages, 'parallelism', 'Flow control: deliveries at once'),
      (messages, 'rate', 'Flow control: deliveries per period'),
      (messages, 'period', 'Flow control: the rate''s period, seconds'),
      (messages, 'extra', 'Every field this version does not know yet (NULL when none)'),
      (logs, 'time', 'When the state was entered'),
      (logs, 'state', 'CREATED, ACTIVE, RETRY, ERROR, DELIVERED, FAILED, CANCEL_REQUESTED or CANCELLED'),
      (logs, 'error', 'The error of a failed attempt'),
      (logs, 'next_delivery_time', 'When the next attempt is due'),
      (logs, 'timeout', 'Delivery timeout, milliseconds'),
      (dlq, 'dlq_id', 'The id of the message in the DLQ (to retry or delete it)'),
      (dlq, 'created_at', 'When the message was created'),
      (dlq, 'not_before', 'The earliest delivery time the message was published with'),
      (dlq, 'caller_ip', 'The address the message was published from'),
      (ARRAY['qstash_log_archive', 'qstash_dlq_history'], 'server', 'The foreign server the row was read from'),
      (ARRAY['qstash_log_archive'], 'archived_at', 'When the archive stored the entry'),
      (ARRAY['qstash_dlq_history'], 'first_seen', 'The first run that saw the message in the DLQ'),
      (ARRAY['qstash_dlq_history'], 'last_seen', 'The last run that saw it'),
      (ARRAY['qstash_dlq_history'], 'left_at', 'When a complete pass first missed it (retried, deleted or expired); NULL while it is in the DLQ'),
      (archive, 'server', 'The foreign server archived'),
      (archive, 'kind', 'logs (the message log) or dlq (the DLQ history)'),
      (archive, 'archived_from', 'Logs: where the archive began'),
      (archive, 'archived_to', 'Logs: the archive is complete up to this time; dlq: the start of the last complete pass'),
      (archive, 'caught_up', 'The last run reached the present (logs) or completed a pass (dlq)'),
      (archive, 'last_run_at', 'When the last run started'),
      (archive, 'last_run_requests', 'HTTP requests of the last run'),
      (archive, 'last_run_rows', 'Rows the last run read'),
      (archive, 'last_success_at', 'When the last run without error started'),
      (archive, 'last_error', 'The error of the last run, until a run succeeds'),
      (archive, 'last_error_at', 'When it happened'),
      (archive, 'window_size', 'Logs: the size of the next time window'),
      (archive, 'pass_started_at', 'Dlq: when the pass being read began'),
      (ARRAY['qstash_archive_state'], 'server_oid', 'The OID of the server the progress was made for'),
      (ARRAY['qstash_archive_state'], 'origin', 'The cluster and database where server_oid was recorded'),
      (ARRAY['qstash_archive_state'], 'window_from', 'Logs: the start of the window being read'),
      (ARRAY['qstash_archive_state'], 'window_to', 'Logs: its end'),
      (ARRAY['qstash_archive_state'], 'window_floor', 'Logs: entries at or before it were read before (the overlap)'),
      (ARRAY['qstash_archive_state'], 'window_rows', 'Logs: rows read of the window so far'),
      (ARRAY['qstash_archive_state'], 'window_oldest', 'Logs: the oldest time read of the window so far (its pages go newest first)'),
      (ARRAY['qstash_archive_state'], 'pass', 'Dlq: the number of the pass being read, or of the last one'),
      (ARRAY['qstash_dlq_history'], 'seen_pass', 'The DLQ pass that last saw the message (NULL: before 0.3.0)'),
      (ARRAY['qstash_archive_state'], 'next_cursor', 'The API''s cursor of the next page of the window or pass being read'),
      (ARRAY['qstash_archive_state'], 'overlap', 'Logs: the overlap of the last run'),
      (ARRAY['qstash_archive_state'], 'entry_rate', 'Logs: entries a second in the windows read lately'),
      (ARRAY['qstash_archive_state'], 'previous_run_at', 'When the run before the last started'),
      (ARRAY['qstash_archive_status'], 'rows', 'Logs: entries archived; dlq: messages in the DLQ'),
      (ARRAY['qstash_archive_status'], 'reading', 'Logs: the window being read'),
      (ARRAY['qstash_archive_status'], 'run_interval', 'Time between the last two runs'),
      (ARRAY['qstash_archive_status'], 'entry_rate', 'Logs: entries a second in the windows read lately'),
      (ARRAY['qstash_archive_status'], 'requests_needed', 'Logs: the max_requests a run at this interval needs to keep up'),
      (ARRAY['qstash_rate_limits'], 'server', 'The foreign server'),
      (ARRAY['qstash_rate_limits'], 'api', 'developer (api_url, email and api_key) or qstash (qstash_url, token): each has limits of its own'),
      (ARRAY['qstash_rate_limits'], 'kind', 'burst (per second), daily, chat_requests or chat_tokens'),
      (ARRAY['qstash_rate_limits'], 'limit', 'The limit the API announced'),
      (ARRAY['qstash_rate_limits'], 'remaining', 'What was left of it; NULL when unknown (a later success without the headers)'),
      (ARRAY['qstash_rate_limits'], 'reset_at', 'When it resets'),
      (ARRAY['qstash_rate_limits'], 'observed_at', 'When a response carried these figures')
    ) v(rels, col, txt), unnest(v.rels) AS rel
  LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = format('@extschema@.%I', c.rel)::regclass
                  AND a.attname = c.col AND NOT a.attisdropped) THEN
      EXECUTE format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', c.rel, c.col, c.txt);
    END IF;
  END LOOP;
END
$$;

-- Grants on what was dropped and created anew (recorded at the top)
DO $$
DECLARE
  g record;
  f regprocedure;
BEGIN
  FOR g IN SELECT DISTINCT object, grantee::regrole AS grantee, privilege_type
             FROM qstash_upgrade_grants ORDER BY 1, 2, 3 LOOP
    IF g.object IN ('qstash_archive_status', 'qstash_rate_limits') AND g.privilege_type <> 'EXECUTE' THEN
      EXECUTE format('GRANT %s ON %I.%I TO %s', g.privilege_type, '@extschema@', g.object, g.grantee);
    ELSIF g.object = 'qstash_rate_limits' THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %I.qstash_rate_limits() TO %s', '@extschema@', g.grantee);
    ELSE
      -- an archiving role: the new procedures and every routine they call
      FOR f IN SELECT p.oid FROM pg_proc p
                WHERE p.pronamespace = '@extschema@'::regnamespace
                  AND (p.proname LIKE 'qstash\_archive\_%' OR p.proname IN
                       ('qstash_requests_sent', 'qstash_log_pages', 'qstash_dlq_pages', 'qstash_last_cursor'))
                  AND p.proname NOT IN ('qstash_archive_reset') LOOP
        EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO %s', f, g.grantee);
      END LOOP;
    END IF;
  END LOOP;
END
$$;
DROP TABLE qstash_upgrade_grants;
