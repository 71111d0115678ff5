/*-------------------------------------------------------------------------
 *
 * fdw.c
 *		qstash_fdw: foreign tables over the endpoint catalog.
 *
 * A scan runs its endpoint through scan.c (the same path as the SQL
 * functions) into a tuplestore, which a rescan replays without another
 * request.  Quals on the columns the endpoint's filters name (catalog.c:
 * ids, periods, the REST API's query parameters, time ranges), with values
 * known at executor start (constants, $n, stable expressions such as
 * now() - '1 day'), are pushed into the request; every qual is still
 * checked locally, so results are always right.  A LIMIT stops a paged
 * listing early when nothing else can drop or reorder rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

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
#include "options.h"
#include "request.h"
#include "rows.h"
#include "scan.h"

/* One HTTP round trip dominates any scan: charge it as startup cost. */
#define QS_REQUEST_COST 10000.0

/* How a pushed qual compares its column with its value. */
typedef enum QsOp
{
	QS_OP_EQ, /* col = v, or v = ANY(array col) */
	QS_OP_IN, /* col IN (...) / col = ANY(array) */
	QS_OP_GE,
	QS_OP_GT,
	QS_OP_LE,
	QS_OP_LT
} QsOp;

static const char *const op_names[] = {"=", "IN", ">=", ">", "<=", "<"};

/* A qual pushed into the request. */
typedef struct QsPushed
{
	int filter; /* index into ep->filters */
	QsOp op;
	Expr *value; /* known at executor start */
} QsPushed;

