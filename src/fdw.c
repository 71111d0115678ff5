/*-------------------------------------------------------------------------
 *
 * fdw.c
 *		qstash_fdw: foreign tables over the endpoint catalog.  The callbacks
 *		are thin: pushdown.c decides what goes into the request plan,
 *		plan.c keeps it in the plan, request.c evaluates it into the list
 *		of requests (and renders that list for EXPLAIN), runner.c sends
 *		them.
 *
 * A scan sends nothing before its first row is asked for (LIMIT 0, an
 * empty outer side, a cursor never fetched cost no request), and then
 * fetches one response (one page of a listing) at a time, as rows are
 * consumed.  Every row fetched is kept in a tuplestore (spilling past
 * work_mem), so a rescan replays it and goes on fetching only where the
 * first pass stopped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compat.h"
#include "conn.h"
#include "fetch.h"
#include "mapper.h"
#include "pushdown.h"
#include "runner.h"

/* One HTTP round trip dominates any scan: charge it as startup cost. */
#define QS_REQUEST_COST 10000.0

typedef struct QsScanState
{
	QsRequestPlan *plan;
	List *exprstates; /* of the plan's values */
	QsRequest *req;	  /* the values, evaluated when first needed */
	const QsConn *conn;
	QsMapper *mapper;
	QsRunner *runner;		/* NULL until the first row is asked for */
	Tuplestorestate *store; /* every row fetched so far */
	int64 rows_stored;
	int64 rows_read;	   /* by the current pass over store */
	MemoryContext cxt;	   /* the scan's lifetime: runner, store reads */
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

/*
 * The text of a constant, read through the output function of its own type
 * (never assuming text), or NULL when the value is not a non-null Const.
 */
static char *
const_text(Expr *e)
{
	Const *c = (Const *) e;
	Oid outfunc;
	bool varlena;

	if (!IsA(e, Const) || c->constisnull)
		return NULL;
	getTypeOutputInfo(c->consttype, &outfunc, &varlena);
	return OidOutputFunctionCall(outfunc, c->constvalue);
}

/* Rows the requests of a plan return, before the quals that stay local. */
static double
estimate_rows(const QsRequestPlan *plan)
{
	const QsEndpoint *ep = plan->ep;
	double rows;

	if (ep->access == QS_ACCESS_PER_INSTANCE)
	{
		QsPlanParam *pp = qs_pushdown_param_of_kind(plan, QSF_PERIOD);
		char *period = pp && pp->op == QS_OP_EQ ? const_text(pp->value) : NULL;
		bool month = period != NULL && strcmp(period, "30d") == 0;
		double per_instance =
			ep->shape == QS_SHAPE_STATS ? (month ? 1830 : 570) : 1;

		return per_instance * qs_pushdown_value_count(plan, QSF_INSTANCE, 2) *
			   qs_pushdown_value_count(plan, QSF_PERIOD, 1);
	}
	if (qs_pushdown_param_of_kind(plan, QSF_PATH_ID) != NULL)
		return qs_pushdown_value_count(plan, QSF_PATH_ID, 1);
	rows = ep->rows;
	/* the API's filters: a tenth each, like an equality on a column */
	for (int i = 0; i < list_length(plan->params); i++)
		rows *= 0.1;
	if (plan->has_limit)
		rows = Min(rows, (double) plan->limit);
	return rows;
}

/*
 * Columns are checked here, so that plain EXPLAIN reports a column the
 * endpoint cannot produce; then the quals are split into the request plan
 * and the local ones.
 */
static void
qsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	const QsEndpoint *ep = table_endpoint(foreigntableid);
	Relation rel = table_open(foreigntableid, NoLock);
	QsRelInfo *info;

	qs_mapper_check_columns(
		ep, RelationGetDescr(rel),
		psprintf("foreign table \"%s\"", RelationGetRelationName(rel)));
	table_close(rel, NoLock);

	info = qs_pushdown_classify(root, baserel, foreigntableid, ep);
	baserel->rows = clamp_row_est(
		estimate_rows(info->plan) *
		clauselist_selectivity(root, info->local_quals, baserel->relid,
							   JOIN_INNER, NULL));
	baserel->fdw_private = info;
}

/*
 * One path: startup is one round trip per request the plan will send.  It
 * requires the relations the scan refers to laterally (its output may
 * compute their values), as every FDW's path must.
 */
