/*-------------------------------------------------------------------------
 *
 * fdw.c
 *		qstash_fdw: foreign tables over the endpoint catalog.
 *
 * A scan runs its endpoint through scan.c (the same path as the SQL
 * functions) into a tuplestore, which a rescan replays without another
 * request.  Equality quals on the request parameters (users.id,
 * stats.qstash_id, stats.period), with constants, $n parameters or IN
 * lists, are pushed into the request; every qual is still checked locally,
 * so results are always right.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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

#include "catalog.h"
#include "options.h"
#include "request.h"
#include "rows.h"
#include "scan.h"

/* One HTTP round trip dominates any scan: charge it as startup cost. */
#define QS_REQUEST_COST 10000.0

/* Request parameters a qual can set. */
typedef enum QsPush
{
	QS_PUSH_ID,		   /* users.id -> GET /user/{id} */
	QS_PUSH_QSTASH_ID, /* stats*.qstash_id -> /stats/{id} */
	QS_PUSH_PERIOD,	   /* stats*.period -> ?period= */
	QS_NPUSH
} QsPush;

static const char *const push_names[QS_NPUSH] = {"id", "qstash_id", "period"};

/* Planner state, in baserel->fdw_private. */
typedef struct QsRelInfo
{
	const QsEndpoint *ep;
	Expr *push[QS_NPUSH];	   /* value expression, or NULL */
	bool push_array[QS_NPUSH]; /* IN list / = ANY(array) */
	List *local_quals;		   /* not pushed: only selectivity */
} QsRelInfo;

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

/* Which request parameter a column of this endpoint sets, or -1. */
static int
push_kind(const QsEndpoint *ep, const char *colname)
{
	if (ep->path_by_id != NULL && strcmp(colname, "id") == 0)
		return QS_PUSH_ID;
	if (ep->per_instance && strcmp(colname, "qstash_id") == 0)
		return QS_PUSH_QSTASH_ID;
	if (ep->takes_period && strcmp(colname, "period") == 0)
		return QS_PUSH_PERIOD;
	return -1;
}

/* A value known at executor start: a constant or an external parameter. */
static bool
is_scan_constant(Node *n)
{
	if (IsA(n, Const))
		return true;
	return IsA(n, Param) && ((Param *) n)->paramkind == PARAM_EXTERN;
}

static Var *
our_var(Node *n, Index relid)
{
	if (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n && IsA(n, Var) && ((Var *) n)->varno == relid &&
		((Var *) n)->varlevelsup == 0 && ((Var *) n)->varattno > 0)
		return (Var *) n;
	return NULL;
}

static bool
is_equality(Oid opfuncid)
{
	return opfuncid == F_TEXTEQ || opfuncid == F_UUID_EQ;
}

/* Record the qual in ri if it can set a request parameter. */
static bool
classify_qual(QsRelInfo *info, RelOptInfo *baserel, Oid relid, Expr *clause)
{
	Var *var = NULL;
	Node *value = NULL;
	bool array = false;
	int kind;

	if (IsA(clause, OpExpr))
	{
		OpExpr *op = (OpExpr *) clause;

		if (list_length(op->args) != 2 || !is_equality(get_opcode(op->opno)))
			return false;
		if ((var = our_var(linitial(op->args), baserel->relid)) != NULL)
			value = lsecond(op->args);
		else if ((var = our_var(lsecond(op->args), baserel->relid)) != NULL)
			value = linitial(op->args);
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) clause;

		if (!op->useOr || !is_equality(get_opcode(op->opno)))
			return false;
		var = our_var(linitial(op->args), baserel->relid);
		value = lsecond(op->args);
		array = true;
	}
	if (var == NULL || value == NULL || !is_scan_constant(value))
		return false;
	kind = push_kind(info->ep, get_attname(relid, var->varattno, false));
	if (kind < 0 || info->push[kind] != NULL)
		return false;
	info->push[kind] = (Expr *) value;
	info->push_array[kind] = array;
	return true;
}

/* Number of values of a pushed parameter, when the plan knows it. */
static double
push_count(const QsRelInfo *info, int kind, double unknown)
{
	Expr *e = info->push[kind];

	if (e == NULL)
		return unknown;
	if (!info->push_array[kind])
		return 1;
	if (IsA(e, Const) && !((Const *) e)->constisnull)
		return ArrayGetNItems(
			ARR_NDIM(DatumGetArrayTypeP(((Const *) e)->constvalue)),
			ARR_DIMS(DatumGetArrayTypeP(((Const *) e)->constvalue)));
	return 2;
}

