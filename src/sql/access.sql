-- pg_qstash: who may use what.  Nothing is granted to PUBLIC: the DBA
-- grants, by hand or with one of the two grant functions.  A part of the
-- install script (see README, Layout); an upgrade runs it again, with
-- CREATE OR REPLACE.

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

-- Nothing is granted to PUBLIC: every routine, table and view of the
-- extension that this script created (all of them on an install; on an
-- update, what upgrade.sql did not list as there before) loses PUBLIC's
-- privileges, whatever it was given on creation (default privileges of
-- the installing role included).  Written once for all, so that no new
-- object can miss it; an update leaves the privileges of the objects it
-- keeps as they are.
DO $$
DECLARE
  o record;
  kept_routines oid[] := '{}';
  kept_relations oid[] := '{}';
BEGIN
  IF to_regclass('pg_temp.qstash_upgrade_kept') IS NOT NULL THEN
    EXECUTE $q$
      SELECT coalesce(array_agg(objid) FILTER (WHERE classid = 'pg_proc'::regclass), '{}'),
             coalesce(array_agg(objid) FILTER (WHERE classid = 'pg_class'::regclass), '{}')
        FROM pg_temp.qstash_upgrade_kept$q$
      INTO kept_routines, kept_relations;
  END IF;
  FOR o IN
    SELECT format('ROUTINE %s', p.oid::regprocedure) AS obj
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash'
     WHERE p.oid <> ALL (kept_routines)
    UNION ALL
    SELECT format('TABLE %s', c.oid::regclass)
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash'
     WHERE c.oid <> ALL (kept_relations) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  LOOP
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', o.obj);
  END LOOP;
END
$$;
