/*-------------------------------------------------------------------------
 *
 * shared.h
 *		What backends share with shared_preload_libraries = 'qstash':
 *		rate-limit state, fail-fast and the burst budget (responses:
 *		sharedcache.h).  Without the preload every
 *		function is a no-op.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_SHARED_H
#define QSTASH_SHARED_H

#include "nodes/pg_list.h"

#include "catalog.h"
#include "http.h"
#include "conn.h"

extern void qs_shared_init(void);
extern bool qs_shared_on(void);

extern void qs_shared_observe(const QsConn *conn, QsApi api,
							  const QsHttpResponse *resp);
extern List *qs_shared_observed(void);
extern void qs_shared_forget_limits(void);
extern void qs_shared_before_request(const QsConn *conn, QsApi api,
									 const char *path);

#endif /* QSTASH_SHARED_H */
