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

#include "cache.h"
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

/* One response (qs_fetch_response). */
typedef struct QsResponse
{
	const QsCachedRows *rows; /* rows of an identical mapping: no parse */
	QsJson *doc;			  /* else the parsed body; NULL when missing */
	long status;
	/* for qs_fetch_keep() */
	QsCacheKey key;
	MemoryContext body_cxt; /* a fetched body; NULL when from the cache */
	bool to_share;			/* fetched here: qs_fetch_keep() shares it */
	const char *body;
	size_t len;
} QsResponse;

extern void qs_fetch_response(const QsConn *conn, QsApi api, const char *path,
							  bool missing_ok, bool lazy, const char *sig,
							  size_t siglen, int64 max_rows,
							  QsFetchStats *stats, QsResponse *resp);
extern void qs_fetch_keep(QsResponse *resp, QsCachedRows *rows);

/* A response parsed, and kept for reuse. */
extern QsJson *qs_fetch(const QsConn *conn, QsApi api, const char *path,
						bool missing_ok, QsFetchStats *stats);

#endif /* QSTASH_FETCH_H */
