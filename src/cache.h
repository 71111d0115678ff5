/*-------------------------------------------------------------------------
 *
 * cache.h
 *		Responses kept for reuse: always within one statement (a snapshot,
 *		see cache.c), and across statements for qstash.cache_ttl seconds.
 *		Keyed by server, user mapping, user, credentials and URL, so two
 *		roles, or one role before and after a change of its mapping, never
 *		share an entry.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_CACHE_H
#define QSTASH_CACHE_H

#include "access/htup.h"
#include "utils/palloc.h"

typedef struct QsCacheKey
{
	Oid serverid;
	Oid umid;
	Oid userid;
	uint64 fingerprint; /* of the credentials sent (QsConn) */
	const char *url;
} QsCacheKey;

/*
 * Rows mapped from a cached response, kept with it: a later mapping with
 * the same signature (qs_mapper_signature: endpoint, columns and their
 * types, settings that change a conversion) takes them instead of parsing
 * the body again.
 */
typedef struct QsCachedRows
{
	MemoryContext cxt; /* holds this struct, the tuples and the cursor */
	char *sig;
	size_t siglen;
	int64 limit; /* mapped with at most this many rows; -1: all */
	int64 nrows;
	int64 cap;
	MinimalTuple *tuples;
	char *cursor; /* of a page: the next page's cursor, or NULL */
	struct QsCachedRows *next;
} QsCachedRows;

typedef struct QsCacheHit
{
	long status;
	const char *body; /* valid while the current memory context lives */
	size_t len;
	const QsCachedRows *rows; /* rows that can serve the mapping, or NULL */
} QsCacheHit;

/*
 * Look key up (a hit stays valid, even if dropped from the cache, until the
 * current memory context is reset); with a signature, also rows mapped by an identical mapping
 * that hold the first max_rows rows (-1: all).
 */
extern bool qs_cache_get(const QsCacheKey *key, const char *sig, size_t siglen,
						 int64 max_rows, QsCacheHit *hit);

/*
 * Keep a response.  body_cxt, the context holding body, becomes the
 * cache's (no copy); NULL when the response came from the cache, and only
 * rows are added to its entry.  rows (its context) becomes the cache's too,
 * or is freed when there is no entry to add it to.
 */
extern void qs_cache_put(const QsCacheKey *key, long status,
						 MemoryContext body_cxt, const char *body, size_t len,
						 QsCachedRows *rows);
extern void qs_cache_reset(void);

#endif /* QSTASH_CACHE_H */
