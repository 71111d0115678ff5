/*-------------------------------------------------------------------------
 *
 * fetch.h
 *		GET one path of one server as the current user: URL, credentials,
 *		retries, response reuse (cache.c), error mapping and JSON parsing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_FETCH_H
#define QSTASH_FETCH_H

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

/* HTTP requests sent by this backend, retries included. */
extern int64 qs_requests_sent;

extern QsJson *qs_fetch(const QsConn *conn, QsApi api, const char *path,
						bool missing_ok, QsFetchStats *stats);

#endif /* QSTASH_FETCH_H */
