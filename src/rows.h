/*-------------------------------------------------------------------------
 *
 * rows.h
 *		The response -> tuple mapper, driven by the endpoint catalog and the
 *		tuple descriptor of the caller (a function result or a foreign
 *		table; columns are matched by name).
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_ROWS_H
#define QSTASH_ROWS_H

#include "access/tupdesc.h"
#include "nodes/pg_list.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "json.h"

typedef struct QsMapper QsMapper;

/* Values of one QSF_QUERY / QSF_ELEMENT filter: ?query=v1&query=v2 */
typedef struct QsFilterValues
{
	const QsFilter *filter;
	List *values; /* of char *, as the API expects them */
} QsFilterValues;

/*
 * The parameters of one request (or of one paged listing).  Columns of kind
 * QSC_PARAM report qstash_id and period.
 */
typedef struct QsParams
{
	const char *id; /* fetch this one object (path_by_id) */
	const char *qstash_id;
	const char *period;
	List *filters; /* of QsFilterValues *: query parameters */
	bool has_from; /* fromDate / toDate, unix ms, inclusive */
	bool has_to;
	int64 from_ms;
	int64 to_ms;
	int64 limit; /* paged endpoints: stop after this many rows; 0: all */
} QsParams;

extern void qs_mapper_check_columns(const QsEndpoint *ep, TupleDesc tupdesc,
									const char *objname);
extern QsMapper *qs_mapper_create(const QsEndpoint *ep, TupleDesc tupdesc,
								  bool reveal_secrets, const char *objname);
extern int64 qs_mapper_put(QsMapper *m, QsJson *doc, const QsParams *params,
						   int64 max_rows, Tuplestorestate *store);

#endif /* QSTASH_ROWS_H */
