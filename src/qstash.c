/*-------------------------------------------------------------------------
 *
 * qstash.c
 *		The qstash.* settings: their variables, and their definition
 *		(qs_guc_define(), called by _PG_init() in init.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"
#include "utils/memutils.h"

#include "qstash.h"

char *qs_guc_server = NULL;
int qs_guc_timeout_ms = 30000;
int qs_guc_connect_timeout_ms = 10000;
int qs_guc_max_response_bytes = 64 * 1024 * 1024;
int qs_guc_max_retries = 3;
int qs_guc_retry_max_wait_ms = 2000;
int qs_guc_cache_ttl = 0;
int qs_guc_cache_max_bytes = 64 * 1024 * 1024;
int qs_guc_max_pages = 100;
char *qs_guc_ca_file = NULL;
bool qs_guc_shared_fail_fast = true;

/*
 * Every qstash.* setting but qstash.shared_cache_size, which exists only
 * when the library is preloaded (sharedcache.c).
 */
void
qs_guc_define(void)
{
	DefineCustomStringVariable(
		"qstash.server",
		"Foreign server used by the qstash_* functions when none is given.",
		NULL, &qs_guc_server, "upstash", PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"qstash.timeout_ms", "Total time allowed for one HTTP request.",
		"A server option timeout_ms overrides it.", &qs_guc_timeout_ms, 30000,
		1, INT_MAX, PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"qstash.connect_timeout_ms",
		"Time allowed to establish a connection to the API.",
		"A server option connect_timeout_ms overrides it.",
		&qs_guc_connect_timeout_ms, 10000, 1, INT_MAX, PGC_USERSET,
		GUC_UNIT_MS, NULL, NULL, NULL);

	/*
	 * The two memory bounds widen what one session may allocate (up to 512
	 * MB each): a superuser's, or a role's with GRANT SET ON PARAMETER.
	 */
	DefineCustomIntVariable("qstash.max_response_bytes",
							"Largest response body accepted from the API.",
							NULL, &qs_guc_max_response_bytes, 64 * 1024 * 1024,
							1024, MaxAllocSize / 2, PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("qstash.max_retries",
							"Retries of a GET that failed with a 5xx, a "
							"transport error or a near burst rate limit.",
							NULL, &qs_guc_max_retries, 3, 0, 10, PGC_USERSET,
							0, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"qstash.retry_max_wait_ms",
		"Longest wait for a burst rate limit to reset before retrying.", NULL,
		&qs_guc_retry_max_wait_ms, 2000, 0, 60000, PGC_USERSET, GUC_UNIT_MS,
		NULL, NULL, NULL);

	DefineCustomIntVariable("qstash.cache_ttl",
							"Seconds a response may be reused by later "
							"statements (0 = only within a statement).",
							NULL, &qs_guc_cache_ttl, 0, 0, 86400, PGC_USERSET,
							GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"qstash.cache_max_bytes",
		"Most memory the responses kept for reuse may take.",
		"Within a statement and for qstash.cache_ttl; the oldest responses "
		"are dropped first.",
		&qs_guc_cache_max_bytes, 64 * 1024 * 1024, 0, MaxAllocSize / 2,
		PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"qstash.max_pages",
		"Most pages one paged listing (logs, dlq) may fetch.",
		"A listing that needs more pages fails instead of returning a "
		"truncated result.",
		&qs_guc_max_pages, 100, 1, 1000000, PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomStringVariable(
		"qstash.ca_file",
		"File of CA certificates used to verify the API's TLS certificate.",
		"Empty means the system's default trust store.", &qs_guc_ca_file, "",
		PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable(
		"qstash.shared_fail_fast",
		"Fail a request at once while a daily or chat rate limit that any "
		"backend saw is exhausted.",
		"Only with shared_preload_libraries = 'qstash'.",
		&qs_guc_shared_fail_fast, true, PGC_USERSET, 0, NULL, NULL, NULL);
}
