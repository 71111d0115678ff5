/*-------------------------------------------------------------------------
 *
 * mapper.h
 *		The response -> tuple mapper, driven by the endpoint catalog and the
 *		tuple descriptor of the caller (a function result or a foreign
 *		table; columns are matched by name).  It puts rows into a sink and
 *		knows nothing of caching: response.c owns the rows it is given.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_MAPPER_H
#define QSTASH_MAPPER_H

#include "access/tupdesc.h"
#include "nodes/pg_list.h"

#include "catalog.h"
#include "json.h"
#include "request.h"

/* Where the mapper puts each row (values and nulls are the mapper's). */
typedef struct QsRowSink QsRowSink;
struct QsRowSink
{
	void (*put)(QsRowSink *sink, Datum *values, bool *nulls);
};

typedef struct QsMapper QsMapper;

extern void qs_mapper_check_columns(const QsEndpoint *ep, TupleDesc tupdesc,
									const char *objname);
extern QsMapper *qs_mapper_create(const QsEndpoint *ep, TupleDesc tupdesc,
								  bool reveal_secrets, const char *objname);
extern void qs_mapper_only(QsMapper *m, List *attnums);
extern TupleDesc qs_mapper_tupdesc(const QsMapper *m);
extern int64 qs_mapper_put(QsMapper *m, QsJson *doc, const QsTarget *target,
						   int64 max_rows, QsRowSink *sink);
extern const char *qs_mapper_signature(QsMapper *m, size_t *len);

#endif /* QSTASH_MAPPER_H */
