/*-------------------------------------------------------------------------
 *
 * scan.h
 *		Run one endpoint for one (server, user): build the request path(s)
 *		from the parameters, fetch, and map the rows into a tuplestore.
 *		The SQL functions and the FDW both call this and nothing else.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_SCAN_H
#define QSTASH_SCAN_H

#include "datatype/timestamp.h"

#include "catalog.h"
#include "options.h"
#include "request.h"
#include "rows.h"

extern bool qs_params_add_bound(QsParams *p, TimestampTz t, bool lower,
								bool strict);
extern void qs_scan(const QsConn *conn, const QsEndpoint *ep,
					const QsParams *params, QsMapper *mapper,
					Tuplestorestate *store, QsFetchStats *stats);

#endif /* QSTASH_SCAN_H */