static void
qsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	QsRelInfo *info = palloc0(sizeof(QsRelInfo));
	ListCell *lc;
	double rows;

	info->ep = table_endpoint(foreigntableid);
	foreach (lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = (RestrictInfo *) lfirst(lc);

		if (!classify_qual(info, baserel, foreigntableid, ri->clause))
			info->local_quals = lappend(info->local_quals, ri);
	}

	/* rows the requests return, then the quals that stay local */
	if (info->ep->per_instance)
	{
		Expr *period = info->push[QS_PUSH_PERIOD];
		bool month =
			period && IsA(period, Const) &&
			!info->push_array[QS_PUSH_PERIOD] &&
			!((Const *) period)->constisnull &&
			strcmp(TextDatumGetCString(((Const *) period)->constvalue),
				   "30d") == 0;
		double per_instance =
			info->ep->shape == QS_SHAPE_STATS ? (month ? 1830 : 570) : 1;

		rows = per_instance * push_count(info, QS_PUSH_QSTASH_ID, 2) *
			   push_count(info, QS_PUSH_PERIOD, 1);
	}
	else if (info->push[QS_PUSH_ID] != NULL)
		rows = push_count(info, QS_PUSH_ID, 1);
	else
		rows = info->ep->rows;
	rows *= clauselist_selectivity(root, info->local_quals, baserel->relid,
								   JOIN_INNER, NULL);
	baserel->rows = clamp_row_est(rows);
	baserel->fdw_private = info;
}

static void
qsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	QsRelInfo *info = (QsRelInfo *) baserel->fdw_private;
	double requests = 1;
	Cost startup;
	Cost total;

	if (info->ep->per_instance)
		requests = push_count(info, QS_PUSH_QSTASH_ID, 3) *
				   push_count(info, QS_PUSH_PERIOD, 1);
	else if (info->push[QS_PUSH_ID] != NULL)
		requests = push_count(info, QS_PUSH_ID, 1);
	startup = QS_REQUEST_COST * requests;
	total = startup + baserel->rows * cpu_tuple_cost;
	add_path(baserel,
			 (Path *) create_foreignscan_path(root, baserel, NULL, baserel->rows,
											  startup, total, NIL, NULL, NULL,
#if PG_VERSION_NUM >= 170000
											  NIL, /* fdw_restrictinfo */
#endif
											  NIL));
}

/*
 * fdw_private: [endpoint name, kinds (int list), array flags (int list),
 * display texts]; fdw_exprs: the value expressions, in the same order.
 */
static ForeignScan *
qsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				 ForeignPath *best_path, List *tlist, List *scan_clauses,
				 Plan *outer_plan)
{
	QsRelInfo *info = (QsRelInfo *) baserel->fdw_private;
	List *kinds = NIL;
	List *arrays = NIL;
	List *texts = NIL;
	List *exprs = NIL;

	for (int k = 0; k < QS_NPUSH; k++)
	{
		char *shown;

		if (info->push[k] == NULL)
			continue;
		shown = deparse_expression((Node *) info->push[k], NIL, false, false);
		kinds = lappend_int(kinds, k);
		arrays = lappend_int(arrays, info->push_array[k]);
		texts = lappend(
			texts,
			makeString(psprintf(info->push_array[k] ? "%s IN %s" : "%s = %s",
								push_names[k], shown)));
		exprs = lappend(exprs, info->push[k]);
	}

	/* every qual is checked locally too: pushing only narrows the fetch */
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(
		tlist, scan_clauses, baserel->relid, exprs,
		list_make4(makeString(pstrdup(info->ep->name)), kinds, arrays, texts),
		NIL, NIL, outer_plan);
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

/* Text values of a pushed expression (distinct, NULLs dropped). */
static List *
eval_values(ExprState *state, Expr *expr, bool array, ExprContext *econtext)
{
	bool isnull;
	Datum d = ExecEvalExpr(state, econtext, &isnull);
	Oid typid = exprType((Node *) expr);
	List *values = NIL;
	Oid outfunc;
	bool varlena;

	if (isnull)
		return NIL;
	if (!array)
	{
		getTypeOutputInfo(typid, &outfunc, &varlena);
		return list_make1(OidOutputFunctionCall(outfunc, d));
	}
	else
	{
		ArrayType *arr = DatumGetArrayTypeP(d);
		Oid elemtype = ARR_ELEMTYPE(arr);
		int16 typlen;
		bool typbyval;
		char typalign;
		Datum *elems;
		bool *nulls;
		int n;

		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems,
						  &nulls, &n);
		getTypeOutputInfo(elemtype, &outfunc, &varlena);
		for (int i = 0; i < n; i++)
		{
			if (!nulls[i])
				values = list_append_unique(
					values,
					makeString(OidOutputFunctionCall(outfunc, elems[i])));
		}
		/* back to plain strings */
		{
			List *out = NIL;
			ListCell *lc;

			foreach (lc, values)
				out = lappend(out, strVal(lfirst(lc)));
			return out;
		}
	}
}

