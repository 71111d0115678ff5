/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		Which quals go into the request.
 *
 * A qual is pushed when it compares a column that one of the endpoint's
 * filters names (catalog.c: ids, periods, the REST API's query parameters,
 * time ranges) with a value known when the scan starts (constants, $n,
 * stable expressions such as now() - '1 day'), with an operator the API
 * applies the same way (byte equality under a deterministic collation,
 * timestamptz order).  Every qual is still checked locally, so results
 * are always right; pushing only narrows what is fetched.  A LIMIT stops a
 * paged listing early when nothing else can drop or reorder rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "pushdown.h"

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

/*
 * The request slot a pushed qual fills: one per filter and query parameter
 * (label and labels share "label").  A time range takes every bound: the
 * request keeps the tightest on each side (request_add_bound), so that two
 * lower bounds send the later one, whichever the query names first.
 */
static bool
slot_taken(const QsRequestPlan *plan, const QsFilter *f)
{
	ListCell *lc;

	if (f->kind == QSF_TIME)
		return false;
	foreach (lc, plan->params)
	{
		const QsFilter *g = ((QsPlanParam *) lfirst(lc))->filter;

		if (g == f ||
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

/* col op v (either way round): the filter it sets, or NULL */
static const QsFilter *
opexpr_filter(const QsEndpoint *ep, OpExpr *o, Index relid, Oid tableid,
			  int *op, Node **value)
{
	Var *var;

	if (list_length(o->args) != 2 ||
		(*op = op_kind(get_opcode(o->opno))) < 0 ||
		!exact_collation(o->inputcollid))
		return NULL;
	if ((var = our_var(linitial(o->args), relid)) != NULL)
		*value = lsecond(o->args);
	else if ((var = our_var(lsecond(o->args), relid)) != NULL)
	{
		*value = linitial(o->args);
		*op = commute_kind(*op);
	}
	else
		return NULL;
	if (*op == QS_OP_EQ)
		return qs_endpoint_equality_filter(
			ep, get_attname(tableid, var->varattno, false));
	/*
	 * timestamptz(p) rounds the API's milliseconds: the rounded value and
	 * the API's bound could disagree
	 */
	if (var->vartypmod >= 0)
		return NULL;
	return qs_endpoint_filter(ep, get_attname(tableid, var->varattno, false),
							  QSF_TIME);
}

/*
 * The constant values of a qual on a filter with a fixed set (the log
 * state) that stays local (col IN (...), which the API cannot take): each
 * is checked as a pushed one would be, so that a value no row can carry is
 * an error, never an empty result.  Empty values match no row, as pushed.
 */
static void
check_kept_values(const QsFilter *f, Node *value)
{
	Const *c = (Const *) value;
	ArrayType *arr;
	Oid elemtype;
	int16 typlen;
	bool typbyval;
	char typalign;
	Datum *elems;
	bool *nulls;
	int n;
	Oid outfunc;
	bool isvarlena;

	if (f->valid == NULL || !IsA(value, Const) || c->constisnull ||
		!OidIsValid(get_element_type(c->consttype)))
		return;
	arr = DatumGetArrayTypeP(c->constvalue);
	elemtype = ARR_ELEMTYPE(arr);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems,
					  &nulls, &n);
	getTypeOutputInfo(elemtype, &outfunc, &isvarlena);
	for (int i = 0; i < n; i++)
	{
		char *v;

		if (nulls[i])
			continue;
		v = OidOutputFunctionCall(outfunc, elems[i]);
		if (v[0] != '\0')
			(void) qs_filter_value(f, v, false);
	}
}

/* col IN (...), or v = ANY(array column): the filter it sets, or NULL */
static const QsFilter *
saop_filter(const QsEndpoint *ep, ScalarArrayOpExpr *o, Index relid,
			Oid tableid, int *op, Node **value)
{
	Var *var;
	const QsFilter *f;

	if (!o->useOr || list_length(o->args) != 2 ||
		op_kind(get_opcode(o->opno)) != QS_OP_EQ ||
		!exact_collation(o->inputcollid))
		return NULL;
	if ((var = our_var(linitial(o->args), relid)) != NULL)
	{
		/* col IN (...): several values in one request, or a fan-out */
		*op = QS_OP_IN;
		*value = lsecond(o->args);
		f = qs_endpoint_equality_filter(
			ep, get_attname(tableid, var->varattno, false));
		if (f != NULL && f->kind == QSF_QUERY && !f->multi)
		{
			check_kept_values(f, *value);
			return NULL; /* the API takes one value */
		}
		return f;
	}
	if ((var = our_var(lsecond(o->args), relid)) != NULL)
	{
		/* v = ANY(array column) */
		*op = QS_OP_EQ;
		*value = linitial(o->args);
		return qs_endpoint_filter(
			ep, get_attname(tableid, var->varattno, false), QSF_ELEMENT);
	}
	return NULL;
}

/* Push the qual into the plan if it can set a request parameter. */
static bool
push_qual(QsRequestPlan *plan, Index relid, Oid tableid, Expr *clause,
		  bool *exact)
{
	const QsFilter *f = NULL;
	Node *value = NULL;
	int op = -1;
	QsPlanParam *p;

	if (IsA(clause, OpExpr))
		f = opexpr_filter(plan->ep, (OpExpr *) clause, relid, tableid, &op,
						  &value);
	else if (IsA(clause, ScalarArrayOpExpr))
		f = saop_filter(plan->ep, (ScalarArrayOpExpr *) clause, relid, tableid,
						&op, &value);
	if (f == NULL || value == NULL || !is_scan_constant(value) ||
		slot_taken(plan, f))
		return false;

	p = palloc(sizeof(QsPlanParam));
	p->filter = f;
	p->op = op;
	p->value = (Expr *) value;
	plan->params = lappend(plan->params, p);
	*exact =
		(f->kind == QSF_QUERY || f->kind == QSF_ELEMENT) ? f->exact : true;
	return true;
}

/*
 * LIMIT n can stop a paged listing early when the scan's rows go straight
 * to the Limit node: one base relation, every qual applied exactly by the
 * API, and nothing between (no sort, grouping, window or set-returning
 * function: the planner leaves limit_tuples at -1 for the latter).
 */
static void
push_limit(PlannerInfo *root, RelOptInfo *baserel, QsRelInfo *info)
{
	if (info->plan->ep->access != QS_ACCESS_PAGED || !info->all_exact ||
		root->limit_tuples <= 0 ||
		root->limit_tuples > (double) PG_INT64_MAX ||
		root->parse->sortClause != NIL ||
		baserel->reloptkind != RELOPT_BASEREL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON)
		return;
	info->plan->has_limit = true;
	info->plan->limit = (int64) root->limit_tuples;
}

/*
 * Split the quals of a foreign table scan into the request plan and the
 * quals that stay local only.
 */
QsRelInfo *
qs_pushdown_classify(PlannerInfo *root, RelOptInfo *baserel, Oid relid,
					 const QsEndpoint *ep)
{
	QsRelInfo *info = palloc0(sizeof(QsRelInfo));
	ListCell *lc;

	info->plan = palloc0(sizeof(QsRequestPlan));
	info->plan->ep = ep;
	info->all_exact = true;
	foreach (lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = (RestrictInfo *) lfirst(lc);
		bool exact = false;

		if (!push_qual(info->plan, baserel->relid, relid, ri->clause, &exact))
			info->local_quals = lappend(info->local_quals, ri);
		info->all_exact &= exact;
	}
	qs_plan_sort(info->plan);
	push_limit(root, baserel, info);
	return info;
}

QsPlanParam *
qs_pushdown_param_of_kind(const QsRequestPlan *plan, QsFilterKind kind)
{
	ListCell *lc;

	foreach (lc, plan->params)
	{
		QsPlanParam *p = (QsPlanParam *) lfirst(lc);

		if (p->filter->kind == kind)
			return p;
	}
	return NULL;
}

/* Number of values of a pushed parameter, when the plan knows it. */
double
qs_pushdown_value_count(const QsRequestPlan *plan, QsFilterKind kind,
						double unknown)
{
	QsPlanParam *p = qs_pushdown_param_of_kind(plan, kind);
	Const *c;

	if (p == NULL)
		return unknown;
	if (p->op != QS_OP_IN)
		return 1;
	c = (Const *) p->value;
	if (IsA(c, Const) && !c->constisnull)
	{
		ArrayType *arr = DatumGetArrayTypeP(c->constvalue);

		return ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	}
	return 2;
}
