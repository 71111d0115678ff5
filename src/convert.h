/*-------------------------------------------------------------------------
 *
 * convert.h
 *		JSON value -> Datum of one column, as the catalog's conversion
 *		(QsConv) and the column's declared type say.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_CONVERT_H
#define QSTASH_CONVERT_H

#include "fmgr.h"

#include "catalog.h"
#include "json.h"

/* One column's conversion, set up once per scan. */
typedef struct QsColumnConv
{
	const QsColumn *col;  /* NULL: not converted (dropped, or not read) */
	const char *endpoint; /* for errors */
	Oid typid;
	int32 typmod;
	FmgrInfo input; /* looked up on first use (fast paths need none) */
	Oid ioparam;
	bool input_ready;
	MemoryContext mcxt; /* where the FmgrInfo lives */
} QsColumnConv;

extern void qs_convert_init(QsColumnConv *a, const QsColumn *col,
							const char *endpoint, Oid typid, int32 typmod);
extern Datum qs_convert_input(QsColumnConv *a, const char *s);
extern Datum qs_convert_value(QsColumnConv *a, QsJson *v, bool *isnull);
extern Datum qs_convert_body(QsColumnConv *a, QsJson *row, bool *isnull);

#endif /* QSTASH_CONVERT_H */
