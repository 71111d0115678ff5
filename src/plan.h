/*-------------------------------------------------------------------------
 *
 * plan.h
 *		The request plan: what a scan of one endpoint asks the API for.
 *
 * A QsRequestPlan is built once: at plan time by the pushdown module from
 * the quals of a foreign table (carried in fdw_private), or by a SQL
 * function from its arguments.  Its parameters are expressions; when the
 * scan starts they are evaluated into a QsRequest, whose every request
 * path is rendered by qs_request_path(), the one function that both the
 * runner (what is sent) and EXPLAIN (what is shown) use.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_PLAN_H
#define QSTASH_PLAN_H

#include "datatype/timestamp.h"
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

/* Values of one query-parameter filter: ?query=v1&query=v2 */
typedef struct QsFilterValues
{
	const QsFilter *filter;
	List *values; /* of char *, in the database encoding */
} QsFilterValues;

/* A request plan with its values: what the scan sends. */
typedef struct QsRequest
{
	const QsEndpoint *ep;
	List *ids;		  /* lookups by key (path_by_id); NIL: the list path */
	List *qstash_ids; /* per-instance endpoints; NIL: every instance */
	List *periods;	  /* endpoints that take one; never NIL once resolved */
	List *filters;	  /* of QsFilterValues *: query parameters */
	bool has_from;	  /* fromDate / toDate: unix ms, inclusive */
	bool has_to;
	int64 from_ms;
	int64 to_ms;
	bool has_limit;
	int64 limit;
	bool empty; /* no row can match: nothing is sent */
	/* paged listings read a few pages at a time (the archive): */
	const char *cursor; /* the first page's cursor (UTF-8), or NULL */
	int page_budget;	/* stop after this many pages; 0: read to the end */
} QsRequest;

/* Which response of a request: the fan-out coordinates of one GET. */
typedef struct QsTarget
{
	const char *id;		   /* lookup key, or NULL */
	const char *qstash_id; /* instance, or NULL (EXPLAIN: "{qstash_id}") */
	const char *period;	   /* or NULL */
} QsTarget;

extern const char *const qs_request_next_cursor;
extern bool qs_op_is_lower(QsOp op);
extern QsRequest *qs_request_resolve(const QsRequestPlan *plan,
									 List *exprstates, ExprContext *econtext);
extern char *qs_request_path(const QsRequest *r, const QsTarget *t,
							 int64 count, const char *cursor);
extern int64 qs_request_page_size(const QsRequest *r, int64 rows_so_far);
extern List *qs_request_explain(const QsRequest *r);

extern void qs_plan_sort(QsRequestPlan *plan);

/* fdw_private of a foreign scan: the plan under named indexes */
extern List *qs_plan_to_private(const QsRequestPlan *plan, List **exprs);
extern QsRequestPlan *qs_plan_from_private(List *fdw_private, List *exprs);
extern char *qs_plan_param_text(const QsPlanParam *p);

#endif /* QSTASH_PLAN_H */
