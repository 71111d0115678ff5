/*-------------------------------------------------------------------------
 *
 * qstash.h
 *		Module-wide declarations of pg_qstash: version and settings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_H
#define QSTASH_H

/* QSTASH_VERSION comes from qstash.control, through the Makefile */
#ifndef QSTASH_VERSION
#error "QSTASH_VERSION is not defined: build with the Makefile"
#endif
#define QSTASH_USER_AGENT "pg_qstash/" QSTASH_VERSION

/* GUC variables, defined in qstash.c */
extern char *qs_guc_server;
extern int qs_guc_timeout_ms;
extern int qs_guc_connect_timeout_ms;
extern int qs_guc_max_response_bytes;
extern int qs_guc_max_retries;
extern int qs_guc_retry_max_wait_ms;
extern int qs_guc_cache_ttl;
extern int qs_guc_cache_max_bytes;
extern int qs_guc_max_pages;
extern char *qs_guc_ca_file;
extern bool qs_guc_shared_fail_fast;

extern void qs_guc_define(void);

#endif /* QSTASH_H */