static void
qsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	QsRelInfo *info = (QsRelInfo *) baserel->fdw_private;
	const QsRequestPlan *plan = info->plan;
	double requests = 1;
	Cost startup;
	Cost total;

	if (plan->ep->access == QS_ACCESS_PER_INSTANCE)
		requests = qs_pushdown_value_count(plan, QSF_INSTANCE, 3) *
				   qs_pushdown_value_count(plan, QSF_PERIOD, 1);
	else if (qs_pushdown_param_of_kind(plan, QSF_PATH_ID) != NULL)
		requests = qs_pushdown_value_count(plan, QSF_PATH_ID, 1);
	else if (plan->ep->access == QS_ACCESS_PAGED)
		requests = ceil(baserel->rows / QS_PAGE_SIZE);
	startup = QS_REQUEST_COST * requests;
	total = startup + baserel->rows * cpu_tuple_cost;
	add_path(baserel, (Path *) qs_create_foreignscan_path(
						  root, baserel, NULL, baserel->rows, startup, total,
						  NIL, baserel->lateral_relids, NULL, NIL));
}

/*
 * The columns the query reads from the scan: its output and its local
 * quals (every column for a whole-row reference), as attnums.
 */
static List *
columns_read(RelOptInfo *baserel)
{
	Bitmapset *attrs = NULL;
	List *columns = NIL;
	ListCell *lc;
	bool whole_row;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach (lc, baserel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   baserel->relid, &attrs);
	whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);
	for (int i = 1; i <= baserel->max_attr; i++)
	{
		if (whole_row ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			columns = lappend_int(columns, i);
	}
	return columns;
}

/* The request plan goes into fdw_private, its values into fdw_exprs. */
static ForeignScan *
qsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				 ForeignPath *best_path, List *tlist, List *scan_clauses,
				 Plan *outer_plan)
{
	QsRelInfo *info = (QsRelInfo *) baserel->fdw_private;
	List *exprs;
	List *private;

	info->plan->columns = columns_read(baserel);
	private = qs_plan_to_private(info->plan, &exprs);

	/* every qual is checked locally too: pushing only narrows the fetch */
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, exprs,
							private, NIL, NIL, outer_plan);
}

static Oid
scan_user(ForeignScanState *node)
{
	Oid user = qs_scan_check_as_user(node);

	return OidIsValid(user) ? user : GetUserId();
}

/*
 * Resolve the server and the mapping, and prepare the plan's values, which
 * are evaluated only when a row or EXPLAIN VERBOSE needs them (as
 * PostgreSQL evaluates a qual only for a row).  Sends nothing.
 */
static void
qsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	Relation rel = node->ss.ss_currentRelation;
	QsRequestPlan *plan =
		qs_plan_from_private(fsplan->fdw_private, fsplan->fdw_exprs);
	QsScanState *st = palloc0(sizeof(QsScanState));

	node->fdw_state = st;
	st->plan = plan;
	st->exprstates = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	st->cxt = CurrentMemoryContext; /* es_query_cxt */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st->conn = qs_conn_by_oid(GetForeignTable(RelationGetRelid(rel))->serverid,
							  scan_user(node));
	st->mapper = qs_mapper_create(
		plan->ep, RelationGetDescr(rel), st->conn->reveal_secrets,
		psprintf("foreign table \"%s\"", RelationGetRelationName(rel)));
	qs_mapper_only(st->mapper, plan->columns);
	st->store = tuplestore_begin_heap(true, false, work_mem);
	st->mslot =
		MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
}

/* The request of the scan: the plan's values evaluated, once. */
static QsRequest *
scan_request(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;

	if (st->req == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		st->req = qs_request_resolve(st->plan, st->exprstates,
									 node->ss.ps.ps_ExprContext);
		MemoryContextSwitchTo(old);
	}
	return st->req;
}

/*
 * The next row: from the rows fetched so far, else from the next response.
 * The read pointer never runs into the end of the store (rows_read <
 * rows_stored), so rows appended later are read in turn.
 *
 * Everything runs in the scan's context, not in the per-tuple context the
 * executor calls us in and resets between rows: the runner's state lives
 * across rows, and a tuple read back from a spilled tuplestore is
 * allocated in the current context and owned by the slot until the next.
 */
