/*-------------------------------------------------------------------------
 *
 * request.h
 *		Fetch one endpoint of one server as the current user: URL, retries,
 *		error mapping and JSON parsing.  Shared by functions and the FDW.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_REQUEST_H
#define QSTASH_REQUEST_H

#include "catalog.h"
#include "json.h"
#include "options.h"

typedef struct QsFetchStats
{
	int requests;	 /* HTTP requests sent */
	int retries;	 /* of which retries */
	int connections; /* new TCP connections */
	int cache_hits;	 /* responses reused instead of fetched */
	int64 bytes;	 /* body bytes received */
} QsFetchStats;

extern QsJson *qs_fetch(const QsConn *conn, QsApi api, const char *path,
						bool missing_ok, QsFetchStats *stats);

#endif /* QSTASH_REQUEST_H */