static void
qsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	Relation rel = node->ss.ss_currentRelation;
	const QsEndpoint *ep =
		qs_endpoint_lookup(strVal(linitial(fsplan->fdw_private)));
	List *kinds = lsecond(fsplan->fdw_private);
	List *arrays = lthird(fsplan->fdw_private);
	List *values[QS_NPUSH] = {NIL};
	bool pushed[QS_NPUSH] = {false};
	QsScanState *st;
	QsConn *conn;
	QsMapper *mapper;
	ListCell *lk;
	ListCell *la;
	ListCell *le;
	ListCell *l1;
	ListCell *l2;

	/* plain EXPLAIN: touch nothing */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = palloc0(sizeof(QsScanState));
	node->fdw_state = st;
	st->store = tuplestore_begin_heap(true, false, work_mem);
	st->mslot =
		MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	conn = qs_conn_by_oid(GetForeignTable(RelationGetRelid(rel))->serverid,
						  scan_user(node));
	mapper = qs_mapper_create(
		ep, RelationGetDescr(rel), conn->reveal_secrets,
		psprintf("foreign table \"%s\"", RelationGetRelationName(rel)));

	forthree(lk, kinds, la, arrays, le, fsplan->fdw_exprs)
	{
		int k = lfirst_int(lk);
		Expr *expr = (Expr *) lfirst(le);
		ExprState *state = ExecInitExpr(expr, (PlanState *) node);

		pushed[k] = true;
		values[k] = eval_values(state, expr, lfirst_int(la) != 0,
								node->ss.ps.ps_ExprContext);
		/* col = NULL, or IN of nothing but NULLs: no row can match */
		if (values[k] == NIL)
			return;
	}
	foreach (l1, values[QS_PUSH_PERIOD])
		qs_check_period((const char *) lfirst(l1));

	if (!pushed[QS_PUSH_PERIOD])
		values[QS_PUSH_PERIOD] = list_make1(NULL);
	if (!pushed[QS_PUSH_QSTASH_ID])
		values[QS_PUSH_QSTASH_ID] = list_make1(NULL);
	if (!pushed[QS_PUSH_ID])
		values[QS_PUSH_ID] = list_make1(NULL);

	foreach (l1, values[QS_PUSH_PERIOD])
	{
		foreach (l2, values[QS_PUSH_QSTASH_ID])
		{
			ListCell *l3;

			foreach (l3, values[QS_PUSH_ID])
			{
				QsParams p = {0};

				p.period = (const char *) lfirst(l1);
				p.qstash_id = (const char *) lfirst(l2);
				p.id = (const char *) lfirst(l3);
				qs_scan(conn, ep, &p, mapper, st->store, &st->stats);
			}
		}
	}
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
	ExecDropSingleTupleTableSlot(st->mslot);
	tuplestore_end(st->store);
}

static void
qsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	const QsEndpoint *ep =
		qs_endpoint_lookup(strVal(linitial(fsplan->fdw_private)));
	List *texts = lfourth(fsplan->fdw_private);

	if (es->verbose)
	{
		ListCell *lc;
		StringInfoData buf;

		initStringInfo(&buf);
		foreach (lc, texts)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
							 strVal(lfirst(lc)));
		ExplainPropertyText("QStash Endpoint", ep->name, es);
		ExplainPropertyText(
			"QStash Request",
			ep->per_instance
				? psprintf("GET %s%s", psprintf(ep->path, "{qstash_id}"),
						   ep->takes_period ? "?period={period}" : "")
				: psprintf("GET %s", ep->path),
			es);
		if (buf.len > 0)
			ExplainPropertyText("QStash Pushed", buf.data, es);
	}
	if (es->analyze && node->fdw_state)
	{
		QsScanState *st = (QsScanState *) node->fdw_state;

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