static TupleTableSlot *
qsIterateForeignScan(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	bool found = true;

	while (found && st->rows_read >= st->rows_stored)
	{
		int64 rows;

		if (st->runner == NULL)
			st->runner = qs_runner_start(st->conn, scan_request(node),
										 st->mapper, &st->stats);
		found = qs_runner_fetch(st->runner, st->store, &rows);
		st->rows_stored += rows;
	}
	if (found && !tuplestore_gettupleslot(st->store, true, false, st->mslot))
		elog(ERROR,
			 "qstash: row " INT64_FORMAT " of " INT64_FORMAT
			 " is missing from the scan's store",
			 st->rows_read + 1, st->rows_stored);
	MemoryContextSwitchTo(old);
	if (!found)
		return ExecClearTuple(slot);
	st->rows_read++;
	return ExecCopySlot(slot, st->mslot);
}

/* Replay the rows fetched so far; fetch more only past them. */
static void
qsReScanForeignScan(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;

	tuplestore_rescan(st->store);
	st->rows_read = 0;
}

static void
qsEndForeignScan(ForeignScanState *node)
{
	QsScanState *st = (QsScanState *) node->fdw_state;

	if (st == NULL || st->store == NULL)
		return; /* EXPLAIN only */
	ExecDropSingleTupleTableSlot(st->mslot);
	tuplestore_end(st->store);
}

/*
 * EXPLAIN VERBOSE: the endpoint, the requests exactly as the runner sends
 * them (qs_request_path), the pushed quals and the LIMIT.  EXPLAIN
 * ANALYZE: what was sent.
 */
static void
qsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	QsScanState *st = (QsScanState *) node->fdw_state;

	if (es->verbose)
	{
		QsRequestPlan *plan =
			qs_plan_from_private(fsplan->fdw_private, fsplan->fdw_exprs);
		List *pushed = NIL;
		ListCell *lc;

		foreach (lc, plan->params)
			pushed = lappend(pushed,
							 qs_plan_param_text((QsPlanParam *) lfirst(lc)));
		ExplainPropertyText("QStash Endpoint", plan->ep->name, es);
		ExplainPropertyList("QStash Request",
							qs_request_explain(scan_request(node)), es);
		if (pushed != NIL)
			ExplainPropertyList("QStash Pushed", pushed, es);
		if (plan->has_limit)
			ExplainPropertyInteger("QStash Limit", NULL, plan->limit, es);
	}
	if (es->analyze)
	{
		ExplainPropertyInteger("QStash Requests", NULL, st->stats.requests,
							   es);
		ExplainPropertyInteger("QStash Retries", NULL, st->stats.retries, es);
		ExplainPropertyInteger("QStash Cache Hits", NULL, st->stats.cache_hits,
							   es);
		ExplainPropertyInteger("QStash Bytes Received", "bytes",
							   st->stats.bytes, es);
	}
}

/*
 * IMPORT FOREIGN SCHEMA qstash FROM SERVER s INTO x: one table per
 * endpoint, named after it, columns and types from the catalog.
 */
static List *
qsImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List *cmds = NIL;

	/* options would be ignored (a credential among them, logged) */
	if (stmt->options != NIL)
		ereport(
			ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("IMPORT FOREIGN SCHEMA of qstash_fdw takes no options"),
			 errhidestmt(true),
			 errhint("Set options on the server or the user mapping.")));
	if (strcmp(stmt->remote_schema, "qstash") != 0)
		ereport(
			ERROR,
			(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
			 errmsg("schema \"%s\" is not present on foreign server \"%s\"",
					stmt->remote_schema, server->servername),
			 errhint("qstash_fdw offers one schema: qstash.")));

	for (int i = 0; i < qs_endpoint_count(); i++)
	{
		const QsEndpoint *ep = qs_endpoint_at(i);
		bool listed = false;
		ListCell *lc;
		StringInfoData buf;

		foreach (lc, stmt->table_list)
			listed |=
				strcmp(((RangeVar *) lfirst(lc))->relname, ep->name) == 0;
		if ((stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO && !listed) ||
			(stmt->list_type == FDW_IMPORT_SCHEMA_EXCEPT && listed))
			continue;

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (",
						 quote_identifier(ep->name));
		for (int c = 0; c < ep->ncolumns; c++)
			appendStringInfo(&buf, "%s%s %s", c ? ", " : "",
							 quote_identifier(ep->columns[c].name),
							 ep->columns[c].sqltype);
		appendStringInfo(&buf, ") SERVER %s OPTIONS (endpoint %s)",
						 quote_identifier(server->servername),
						 quote_literal_cstr(ep->name));
		cmds = lappend(cmds, buf.data);
	}
	return cmds;
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
	r->ImportForeignSchema = qsImportForeignSchema;
	PG_RETURN_POINTER(r);
}
