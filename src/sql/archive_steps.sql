-- pg_qstash: the archive of the message log and the DLQ history, for
-- pg_cron, part 1: what a run carries between its transactions and the
-- functions the procedures call (each with a fixed search_path); the
-- procedures, the reset and the status view are in archive.sql.  Listings
-- are read one page per transaction, and the cursor of the next page is
-- kept in the progress (qstash_archive_state, schema.sql), so a window or
-- a DLQ pass of any size goes on in the next run where the last one
-- stopped.  A part of the install script (see README, Layout); an upgrade
-- runs it again, with CREATE OR REPLACE, after dropping what cannot be
-- replaced: the type qstash_archive_run (there is no CREATE OR REPLACE
-- TYPE) with the routines that take it, a routine whose result or
-- arguments change, a view whose columns change.

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
COMMENT ON TYPE qstash_archive_run IS
  'Internal (the archive): what a run carries between its transactions';

-- The server an archive routine works on: the one named, or the only
-- server of qstash_fdw.
CREATE FUNCTION qstash_archive_server(server name)
RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  found name[];
BEGIN
  SELECT array_agg(s.srvname ORDER BY s.srvname) INTO found
    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
   WHERE w.fdwname = 'qstash_fdw' AND (server IS NULL OR s.srvname = server);
  IF coalesce(cardinality(found), 0) = 1 THEN
    RETURN found[1];
  END IF;
  IF server IS NOT NULL THEN
    RAISE EXCEPTION 'server "%" does not exist', server
      USING ERRCODE = 'undefined_object',
            HINT = 'Name a server of the foreign-data wrapper qstash_fdw.';
  END IF;
  RAISE EXCEPTION 'no server given, and % servers of qstash_fdw exist',
        coalesce(cardinality(found), 0)
    USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Pass server => ''name''.';
END
$$;

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
