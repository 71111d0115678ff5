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

typedef struct QsCacheKey
{
	Oid serverid;
	Oid umid;
	Oid userid;
	uint64 fingerprint; /* of the credentials sent (QsConn) */
	const char *url;
} QsCacheKey;

/* A hit returns the cached status and body (valid until the next put). */
extern bool qs_cache_get(const QsCacheKey *key, long *status,
						 const char **body, size_t *len);
extern void qs_cache_put(const QsCacheKey *key, long status, const char *body,
						 size_t len);
extern void qs_cache_reset(void);

#endif /* QSTASH_CACHE_H */
