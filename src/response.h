/*-------------------------------------------------------------------------
 *
 * response.h
 *		The life of one response: reused or fetched, parsed, turned into
 *		rows, kept for reuse, released.  The one owner of a response's
 *		memory, and of the rows kept with it; the mapper only makes rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_RESPONSE_H
#define QSTASH_RESPONSE_H

#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "utils/tuplestore.h"

#include "fetch.h"
#include "json.h"
#include "mapper.h"

/*
 * Turns a parsed response into rows: puts them into sink, returns how many,
 * and for a page sets *cursor to the next page's cursor (or NULL).
 */
typedef int64 (*QsMapResponse)(void *arg, QsJson *doc, QsRowSink *sink,
							   char **cursor);

/* How the rows of a response are made; set up by qs_response_mapping(). */
typedef struct QsMapping
{
	TupleDesc tupdesc; /* of the rows */
	QsMapResponse map;
	void *arg;
	/* set for each response: */
	const char *sig; /* the mapping's identity now (qs_mapper_signature):
					  * rows of an identical mapping are reused; NULL:
					  * rows are never kept */
	size_t siglen;
	int64 max_rows; /* at most this many rows (-1: all) */
	/* private */
	TupleTableSlot *slot;
} QsMapping;

extern QsMapping *qs_response_mapping(TupleDesc tupdesc, QsMapResponse map,
									  void *arg);

/*
 * The rows of one response into store; returns how many.  *cursor: the
 * next page's cursor (in the current memory context) or NULL.  A 404 of a
 * GET with missing_ok gives no rows.
 */
extern int64 qs_response_rows(const QsGet *get, QsMapping *mapping,
							  Tuplestorestate *store, char **cursor);

/* One response parsed whole, in the current memory context (404: NULL). */
extern QsJson *qs_response_json(const QsGet *get);

#endif /* QSTASH_RESPONSE_H */
