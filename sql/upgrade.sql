--
-- upgrade: ALTER EXTENSION qstash UPDATE from the released 0.1.0 gives
-- exactly the objects of a fresh install of the current version
--
SET client_min_messages = warning;

-- Every member object of the extension with everything that defines it:
-- its definition, owner-independent privileges and comment (and those of
-- its columns), named (never by OID, which differ between the two installs).
CREATE FUNCTION ext_objects() RETURNS TABLE (object text, definition text)
LANGUAGE sql AS $$
  WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND e.extname = 'qstash'
       -- from PostgreSQL 18 on, the row types of its tables and views and
       -- the array types are members too: they follow from the tables and
       -- types, which are compared
       AND NOT EXISTS (SELECT FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
                        WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid
                          AND (t.typelem <> 0 OR c.relkind IN ('r', 'v', 'm', 'f', 'p'))))
  SELECT pg_describe_object(m.classid, m.objid, 0),
         concat_ws(E'\n',
           CASE m.classid
             WHEN 'pg_proc'::regclass THEN
               (SELECT pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, 'default')
                  FROM pg_proc p WHERE p.oid = m.objid)
             WHEN 'pg_class'::regclass THEN
               (SELECT c.relkind::text || ' acl ' || coalesce(c.relacl::text, 'default') || ' ' ||
                       coalesce(pg_get_viewdef(c.oid), '') || ' ' ||
                       coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ||
                                                   CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
                                                   coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '') ||
                                                   coalesce(' comment ' || col_description(a.attrelid, a.attnum), ''),
                                                   ', ' ORDER BY a.attnum)
                                   FROM pg_attribute a
                                   LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ' ' ||
                       coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY 1)
                                   FROM pg_index i WHERE i.indrelid = c.oid), '') || ' ' ||
                       coalesce((SELECT string_agg(pg_get_constraintdef(k.oid), '; ' ORDER BY 1)
                                   FROM pg_constraint k WHERE k.conrelid = c.oid), '')
                  FROM pg_class c WHERE c.oid = m.objid)
             WHEN 'pg_type'::regclass THEN
               (SELECT format_type(t.oid, NULL) || ' ' || t.typtype::text || ' ' ||
                       coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ||
                                                   coalesce(' comment ' || col_description(a.attrelid, a.attnum), ''),
                                                   ', ' ORDER BY a.attnum)
                                   FROM pg_attribute a
                                  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '')
                  FROM pg_type t WHERE t.oid = m.objid)
             WHEN 'pg_foreign_data_wrapper'::regclass THEN
               (SELECT w.fdwhandler::regproc || ' ' || w.fdwvalidator::regproc || ' ' ||
                       coalesce(w.fdwoptions::text, '') || ' acl ' || coalesce(w.fdwacl::text, 'default')
                  FROM pg_foreign_data_wrapper w WHERE w.oid = m.objid)
             ELSE 'unchecked class ' || m.classid::regclass
           END,
           'comment: ' || obj_description(m.objid, m.classid::regclass::name))
    FROM members m
  UNION ALL
  SELECT 'comment on extension qstash', obj_description(e.oid, 'pg_extension')
    FROM pg_extension e WHERE e.extname = 'qstash'
  UNION ALL
  -- the tables pg_dump dumps, and their conditions
  SELECT 'extension configuration', array_to_string(ARRAY(
           SELECT c::regclass::text || coalesce(' ' || w, '')
             FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(c, w)
            WHERE e.extname = 'qstash' ORDER BY 1), ', ')
$$;

CREATE EXTENSION qstash VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'qstash';
ALTER EXTENSION qstash UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'qstash') AS current
  FROM pg_extension WHERE extname = 'qstash';
CREATE TEMP TABLE upgraded AS SELECT * FROM ext_objects();
DROP EXTENSION qstash;
CREATE EXTENSION qstash;
CREATE TEMP TABLE fresh AS SELECT * FROM ext_objects();

-- what it compares: every kind of member object
SELECT split_part(object, ' ', 1) AS kind, count(*) FROM fresh GROUP BY 1 ORDER BY 1;
-- and the differences: none
SELECT 'only after the update' AS side, * FROM (TABLE upgraded EXCEPT TABLE fresh) u
UNION ALL
SELECT 'only in a fresh install', * FROM (TABLE fresh EXCEPT TABLE upgraded) f
ORDER BY 1, 2;
SELECT count(*) = (SELECT count(*) FROM fresh) AS same_count FROM upgraded;

-- every update path from 0.1.0 reaches the current version
SELECT source, target, path FROM pg_extension_update_paths('qstash')
 WHERE source = '0.1.0' AND path IS NOT NULL ORDER BY target;
DROP EXTENSION qstash;

