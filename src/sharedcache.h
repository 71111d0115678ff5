/*-------------------------------------------------------------------------
 *
 * sharedcache.h
 *		Responses shared by all backends, with shared_preload_libraries =
 *		'qstash' and qstash.cache_ttl > 0 (see sharedcache.c).  Without the
 *		preload every function is a no-op.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_SHAREDCACHE_H
#define QSTASH_SHAREDCACHE_H

#include "storage/lwlock.h"

#include "cache.h"

/* A change of a server or user mapping: every shared response is stale. */
extern void qs_shared_bump_generation(void);

extern bool qs_shared_cache_get(const QsCacheKey *key, long *status,
								char **body, size_t *len);
extern void qs_shared_cache_put(const QsCacheKey *key, long status,
								const char *body, size_t len);

/*
 * For the preload (shared.c): the setting and the catalogs watched, when
 * the library is preloaded; the bytes of shared memory needed; and where
 * they are, guarded by lock (found: set up by another process already).
 */
extern void qs_shared_cache_init(void);
extern Size qs_shared_cache_size(void);
extern void qs_shared_cache_attach(void *mem, LWLock *lock, bool found);

#endif /* QSTASH_SHAREDCACHE_H */
