-- pg_qstash: the upgrade from the last released version, 0.2.0, to the
-- version under development.  The Makefile builds its script from this
-- file and the parts (see README, Layout): this file up to the line
-- "-- @parts", then every part but schema.sql, as the install script has
-- them but with CREATE OR REPLACE for functions, procedures and views,
-- then the rest of this file.  So an upgraded database and a fresh one
-- get their routines, views and comments from the same text, and this
-- file holds only what the parts cannot do: keep grants, change the
-- tables, drop what the parts create anew with another shape.  (The
-- `upgrade` regression test compares an upgraded database with a fresh
-- one, object by object.)

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

-- The member objects that exist before the update: the parts revoke
-- PUBLIC's privileges on every other one (created or created anew here),
-- and leave these as they are (access.sql).
CREATE TEMP TABLE qstash_upgrade_kept ON COMMIT DROP AS
  SELECT d.classid, d.objid
    FROM pg_depend d, pg_extension e
   WHERE e.extname = 'qstash' AND d.refobjid = e.oid
     AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e';

-- \dx: an update does not take the comment of the control file.
COMMENT ON EXTENSION qstash IS
  'Upstash QStash as SQL: instances, limits, usage, message log, DLQ, schedules, queues, URL groups, flow control; pg_cron snapshots and a log/DLQ archive';

-- Snapshots keyed by period: a '3h' snapshot no longer rewrites the
-- points of a '1h' one.  Rows kept by 0.2.0 came from the default period.
ALTER TABLE qstash_stats_history ADD COLUMN period text NOT NULL DEFAULT '1h';
ALTER TABLE qstash_stats_history ALTER COLUMN period DROP DEFAULT;
ALTER TABLE qstash_stats_history DROP CONSTRAINT qstash_stats_history_key;
ALTER TABLE qstash_stats_history ADD CONSTRAINT qstash_stats_history_key
  UNIQUE NULLS NOT DISTINCT (qstash_id, metric, series, period, ts);

-- The archive, rebuilt to never stall: its tables get their new columns
-- (schema.sql says what they hold); its old routines, their run type and
-- the status view go, and archive_steps.sql and archive.sql create the new
-- ones.
-- One spelling across both archives: the log archive says *_headers.
ALTER TABLE qstash_dlq_history RENAME COLUMN response_header TO response_headers;
ALTER TABLE qstash_dlq_history RENAME COLUMN callback_header TO callback_headers;
ALTER TABLE qstash_dlq_history RENAME COLUMN failure_callback_header TO failure_callback_headers;
-- the DLQ pass that last saw a message (NULL: before 0.3.0)
ALTER TABLE qstash_dlq_history ADD COLUMN seen_pass bigint;
-- the progress of a window or a pass being read, and where it was recorded
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

DROP VIEW qstash_archive_status;
DROP PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean, text);
DROP FUNCTION qstash_archive_logs_start(name, integer, interval, interval);
DROP FUNCTION qstash_archive_logs_step(qstash_archive_run);
DROP FUNCTION qstash_archive_logs_finish(qstash_archive_run);
DROP FUNCTION qstash_archive_dlq(name);
DROP TYPE qstash_archive_run;

-- The rate-limit view gets an api column: the function under it changes
-- its result columns, so both are created anew (functions.sql).
DROP VIEW qstash_rate_limits;
DROP FUNCTION qstash_rate_limits();

-- @parts: here the Makefile puts the parts an upgrade runs again

-- Progress recorded by 0.2.0 was recorded in this database (a 0.2.0 dump
-- restored into 0.3.0 has none here: its rows come later, by COPY).
UPDATE qstash_archive_state SET origin = qstash_archive_origin();

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
DROP TABLE qstash_upgrade_kept;
