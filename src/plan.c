/*-------------------------------------------------------------------------
 *
 * plan.c
 *		The request plan: what a scan of one endpoint asks for, as built at
 *		plan time (pushdown.c) or by a SQL function, and its place in a
 *		foreign scan's fdw_private.  Its values are evaluated when the scan
 *		starts, into a QsRequest (request.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/ruleutils.h"

#include "plan.h"

/* Names of the fdw_private members of a foreign scan. */
typedef enum QsPrivateIndex
{
	QS_PRIVATE_ENDPOINT,  /* String: the endpoint's name */
	QS_PRIVATE_FILTERS,	  /* IntList: filter of each parameter */
	QS_PRIVATE_OPS,		  /* IntList: QsOp of each parameter */
	QS_PRIVATE_HAS_LIMIT, /* Boolean */
	QS_PRIVATE_LIMIT,	  /* String: int64 */
	QS_PRIVATE_COLUMNS	  /* IntList: attnums the query reads */
} QsPrivateIndex;

static const char *const op_names[] = {"=", "IN", ">=", ">", "<=", "<"};

/* Is op a lower bound (col >= v, col > v)? */
bool
qs_plan_op_is_lower(QsOp op)
{
	return op == QS_OP_GE || op == QS_OP_GT;
}

/*
 * catalog order, lower bound first, then (two bounds of a time range on
 * one side) the values' node trees: a stable request and EXPLAIN
 */
static int
cmp_params(const ListCell *a, const ListCell *b)
{
	const QsPlanParam *pa = (const QsPlanParam *) lfirst(a);
	const QsPlanParam *pb = (const QsPlanParam *) lfirst(b);

	if (pa->filter != pb->filter)
		return pa->filter < pb->filter ? -1 : 1;
	if (pa->op != pb->op)
		return (int) pa->op - (int) pb->op;
	return strcmp(nodeToString(pa->value), nodeToString(pb->value));
}

/* Put the parameters in request order (catalog order of the filters). */
void
qs_plan_sort(QsRequestPlan *plan)
{
	list_sort(plan->params, cmp_params);
}

/* The plan in fdw_private (QsPrivateIndex); *exprs gets the values. */
List *
qs_plan_to_private(const QsRequestPlan *plan, List **exprs)
{
	List *filters = NIL;
	List *ops = NIL;
	ListCell *lc;

	*exprs = NIL;
	foreach (lc, plan->params)
	{
		QsPlanParam *p = (QsPlanParam *) lfirst(lc);

		filters = lappend_int(filters, p->filter - plan->ep->filters);
		ops = lappend_int(ops, p->op);
		*exprs = lappend(*exprs, p->value);
	}
	return lappend(list_make5(makeString(pstrdup(plan->ep->name)), filters,
							  ops, makeBoolean(plan->has_limit),
							  makeString(psprintf(INT64_FORMAT, plan->limit))),
				   list_copy(plan->columns));
}

QsRequestPlan *
qs_plan_from_private(List *fdw_private, List *exprs)
{
	QsRequestPlan *plan = palloc0(sizeof(QsRequestPlan));
	ListCell *lf;
	ListCell *lo;
	ListCell *le;

	plan->ep =
		qs_endpoint_lookup(strVal(list_nth(fdw_private, QS_PRIVATE_ENDPOINT)));
	Assert(plan->ep != NULL);
	plan->has_limit = boolVal(list_nth(fdw_private, QS_PRIVATE_HAS_LIMIT));
	plan->limit =
		pg_strtoint64(strVal(list_nth(fdw_private, QS_PRIVATE_LIMIT)));
	plan->columns = (List *) list_nth(fdw_private, QS_PRIVATE_COLUMNS);
	forthree(lf, (List *) list_nth(fdw_private, QS_PRIVATE_FILTERS), lo,
			 (List *) list_nth(fdw_private, QS_PRIVATE_OPS), le, exprs)
	{
		QsPlanParam *p = palloc(sizeof(QsPlanParam));

		p->filter = &plan->ep->filters[lfirst_int(lf)];
		p->op = (QsOp) lfirst_int(lo);
		p->value = (Expr *) lfirst(le);
		plan->params = lappend(plan->params, p);
	}
	return plan;
}

/* "state = 'ERROR'::text": a parameter as EXPLAIN VERBOSE names it */
char *
qs_plan_param_text(const QsPlanParam *p)
{
	char *v = deparse_expression((Node *) p->value, NIL, false, false);

	if (p->filter->kind == QSF_ELEMENT)
		return psprintf("%s = ANY (%s)", v, p->filter->column);
	return psprintf("%s %s %s", p->filter->column, op_names[p->op], v);
}