-- from 0.2.0 too, with what a 0.2.0 database holds: history points get the
-- period the default snapshot used ('1h'), the DLQ history's columns their
-- new names, and the progress is kept (adopted by the next run)
CREATE EXTENSION qstash VERSION '0.2.0';
INSERT INTO qstash_stats_history (qstash_id, metric, series, ts, value)
VALUES ('99a4c327-31f0-490f-a594-043ade84085a', 'daily_used', NULL, '2026-11-18 12:00+00', 5),
       ('99a4c327-31f0-490f-a594-043ade84085a', 'daily_qstash_messages', 'delivered', '2026-11-18 12:00+00', 7);
INSERT INTO qstash_dlq_history (server, dlq_id, response_header, callback_header, first_seen, last_seen)
VALUES ('upstash', 'dlq_1', '{"A": ["b"]}', '{"C": ["d"]}', '2026-11-18 12:00+00', '2026-11-18 13:00+00');
INSERT INTO qstash_archive_state (server, kind, server_oid, archived_to, window_size)
VALUES ('upstash', 'logs', 12345, '2026-11-18 12:00+00', '1 hour');
ALTER EXTENSION qstash UPDATE;
SELECT metric, series, period, ts, value FROM qstash_stats_history ORDER BY metric;
SELECT dlq_id, response_headers, callback_headers, first_seen, last_seen FROM qstash_dlq_history;
SELECT server, kind, server_oid, archived_to, window_size, origin = qstash_archive_origin() AS recorded_here,
       next_cursor FROM qstash_archive_state;
CREATE TEMP TABLE upgraded_02 AS SELECT * FROM ext_objects();
SELECT 'only after the update from 0.2.0' AS side, * FROM (TABLE upgraded_02 EXCEPT TABLE fresh) u
UNION ALL
SELECT 'only in a fresh install', * FROM (TABLE fresh EXCEPT TABLE upgraded_02) f
ORDER BY 1, 2;
SELECT count(*) = (SELECT count(*) FROM fresh) AS same_count FROM upgraded_02;
DROP EXTENSION qstash;
-- what roles were granted on the objects the update drops and creates
-- anew is granted again: a reporting role's views, an archiving role's
-- routines (the new procedures and every routine they call)
CREATE ROLE regress_qstash_rep;
CREATE ROLE regress_qstash_arch;
CREATE EXTENSION qstash VERSION '0.2.0';
GRANT SELECT ON qstash_rate_limits, qstash_archive_status TO regress_qstash_rep;
GRANT EXECUTE ON FUNCTION qstash_rate_limits() TO regress_qstash_rep;
GRANT EXECUTE ON PROCEDURE qstash_archive_logs(name, integer, interval, interval, bigint, integer, integer, boolean, text)
  TO regress_qstash_arch;
GRANT EXECUTE ON FUNCTION qstash_archive_dlq(name) TO regress_qstash_arch;
ALTER EXTENSION qstash UPDATE;
SELECT has_table_privilege('regress_qstash_rep', 'qstash_rate_limits', 'SELECT') AS rate_limits_view,
       has_function_privilege('regress_qstash_rep', 'qstash_rate_limits()', 'EXECUTE') AS rate_limits_function,
       has_table_privilege('regress_qstash_rep', 'qstash_archive_status', 'SELECT') AS archive_status;
SELECT p.oid::regprocedure AS routine, has_function_privilege('regress_qstash_arch', p.oid, 'EXECUTE') AS may_run
  FROM pg_proc p
 WHERE p.proname IN ('qstash_archive_logs', 'qstash_archive_dlq', 'qstash_archive_logs_step',
                     'qstash_archive_dlq_step', 'qstash_log_pages', 'qstash_last_cursor')
 ORDER BY p.oid::regprocedure::text;
SELECT count(*) AS leftover FROM pg_class
 WHERE relname IN ('qstash_upgrade_grants', 'qstash_upgrade_kept');
DROP EXTENSION qstash;
DROP ROLE regress_qstash_rep, regress_qstash_arch;

-- nothing reaches PUBLIC, even when the installing role's default
-- privileges give PUBLIC (and another role) EXECUTE on every new routine
-- and SELECT on every new table: not on a fresh install, not on what an
-- update creates; the other role keeps what they give it
CREATE ROLE regress_qstash_app;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC, regress_qstash_app;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC, regress_qstash_app;
CREATE FUNCTION ext_grants(OUT public_may bigint, OUT app_may bigint)
LANGUAGE sql AS $$
  SELECT count(*) FILTER (WHERE a.grantee = 0),
         count(*) FILTER (WHERE a.grantee = 'regress_qstash_app'::regrole)
    FROM pg_depend d
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash'
    LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
    LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
    CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, c.relacl)) a
   WHERE d.deptype = 'e'
$$;
CREATE EXTENSION qstash;
SELECT * FROM ext_grants();
DROP EXTENSION qstash;
CREATE EXTENSION qstash VERSION '0.2.0';
SELECT * FROM ext_grants();
ALTER EXTENSION qstash UPDATE;
SELECT * FROM ext_grants();
DROP EXTENSION qstash;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC, regress_qstash_app;
ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC, regress_qstash_app;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
DROP FUNCTION ext_grants();
DROP ROLE regress_qstash_app;
DROP FUNCTION ext_objects();
RESET client_min_messages;
