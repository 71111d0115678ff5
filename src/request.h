/*-------------------------------------------------------------------------
 *
 * request.h
 *		A request plan with its values: what a scan sends, as a list of
 *		steps (qs_request_steps) and their paths (qs_request_path), the
 *		same for the runner and for EXPLAIN.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_REQUEST_H
#define QSTASH_REQUEST_H

#include "nodes/execnodes.h"
#include "nodes/pg_list.h"

#include "catalog.h"
#include "plan.h"

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
	QsShape shape;		   /* of the response's rows */
} QsTarget;

/* One step of the requests of a scan (qs_request_steps). */
typedef enum QsStepKind
{
	QS_STEP_GET,		   /* one GET: the target */
	QS_STEP_INSTANCES,	   /* GET the account's instances, a response of
							* its own without rows: the ids that the
							* following QS_STEP_EACH_INSTANCE steps use */
	QS_STEP_EACH_INSTANCE, /* one GET per listed instance, for the
							* target's period */
	QS_STEP_PAGES		   /* the first page, then the next one while the
							* API returns a cursor (from r->cursor, for
							* r->page_budget pages, when given) */
} QsStepKind;

typedef struct QsStep
{
	QsStepKind kind;
	QsTarget target;
	bool missing_ok; /* a key or instance the caller gave: a 404 is no
					  * rows, not an error */
} QsStep;

extern const char *const qs_request_next_cursor;
extern QsRequest *qs_request_resolve(const QsRequestPlan *plan,
									 List *exprstates, ExprContext *econtext);
extern List *qs_request_steps(const QsRequest *r);
extern char *qs_request_step_path(const QsRequest *r, const QsStep *s);
extern char *qs_request_path(const QsRequest *r, const QsTarget *t,
							 int64 count, const char *cursor);
extern int64 qs_request_page_size(const QsRequest *r, int64 rows_so_far);
extern List *qs_request_explain(const QsRequest *r);

#endif /* QSTASH_REQUEST_H */
