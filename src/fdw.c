/*-------------------------------------------------------------------------
 *
 * fdw.c
 *		qstash_fdw: foreign tables over the endpoint catalog.  A scan
 *		fetches through request.c and maps through rows.c into a
 *		tuplestore, which a rescan replays without another request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog.h"
#include "options.h"
#include "request.h"
#include "rows.h"
#include "scan.h"

/* One HTTP round trip dominates any scan: charge it as startup cost. */
#define QS_STARTUP_COST 10000.0

typedef struct QsScanState
{
	Tuplestorestate *store;
	TupleTableSlot *mslot; /* tuplestore hands out minimal tuples */
	QsFetchStats stats;
} QsScanState;

static const QsEndpoint *
table_endpoint(Oid relid)
{
	ForeignTable *ft = GetForeignTable(relid);
	const char *name = NULL;
	const QsEndpoint *ep;
	ListCell *lc;

	foreach (lc, ft->options)
	{
		DefElem *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "endpoint") == 0)
			name = defGetString(def);
	}
	if (name == NULL)
		name = get_rel_name(relid);
	ep = qs_endpoint_lookup(name);
	if (ep == NULL)
		ereport(ERROR, (errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
						errmsg("foreign table \"%s\" names no endpoint",
							   get_rel_name(relid)),
						errhint("Set the table option endpoint to one of: %s.",
								qs_endpoint_names())));
	return ep;
}

static void
qsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	const QsEndpoint *ep = table_endpoint(foreigntableid);

	baserel->rows = ep->rows;
	baserel->fdw_private = (void *) ep;
}

static void
qsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Cost startup = QS_STARTUP_COST;
	Cost total = startup + baserel->rows * cpu_tuple_cost * 10;

	add_path(baserel, (Path *) create_foreignscan_path(
						  root, baserel, NULL, baserel->rows, startup, total,
						  NIL, NULL, NULL, NIL));
}

static ForeignScan *
qsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				 ForeignPath *best_path, List *tlist, List *scan_clauses,
				 Plan *outer_plan)
{
	const QsEndpoint *ep = (const QsEndpoint *) baserel->fdw_private;

	/* nothing is pushed down yet: every qual is checked locally */
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, NIL,
							list_make1(makeString(pstrdup(ep->name))), NIL,
							NIL, outer_plan);
}

static Oid
scan_user(ForeignScanState *node)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
#if PG_VERSION_NUM >= 160000
	return OidIsValid(fsplan->checkAsUser) ? fsplan->checkAsUser : GetUserId();
#else
	EState *estate = node->ss.ps.state;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);

	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
}

static void
qsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	Relation rel = node->ss.ss_currentRelation;
	const QsEndpoint *ep =
		qs_endpoint_lookup(strVal(linitial(fsplan->fdw_private)));
	QsScanState *st;
	QsConn *conn;
	QsMapper *mapper;

	/* plain EXPLAIN: touch nothing */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = palloc0(sizeof(QsScanState));
	node->fdw_state = st;
	conn = qs_conn_by_oid(GetForeignTable(RelationGetRelid(rel))->serverid,
						  scan_user(node));

	st->store = tuplestore_begin_heap(true, false, work_mem);
	st->mslot =
		MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	mapper = qs_mapper_create(
		ep, RelationGetDescr(rel), conn->reveal_secrets,
		psprintf("foreign table \"%s\"", RelationGetRelationName(rel)));
	qs_scan(conn, ep, NULL, mapper, st->store, &st->stats);
}

static TupleTableSlot *
qsIterateForeignScan(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!tuplestore_gettupleslot(st->store, true, false, st->mslot))
		return ExecClearTuple(slot);
	return ExecCopySlot(slot, st->mslot);
}

static void
qsReScanForeignScan(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;

	tuplestore_rescan(st->store);
}

static void
qsEndForeignScan(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;

	if (st == NULL)
		return; /* EXPLAIN only */
	if (st->mslot)
		ExecDropSingleTupleTableSlot(st->mslot);
	if (st->store)
		tuplestore_end(st->store);
}

static void
qsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	const QsEndpoint *ep =
		qs_endpoint_lookup(strVal(linitial(fsplan->fdw_private)));

	if (es->verbose)
		ExplainPropertyText("QStash Request", psprintf("GET %s", ep->path),
							es);
	if (es->analyze && node->fdw_state)
	{
		QsScanState *st = (QsScanState *) node->fdw_state;

		ExplainPropertyInteger("QStash Requests", NULL, st->stats.requests,
							   es);
		ExplainPropertyInteger("QStash Retries", NULL, st->stats.retries, es);
		ExplainPropertyInteger("QStash Bytes Received", "bytes",
							   st->stats.bytes, es);
	}
}

PG_FUNCTION_INFO_V1(qstash_fdw_handler);

Datum
qstash_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *r = makeNode(FdwRoutine);

	r->GetForeignRelSize = qsGetForeignRelSize;
	r->GetForeignPaths = qsGetForeignPaths;
	r->GetForeignPlan = qsGetForeignPlan;
	r->BeginForeignScan = qsBeginForeignScan;
	r->IterateForeignScan = qsIterateForeignScan;
	r->ReScanForeignScan = qsReScanForeignScan;
	r->EndForeignScan = qsEndForeignScan;
	r->ExplainForeignScan = qsExplainForeignScan;
	PG_RETURN_POINTER(r);
}
