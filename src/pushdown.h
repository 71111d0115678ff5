/*-------------------------------------------------------------------------
 *
 * pushdown.h
 *		Which quals of a foreign table scan go into the request, and the
 *		request plan they make (the counterpart of postgres_fdw's deparse.c
 *		and shippable.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_PUSHDOWN_H
#define QSTASH_PUSHDOWN_H

#include "nodes/pathnodes.h"

#include "plan.h"

/* Planner state of a foreign table scan, in baserel->fdw_private. */
typedef struct QsRelInfo
{
	QsRequestPlan *plan; /* endpoint, pushed parameters, LIMIT */
	List *local_quals;	 /* RestrictInfos not pushed: selectivity only */
	bool all_exact;		 /* every qual pushed, and applied exactly */
} QsRelInfo;

extern QsRelInfo *qs_pushdown_classify(PlannerInfo *root, RelOptInfo *baserel,
									   Oid relid, const QsEndpoint *ep);
extern QsPlanParam *qs_pushdown_param_of_kind(const QsRequestPlan *plan,
											  QsFilterKind kind);
extern double qs_pushdown_value_count(const QsRequestPlan *plan,
									  QsFilterKind kind, double unknown);

#endif /* QSTASH_PUSHDOWN_H */