/* Planner state, in baserel->fdw_private. */
typedef struct QsRelInfo
{
	const QsEndpoint *ep;
	List *pushed;	   /* of QsPushed * */
	List *local_quals; /* not pushed: only selectivity */
	bool all_exact;	   /* every qual pushed, and applied exactly */
	int64 limit;	   /* LIMIT pushed into a paged listing, or 0 */
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

/*
 * A value known at executor start, the same for the whole scan: no column
 * of any relation, no executor parameter, nothing volatile.  Stable
 * functions (now()) qualify: they are evaluated once, as for index keys.
 */
static bool
not_scan_constant_walker(Node *n, void *context)
{
	if (n == NULL)
		return false;
	if (IsA(n, Var) || IsA(n, PlaceHolderVar) || IsA(n, Aggref) ||
		IsA(n, WindowFunc) || IsA(n, GroupingFunc) || IsA(n, SubLink) ||
		IsA(n, SubPlan) || IsA(n, AlternativeSubPlan) ||
		IsA(n, CurrentOfExpr) || IsA(n, NextValueExpr))
		return true;
	if (IsA(n, Param) && ((Param *) n)->paramkind != PARAM_EXTERN)
		return true;
	return expression_tree_walker(n, not_scan_constant_walker, context);
}

static bool
is_scan_constant(Node *n)
{
	return !not_scan_constant_walker(n, NULL) &&
		   !contain_volatile_functions(n);
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

/* The comparison an operator's function makes, or -1. */
static int
op_kind(Oid opfuncid)
{
	switch (opfuncid)
	{
		case F_TEXTEQ:
		case F_UUID_EQ:
		case F_INT4EQ:
		case F_INT8EQ:
		case F_INT48EQ:
		case F_INT84EQ:
			return QS_OP_EQ;
		case F_TIMESTAMPTZ_GE:
			return QS_OP_GE;
		case F_TIMESTAMPTZ_GT:
			return QS_OP_GT;
		case F_TIMESTAMPTZ_LE:
			return QS_OP_LE;
		case F_TIMESTAMPTZ_LT:
			return QS_OP_LT;
	}
	return -1;
}

/* col op v written as v op col: the same test with the operands swapped */
static int
commute_kind(int op)
{
	switch (op)
	{
		case QS_OP_GE:
			return QS_OP_LE;
		case QS_OP_GT:
			return QS_OP_LT;
		case QS_OP_LE:
			return QS_OP_GE;
		case QS_OP_LT:
			return QS_OP_GT;
	}
	return op;
}

static bool
is_lower(QsOp op)
{
	return op == QS_OP_GE || op == QS_OP_GT;
}

/*
 * The request slot a pushed qual fills: one per filter and query parameter
 * (label and labels share "label"), one each for the lower and upper bound
 * of a time range.
 */
static bool
slot_taken(const QsRelInfo *info, const QsFilter *f, QsOp op)
{
	ListCell *lc;

	foreach (lc, info->pushed)
	{
		QsPushed *p = (QsPushed *) lfirst(lc);
		const QsFilter *g = &info->ep->filters[p->filter];

		if (f->kind == QSF_TIME)
		{
			if (g == f && is_lower(p->op) == is_lower(op))
				return true;
		}
		else if (g == f ||
				 (f->query && g->query && strcmp(f->query, g->query) == 0))
			return true;
	}
	return false;
}

/*
 * The API compares bytes: a qual under a nondeterministic collation (case-
 * or accent-insensitive) keeps rows an API filter would drop.
 */
static bool
exact_collation(Oid collid)
{
	return !OidIsValid(collid) || get_collation_isdeterministic(collid);
}

/* What col = v sets: a query parameter, a path id, the instance, the period. */
static const QsFilter *
equality_filter(const QsEndpoint *ep, const char *colname)
{
	static const QsFilterKind kinds[] = {QSF_QUERY, QSF_PATH_ID, QSF_INSTANCE,
										 QSF_PERIOD};
	const QsFilter *f = NULL;

	for (int i = 0; i < lengthof(kinds) && f == NULL; i++)
		f = qs_endpoint_filter(ep, colname, kinds[i]);
	return f;
}

/* Push the qual into info if it can set a request parameter. */
static bool
classify_qual(QsRelInfo *info, RelOptInfo *baserel, Oid relid, Expr *clause,
			  bool *exact)
{
	const QsFilter *f = NULL;
	Var *var = NULL;
	Node *value = NULL;
	int op = -1;
	const char *colname;
	QsPushed *p;

	if (IsA(clause, OpExpr))
	{
		OpExpr *o = (OpExpr *) clause;

		if (list_length(o->args) != 2 ||
			(op = op_kind(get_opcode(o->opno))) < 0 ||
			!exact_collation(o->inputcollid))
			return false;
		if ((var = our_var(linitial(o->args), baserel->relid)) != NULL)
			value = lsecond(o->args);
		else if ((var = our_var(lsecond(o->args), baserel->relid)) != NULL)
		{
			value = linitial(o->args);
			op = commute_kind(op);
		}
		if (var == NULL)
			return false;
		colname = get_attname(relid, var->varattno, false);
		/*
		 * timestamptz(p) rounds the API's milliseconds: the rounded value
		 * and the API's bound could disagree
		 */
		if (op == QS_OP_EQ)
			f = equality_filter(info->ep, colname);
		else if (var->vartypmod < 0)
			f = qs_endpoint_filter(info->ep, colname, QSF_TIME);
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *o = (ScalarArrayOpExpr *) clause;

		if (!o->useOr || list_length(o->args) != 2 ||
			op_kind(get_opcode(o->opno)) != QS_OP_EQ ||
			!exact_collation(o->inputcollid))
			return false;
		if ((var = our_var(linitial(o->args), baserel->relid)) != NULL)
		{
			/* col IN (...): several values in one request, or a fan-out */
			op = QS_OP_IN;
			value = lsecond(o->args);
			colname = get_attname(relid, var->varattno, false);
			f = equality_filter(info->ep, colname);
			if (f != NULL && f->kind == QSF_QUERY && !f->multi)
				return false; /* the API takes one value */
		}
		else if ((var = our_var(lsecond(o->args), baserel->relid)) != NULL)
		{
			/* v = ANY(array column) */
			op = QS_OP_EQ;
			value = linitial(o->args);
			colname = get_attname(relid, var->varattno, false);
			f = qs_endpoint_filter(info->ep, colname, QSF_ELEMENT);
		}
	}
	if (f == NULL || value == NULL || !is_scan_constant(value) ||
		slot_taken(info, f, op))
		return false;

	p = palloc(sizeof(QsPushed));
	p->filter = f - info->ep->filters;
	p->op = op;
	p->value = (Expr *) value;
	info->pushed = lappend(info->pushed, p);
	*exact =
		(f->kind == QSF_QUERY || f->kind == QSF_ELEMENT) ? f->exact : true;
	return true;
}

static QsPushed *
pushed_of_kind(const QsRelInfo *info, QsFilterKind kind)
{
	ListCell *lc;

	foreach (lc, info->pushed)
	{
		QsPushed *p = (QsPushed *) lfirst(lc);

		if (info->ep->filters[p->filter].kind == kind)
			return p;
	}
	return NULL;
}

/* Number of values of a pushed parameter, when the plan knows it. */
static double
push_count(const QsRelInfo *info, QsFilterKind kind, double unknown)
{
	QsPushed *p = pushed_of_kind(info, kind);
	Expr *e;

	if (p == NULL)
		return unknown;
	if (p->op != QS_OP_IN)
		return 1;
	e = p->value;
	if (IsA(e, Const) && !((Const *) e)->constisnull)
		return ArrayGetNItems(
			ARR_NDIM(DatumGetArrayTypeP(((Const *) e)->constvalue)),
			ARR_DIMS(DatumGetArrayTypeP(((Const *) e)->constvalue)));
	return 2;
}

/*
 * LIMIT n can stop a paged listing early when the scan's rows go straight
 * to the Limit node: one base relation, every qual applied exactly by the
 * API, and nothing between (no sort, grouping, window or set-returning
 * function: the planner leaves limit_tuples at -1 for the latter).
 */
static int64
pushable_limit(PlannerInfo *root, RelOptInfo *baserel, const QsRelInfo *info)
{
	if (info->ep->shape != QS_SHAPE_PAGES || !info->all_exact ||
		root->limit_tuples <= 0 ||
		root->limit_tuples > (double) PG_INT64_MAX ||
		root->parse->sortClause != NIL ||
		baserel->reloptkind != RELOPT_BASEREL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON)
		return 0;
	return (int64) root->limit_tuples;
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

static void
qsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	QsRelInfo *info = palloc0(sizeof(QsRelInfo));
	ListCell *lc;
	double rows;
	Relation rel;

	info->ep = table_endpoint(foreigntableid);
	/* columns the endpoint cannot produce fail here, before any request */
	rel = table_open(foreigntableid, NoLock);
	qs_mapper_check_columns(
		info->ep, RelationGetDescr(rel),
		psprintf("foreign table \"%s\"", RelationGetRelationName(rel)));
	table_close(rel, NoLock);
	info->all_exact = true;
	foreach (lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = (RestrictInfo *) lfirst(lc);
		bool exact = false;

		if (!classify_qual(info, baserel, foreigntableid, ri->clause, &exact))
			info->local_quals = lappend(info->local_quals, ri);
		info->all_exact &= exact;
	}
	info->limit = pushable_limit(root, baserel, info);

	/* rows the requests return, then the quals that stay local */
	if (info->ep->per_instance)
	{
		QsPushed *pp = pushed_of_kind(info, QSF_PERIOD);
		char *period = pp && pp->op == QS_OP_EQ ? const_text(pp->value) : NULL;
		bool month = period != NULL && strcmp(period, "30d") == 0;
		double per_instance =
			info->ep->shape == QS_SHAPE_STATS ? (month ? 1830 : 570) : 1;

		rows = per_instance * push_count(info, QSF_INSTANCE, 2) *
			   push_count(info, QSF_PERIOD, 1);
	}
	else if (pushed_of_kind(info, QSF_PATH_ID) != NULL)
		rows = push_count(info, QSF_PATH_ID, 1);
	else
	{
		rows = info->ep->rows;
		/* the API's filters: a tenth each, like an equality on a column */
		foreach (lc, info->pushed)
			rows *= 0.1;
		if (info->limit > 0)
			rows = Min(rows, (double) info->limit);
	}
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
		requests = push_count(info, QSF_INSTANCE, 3) *
				   push_count(info, QSF_PERIOD, 1);
	else if (pushed_of_kind(info, QSF_PATH_ID) != NULL)
		requests = push_count(info, QSF_PATH_ID, 1);
	else if (info->ep->shape == QS_SHAPE_PAGES)
		requests = ceil(baserel->rows / QS_PAGE_SIZE);
	startup = QS_REQUEST_COST * requests;
	total = startup + baserel->rows * cpu_tuple_cost;
	add_path(baserel, (Path *) create_foreignscan_path(
						  root, baserel, NULL, baserel->rows, startup, total,
						  NIL, NULL, NULL,
#if PG_VERSION_NUM >= 170000
						  NIL, /* fdw_restrictinfo */
#endif
						  NIL));
}

/* "state = 'ERROR'::text": how EXPLAIN VERBOSE shows a pushed qual */
static char *
pushed_text(const QsRelInfo *info, const QsPushed *p)
{
	const QsFilter *f = &info->ep->filters[p->filter];
	char *v = deparse_expression((Node *) p->value, NIL, false, false);

	if (f->kind == QSF_ELEMENT)
		return psprintf("%s = ANY (%s)", v, f->column);
	return psprintf("%s %s %s", f->column, op_names[p->op], v);
}

/* catalog order, lower bound first: a stable EXPLAIN and query string */
static int
cmp_pushed(const ListCell *a, const ListCell *b)
{
	const QsPushed *pa = (const QsPushed *) lfirst(a);
	const QsPushed *pb = (const QsPushed *) lfirst(b);

	if (pa->filter != pb->filter)
		return pa->filter - pb->filter;
	return (int) pa->op - (int) pb->op;
}

/*
 * fdw_private: [endpoint name, filter indexes (int list), ops (int list),
 * display texts, limit (string)]; fdw_exprs: the values, in the same order.
 */
static ForeignScan *
qsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				 ForeignPath *best_path, List *tlist, List *scan_clauses,
				 Plan *outer_plan)
{
	QsRelInfo *info = (QsRelInfo *) baserel->fdw_private;
	List *filters = NIL;
	List *ops = NIL;
	List *texts = NIL;
	List *exprs = NIL;
	ListCell *lc;

	list_sort(info->pushed, cmp_pushed);
	foreach (lc, info->pushed)
	{
		QsPushed *p = (QsPushed *) lfirst(lc);

		filters = lappend_int(filters, p->filter);
		ops = lappend_int(ops, p->op);
		texts = lappend(texts, makeString(pushed_text(info, p)));
		exprs = lappend(exprs, p->value);
	}

	/* every qual is checked locally too: pushing only narrows the fetch */
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(
		tlist, scan_clauses, baserel->relid, exprs,
		list_make5(makeString(pstrdup(info->ep->name)), filters, ops, texts,
				   makeString(psprintf(INT64_FORMAT, info->limit))),
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
	List *filters = lsecond(fsplan->fdw_private);
	List *ops = lthird(fsplan->fdw_private);
	List *fan[3] = {NIL}; /* PATH_ID, INSTANCE, PERIOD values */
	QsParams base = {0};
	QsScanState *st;
	QsConn *conn;
	QsMapper *mapper;
	ListCell *lf;
	ListCell *lo;
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
	base.limit = pg_strtoint64(strVal(list_nth(fsplan->fdw_private, 4)));

	forthree(lf, filters, lo, ops, le, fsplan->fdw_exprs)
	{
		const QsFilter *f = &ep->filters[lfirst_int(lf)];
		QsOp op = (QsOp) lfirst_int(lo);
		Expr *expr = (Expr *) lfirst(le);
		ExprState *state = ExecInitExpr(expr, (PlanState *) node);
		List *values;

		if (f->kind == QSF_TIME)
		{
			bool isnull;
			Datum d = ExecEvalExpr(state, node->ss.ps.ps_ExprContext, &isnull);

			if (isnull || !qs_params_add_bound(
							  &base, DatumGetTimestampTz(d), is_lower(op),
							  op == QS_OP_GT || op == QS_OP_LT))
				return; /* no row can match */
			continue;
		}

		values = eval_values(state, expr, op == QS_OP_IN,
							 node->ss.ps.ps_ExprContext);
		/* col = NULL, or IN of nothing but NULLs: no row can match */
		if (values == NIL)
			return;
		switch (f->kind)
		{
			case QSF_PATH_ID:
				fan[0] = values;
				break;
			case QSF_INSTANCE:
				fan[1] = values;
				break;
			case QSF_PERIOD:
				foreach (l1, values)
					qs_check_period((const char *) lfirst(l1));
				fan[2] = values;
				break;
			case QSF_QUERY:
			case QSF_ELEMENT:
			{
				QsFilterValues *fv = palloc(sizeof(QsFilterValues));

				fv->filter = f;
				fv->values = values;
				base.filters = lappend(base.filters, fv);
				break;
			}
			case QSF_TIME:
				break;
		}
	}

	for (int i = 0; i < 3; i++)
	{
		if (fan[i] == NIL)
			fan[i] = list_make1(NULL);
	}
	foreach (l1, fan[2])
	{
		foreach (l2, fan[1])
		{
			ListCell *l3;

			foreach (l3, fan[0])
			{
				QsParams p = base;

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

	MemoryContext old;
	bool found;

	/*
	 * A tuple read back from a spilled tuplestore is allocated in the
	 * current context and owned by the slot until the next one: read it in
	 * the scan's context, not in the per-tuple context that the executor
	 * resets between rows.
	 */
	old = MemoryContextSwitchTo(node->ss.ps.state->es_query_cxt);
	found = tuplestore_gettupleslot(st->store, true, false, st->mslot);
	MemoryContextSwitchTo(old);
	if (!found)
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

/* "GET /v2/events?count=100&state={state}&cursor=...": the request shape */
static char *
request_text(const QsEndpoint *ep, List *filters, List *ops, int64 limit)
{
	StringInfoData buf;
	ListCell *lf;
	ListCell *lo;

	initStringInfo(&buf);
	if (ep->per_instance)
		appendStringInfo(&buf, "GET %s%s", psprintf(ep->path, "{qstash_id}"),
						 ep->takes_period ? "?period={period}" : "");
	else if (ep->shape != QS_SHAPE_PAGES)
		appendStringInfo(&buf, "GET %s", ep->path);
	else
	{
		appendStringInfo(&buf, "GET %s?count=%d", ep->path,
						 limit > 0 && limit < QS_PAGE_SIZE ? (int) limit
														   : QS_PAGE_SIZE);
		forboth(lf, filters, lo, ops)
		{
			const QsFilter *f = &ep->filters[lfirst_int(lf)];

			if (f->kind == QSF_TIME)
				appendStringInfo(&buf, "&%s={%s}",
								 is_lower((QsOp) lfirst_int(lo)) ? "fromDate"
																 : "toDate",
								 f->column);
			else
				appendStringInfo(&buf, "&%s={%s}", f->query, f->column);
		}
		appendStringInfoString(&buf, "&cursor=...");
	}
	return buf.data;
}

static void
qsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	const QsEndpoint *ep =
		qs_endpoint_lookup(strVal(linitial(fsplan->fdw_private)));
	List *texts = lfourth(fsplan->fdw_private);
	int64 limit = pg_strtoint64(strVal(list_nth(fsplan->fdw_private, 4)));

	if (es->verbose)
	{
		ListCell *lc;
		StringInfoData buf;

		initStringInfo(&buf);
		foreach (lc, texts)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
							 strVal(lfirst(lc)));
		ExplainPropertyText("QStash Endpoint", ep->name, es);
		ExplainPropertyText("QStash Request",
							request_text(ep, lsecond(fsplan->fdw_private),
										 lthird(fsplan->fdw_private), limit),
							es);
		if (buf.len > 0)
			ExplainPropertyText("QStash Pushed", buf.data, es);
		if (limit > 0)
			ExplainPropertyInteger("QStash Limit", NULL, limit, es);
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
