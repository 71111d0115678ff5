/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL major versions pg_qstash
 *		builds on, in one place: the modules use these names and test no
 *		PG_VERSION_NUM themselves.
 *
 * Built and tested: 15 and 18.  16 and 17 are audited against their
 * headers and release notes only (see README, "PostgreSQL versions").
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_COMPAT_H
#define QSTASH_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "pg_qstash requires PostgreSQL 15 or later"
#endif

/*
 * A function that never returns: pg_attribute_noreturn() until 17, the C11
 * function specifier pg_noreturn from 18.  Written first, before "static"
 * or "extern", where both are valid.
 */
#if PG_VERSION_NUM >= 180000
#define QS_NORETURN pg_noreturn
#else
#define QS_NORETURN pg_attribute_noreturn()
#endif

/*
 * EXPLAIN: ExplainState and the ExplainProperty*() functions are in
 * commands/explain.h until 17 (which fdw.c includes); 18 moved them to
 * explain_state.h and explain_format.h.
 */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/*
 * VARDATA(), SET_VARSIZE(): in postgres.h until 15; 16 moved them to
 * varatt.h, included here rather than left to whatever other header
 * happens to bring it in.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * create_foreignscan_path(): 17 added fdw_restrictinfo (before
 * fdw_private), 18 added disabled_nodes (after rows).  A scan of ours is
 * never disabled, and has no restrictinfo of its own.
 */
#if PG_VERSION_NUM >= 180000
#define qs_create_foreignscan_path(root, rel, target, rows, startup, total,   \
								   pathkeys, required_outer, outerpath,       \
								   fdw_private)                               \
	create_foreignscan_path(root, rel, target, rows, 0, startup, total,       \
							pathkeys, required_outer, outerpath, NIL,         \
							fdw_private)
#elif PG_VERSION_NUM >= 170000
#define qs_create_foreignscan_path(root, rel, target, rows, startup, total,   \
								   pathkeys, required_outer, outerpath,       \
								   fdw_private)                               \
	create_foreignscan_path(root, rel, target, rows, startup, total,          \
							pathkeys, required_outer, outerpath, NIL,         \
							fdw_private)
#else
#define qs_create_foreignscan_path(root, rel, target, rows, startup, total,   \
								   pathkeys, required_outer, outerpath,       \
								   fdw_private)                               \
	create_foreignscan_path(root, rel, target, rows, startup, total,          \
							pathkeys, required_outer, outerpath, fdw_private)
#endif

/*
 * The role a foreign scan checks permissions as: ForeignScan.checkAsUser
 * from 16 (RTEPermissionInfo), the range table entry's until 15.  Invalid
 * means the current user.
 */
#if PG_VERSION_NUM >= 160000
#define qs_scan_check_as_user(node)                                           \
	(((ForeignScan *) (node)->ss.ps.plan)->checkAsUser)
#else
#define qs_scan_check_as_user(node)                                           \
	(exec_rt_fetch(((ForeignScan *) (node)->ss.ps.plan)->scan.scanrelid,      \
				   (node)->ss.ps.state)                                       \
		 ->checkAsUser)
#endif

/* ACL checks on a foreign server: object_aclcheck() from 16 */
#if PG_VERSION_NUM >= 160000
#define qs_foreign_server_aclcheck(serverid, roleid, mode)                    \
	object_aclcheck(ForeignServerRelationId, serverid, roleid, mode)
#else
#define qs_foreign_server_aclcheck(serverid, roleid, mode)                    \
	pg_foreign_server_aclcheck(serverid, roleid, mode)
#endif

/* This backend's local transaction id: in PGPROC.vxid from 17 */
#if PG_VERSION_NUM >= 170000
#define QS_MY_LXID (MyProc->vxid.lxid)
#else
#define QS_MY_LXID (MyProc->lxid)
#endif

/* heap_form_minimal_tuple(): 18 added the extra space to reserve */
#if PG_VERSION_NUM >= 180000
#define qs_form_minimal_tuple(tupdesc, values, isnull)                        \
	heap_form_minimal_tuple(tupdesc, values, isnull, 0)
#else
#define qs_form_minimal_tuple(tupdesc, values, isnull)                        \
	heap_form_minimal_tuple(tupdesc, values, isnull)
#endif

/*
 * The bytes of pg_b64_encode()'s input and pg_b64_decode()'s output: uint8
 * from 18, char until 17.  Our callers hold text in char buffers.
 */
#if PG_VERSION_NUM >= 180000
typedef uint8 QsB64Byte;
#else
typedef char QsB64Byte;
#endif
#define qs_b64_encode(src, len, dst, dstlen)                                  \
	pg_b64_encode((const QsB64Byte *) (src), len, dst, dstlen)
#define qs_b64_decode(src, len, dst, dstlen)                                  \
	pg_b64_decode(src, len, (QsB64Byte *) (dst), dstlen)

#endif /* QSTASH_COMPAT_H */
