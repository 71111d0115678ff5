-- pg_qstash: the archive of the message log and the DLQ history, for
-- pg_cron, part 2: the procedures (CALLed by pg_cron, one page per
-- transaction, through the functions of archive_steps.sql), the reset and
-- the status view.  A part of the install script (see README, Layout);
-- an upgrade runs it again, with CREATE OR REPLACE.

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

-- \df qstash*: what is not for users says so.  The archive's helpers are
-- called by its procedures (EXECUTE on them goes with qstash_grant_archiver);
-- they are found by name, so that a helper added or changed later is
-- commented too.
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
