/*-------------------------------------------------------------------------
 *
 * shared.h
 *		What backends share with shared_preload_libraries = 'qstash':
 *		rate-limit state and responses (see shared.c).  Without the
 *		preload every function is a no-op.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_SHARED_H
#define QSTASH_SHARED_H

#include "nodes/pg_list.h"

#include "cache.h"
#include "catalog.h"
#include "http.h"
#include "options.h"

extern bool qs_guc_shared_fail_fast;

extern void qs_shared_init(void);
extern bool qs_shared_on(void);
extern void qs_shared_bump_generation(void);

extern void qs_shared_observe(const QsConn *conn, QsApi api,
							  const QsHttpResponse *resp);
extern List *qs_shared_observed(void);
extern void qs_shared_forget_limits(void);
extern void qs_shared_before_request(const QsConn *conn, QsApi api,
									 const char *path);

extern bool qs_shared_cache_get(const QsCacheKey *key, long *status,
								char **body, size_t *len);
extern void qs_shared_cache_put(const QsCacheKey *key, long status,
								const char *body, size_t len);

#endif /* QSTASH_SHARED_H */
