/*-------------------------------------------------------------------------
 *
 * fetch.h
 *		Send one GET of one server as the current user: URL, credentials,
 *		retries and backoff, error mapping.  response.c decides whether a
 *		GET is sent at all, and what becomes of its body.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_FETCH_H
#define QSTASH_FETCH_H

#include "catalog.h"
#include "http.h"
#include "conn.h"

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

/* One GET: of what, as whom, and where its counts go. */
typedef struct QsGet
{
	const QsConn *conn;
	QsApi api;
	const char *path;	 /* path and query string (request.c) */
	bool missing_ok;	 /* HTTP 404 answers: the object does not exist */
	QsFetchStats *stats; /* or NULL */
} QsGet;

extern char *qs_fetch_url(const QsGet *get);
extern void qs_fetch(const QsGet *get, const char *url, MemoryContext body_cxt,
					 QsHttpResponse *resp);

#endif /* QSTASH_FETCH_H */
