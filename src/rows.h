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

#include "cache.h"
#include "catalog.h"
#include "json.h"
#include "plan.h"

typedef struct QsMapper QsMapper;

extern void qs_mapper_check_columns(const QsEndpoint *ep, TupleDesc tupdesc,
									const char *objname);
extern QsMapper *qs_mapper_create(const QsEndpoint *ep, TupleDesc tupdesc,
								  bool reveal_secrets, const char *objname);
extern void qs_mapper_only(QsMapper *m, List *attnums);
extern int64 qs_mapper_put(QsMapper *m, QsJson *doc, const QsTarget *target,
						   int64 max_rows, Tuplestorestate *store);

extern const char *qs_mapper_signature(QsMapper *m, size_t *len);
extern QsCachedRows *qs_mapper_keep(QsMapper *m, int64 limit);
extern void qs_mapper_keep_end(QsMapper *m);
extern int64 qs_mapper_put_kept(QsMapper *m, const QsCachedRows *rows,
								int64 max_rows, Tuplestorestate *store);

#endif /* QSTASH_ROWS_H */
