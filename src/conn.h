/*-------------------------------------------------------------------------
 *
 * conn.h
 *		The resolved settings and credentials of a (server, user) pair.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_CONN_H
#define QSTASH_CONN_H

#include "catalog.h"

/* A server and the current user's mapping on it, resolved. */
typedef struct QsConn
{
	Oid serverid;
	Oid userid; /* the user the mapping was looked up for */
	Oid umid;	/* OID of the user mapping */
	char *servername;
	char *api_url;
	char *qstash_url;
	int timeout_ms;
	int connect_timeout_ms;
	char *email; /* secrets below: never print them */
	char *api_key;
	char *token;
	bool reveal_secrets;
	uint64 fingerprint; /* hash of the credentials, for cache keys */
	uint64 generation;	/* qs_conn_generation() when resolved */
} QsConn;

extern QsConn *qs_conn_by_name(const char *servername);
extern bool qs_may_use_server(Oid serverid);
extern uint64 qs_conn_generation(void);
extern QsConn *qs_conn_by_oid(Oid serverid, Oid userid);
extern void qs_conn_require_credentials(const QsConn *conn, QsApi api);
extern const char *qs_conn_base_url(const QsConn *conn, QsApi api);

#endif /* QSTASH_CONN_H */
