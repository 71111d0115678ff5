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
#include "utils/tuplestore.h"

#include "catalog.h"
#include "json.h"

typedef struct QsMapper QsMapper;

/* Request parameters that columns of kind QSC_PARAM report. */
typedef struct QsParams
{
	const char *id; /* users: fetch this one (GET /user/{id}) */
	const char *qstash_id;
	const char *period;
} QsParams;

extern QsMapper *qs_mapper_create(const QsEndpoint *ep, TupleDesc tupdesc,
								  bool reveal_secrets, const char *objname);
extern void qs_mapper_put(QsMapper *m, QsJson *doc, const QsParams *params,
						  Tuplestorestate *store);

#endif /* QSTASH_ROWS_H */
