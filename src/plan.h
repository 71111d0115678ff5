/*-------------------------------------------------------------------------
 *
 * plan.h
 *		The request plan: what a scan of one endpoint asks the API for.
 *
 * A QsRequestPlan is built once: at plan time by the pushdown module from
 * the quals of a foreign table (carried in fdw_private), or by a SQL
 * function from its arguments.  Its parameters are expressions; when the
 * scan starts they are evaluated into a QsRequest (request.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_PLAN_H
#define QSTASH_PLAN_H

#include "nodes/execnodes.h"
#include "nodes/pg_list.h"

#include "catalog.h"

/* How a parameter compares its column with its value. */
typedef enum QsOp
{
	QS_OP_EQ, /* col = v, or v = ANY(array col) */
	QS_OP_IN, /* col IN (...) / col = ANY(array): several values */
	QS_OP_GE,
	QS_OP_GT,
	QS_OP_LE,
	QS_OP_LT
} QsOp;

/* One parameter of a request plan: a filter of the endpoint and its value. */
typedef struct QsPlanParam
{
	const QsFilter *filter;
	QsOp op;
	Expr *value; /* evaluated when the scan starts */
} QsPlanParam;

typedef struct QsRequestPlan
{
	const QsEndpoint *ep;
	List *params;	/* of QsPlanParam *, in request order */
	bool has_limit; /* stop a paged listing after limit rows */
	int64 limit;
	List *columns;	/* foreign scans: attnums of the columns the query
					* reads; the others are not converted (NULL) */
	bool fold_case; /* the SQL functions: a value of a filter with a fixed
					 * set matches it case-insensitively */
} QsRequestPlan;

extern bool qs_plan_op_is_lower(QsOp op);
extern void qs_plan_sort(QsRequestPlan *plan);

/* fdw_private of a foreign scan: the plan under named indexes */
extern List *qs_plan_to_private(const QsRequestPlan *plan, List **exprs);
extern QsRequestPlan *qs_plan_from_private(List *fdw_private, List *exprs);
extern char *qs_plan_param_text(const QsPlanParam *p);

#endif /* QSTASH_PLAN_H */
