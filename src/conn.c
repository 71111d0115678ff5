/*-------------------------------------------------------------------------
 *
 * conn.c
 *		A server and the current user's mapping on it, resolved into the
 *		settings and credentials a request uses (QsConn).  Stored values
 *		are checked again (options.c) before anything is sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "compat.h"
#include "conn.h"
#include "options.h"
#include "qstash.h"

/*
 * Bumped whenever any server or user mapping changes (ALTER, DROP, in any
 * session, seen at the next invalidation processing): a QsConn resolved
 * before is out of date.  (The shared responses watch the same catalogs
 * themselves: sharedcache.c.)
 */
static uint64 conn_generation = 1;
static bool conn_callbacks = false;

static void
conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	conn_generation++;
}

uint64
qs_conn_generation(void)
{
	if (!conn_callbacks)
	{
		CacheRegisterSyscacheCallback(USERMAPPINGOID, conn_inval_callback,
									  (Datum) 0);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, conn_inval_callback,
									  (Datum) 0);
		conn_callbacks = true;
	}
	return conn_generation;
}

/*
 * A 64-bit hash of the credentials a request sends: cache entries fetched
 * with other credentials (before an ALTER USER MAPPING) never match.
 */
static uint64
credentials_fingerprint(const QsConn *conn)
{
	const char *parts[3] = {conn->email, conn->api_key, conn->token};
	uint64 h = 0;

	for (int i = 0; i < lengthof(parts); i++)
	{
		const char *v = parts[i] ? parts[i] : "";

		h = hash_bytes_extended((const unsigned char *) v, strlen(v),
								h + i + 1);
	}
	return h;
}

/* Where each server or user mapping option goes in a QsConn. */
typedef enum QsFieldKind
{
	QS_FIELD_TEXT,
	QS_FIELD_MS, /* positive integer (milliseconds) */
	QS_FIELD_BOOL
} QsFieldKind;

static const struct
{
	const char *name;
	size_t offset;
	QsFieldKind kind;
} conn_fields[] = {
	{"api_url", offsetof(QsConn, api_url), QS_FIELD_TEXT},
	{"qstash_url", offsetof(QsConn, qstash_url), QS_FIELD_TEXT},
	{"timeout_ms", offsetof(QsConn, timeout_ms), QS_FIELD_MS},
	{"connect_timeout_ms", offsetof(QsConn, connect_timeout_ms), QS_FIELD_MS},
	{"email", offsetof(QsConn, email), QS_FIELD_TEXT},
	{"api_key", offsetof(QsConn, api_key), QS_FIELD_TEXT},
	{"token", offsetof(QsConn, token), QS_FIELD_TEXT},
	{"reveal_secrets", offsetof(QsConn, reveal_secrets), QS_FIELD_BOOL},
};

/*
 * Copy stored options into conn.  Each value is checked again: one stored
 * before the validator refused control characters is never sent.
 */
static void
apply_options(QsConn *conn, List *options)
{
	ListCell *lc;

	foreach (lc, options)
	{
		DefElem *def = (DefElem *) lfirst(lc);
		char *value = defGetString(def);

		qs_option_check_chars(def->defname, value);
		for (int i = 0; i < lengthof(conn_fields); i++)
		{
			char *field = (char *) conn + conn_fields[i].offset;

			if (strcmp(def->defname, conn_fields[i].name) != 0)
				continue;
			if (conn_fields[i].kind == QS_FIELD_TEXT)
				*(char **) field = value;
			else if (conn_fields[i].kind == QS_FIELD_MS)
				*(int *) field = qs_option_ms(def->defname, value);
			else
				*(bool *) field = qs_option_bool(def->defname, value);
		}
	}
}

/*
 * Resolve a server and the user mapping of userid (or PUBLIC) on it.
 */
QsConn *
qs_conn_by_oid(Oid serverid, Oid userid)
{
	ForeignServer *server = GetForeignServer(serverid);
	ForeignDataWrapper *fdw = GetForeignDataWrapper(server->fdwid);
	QsConn *conn;
	UserMapping *um;
	HeapTuple tp;

	if (strcmp(fdw->fdwname, "qstash_fdw") != 0)
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
						errmsg("server \"%s\" does not use the qstash_fdw "
							   "foreign-data wrapper",
							   server->servername)));

	/* look the mapping up ourselves first, to give a useful hint */
	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER,
							 ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		ereport(
			ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("user mapping not found for user \"%s\" on server \"%s\"",
					GetUserNameFromId(userid, false), server->servername),
			 errhint("Create one with CREATE USER MAPPING FOR CURRENT_USER "
					 "SERVER %s OPTIONS (email '...', api_key '...').",
					 quote_identifier(server->servername))));
	ReleaseSysCache(tp);
	um = GetUserMapping(userid, serverid);

	conn = palloc0(sizeof(QsConn));
	conn->serverid = serverid;
	conn->userid = userid;
	conn->servername = pstrdup(server->servername);
	conn->umid = um->umid;
	conn->api_url = QS_DEFAULT_API_URL;
	conn->qstash_url = QS_DEFAULT_QSTASH_URL;
	conn->timeout_ms = qs_guc_timeout_ms;
	conn->connect_timeout_ms = qs_guc_connect_timeout_ms;

	apply_options(conn, server->options);
	/* a mapping stored before 0.2.0 was not checked: never send it */
	apply_options(conn, um->options);
	conn->fingerprint = credentials_fingerprint(conn);
	conn->generation = qs_conn_generation();
	return conn;
}

static AclResult
server_usage(Oid serverid)
{
	return qs_foreign_server_aclcheck(serverid, GetUserId(), ACL_USAGE);
}

/* Has the current role USAGE on the server? */
bool
qs_may_use_server(Oid serverid)
{
	return server_usage(serverid) == ACLCHECK_OK;
}

/*
 * Resolve a server by name for the current user; the caller needs USAGE on
 * it (the functions would otherwise let any role with EXECUTE borrow a
 * PUBLIC mapping of a server it was never granted).
 */
QsConn *
qs_conn_by_name(const char *servername)
{
	ForeignServer *server = GetForeignServerByName(servername, true);
	AclResult aclresult;

	if (server == NULL)
		ereport(
			ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("server \"%s\" does not exist", servername),
			 errhint("Create it with CREATE SERVER %s FOREIGN DATA WRAPPER "
					 "qstash_fdw, or name another server in qstash.server.",
					 quote_identifier(servername))));
	aclresult = server_usage(server->serverid);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);
	return qs_conn_by_oid(server->serverid, GetUserId());
}

void
qs_conn_require_credentials(const QsConn *conn, QsApi api)
{
	const char *missing = NULL;

	if (api == QS_API_DEVELOPER)
	{
		if (conn->email == NULL)
			missing = "email";
		else if (conn->api_key == NULL)
			missing = "api_key";
	}
	else if (conn->token == NULL)
		missing = "token";

	if (missing)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("user mapping on server \"%s\" has no \"%s\" option",
						conn->servername, missing),
				 api == QS_API_DEVELOPER
					 ? errhint("The developer API needs the options email and "
							   "api_key: ALTER USER MAPPING FOR CURRENT_USER "
							   "SERVER %s OPTIONS (ADD %s '...').",
							   quote_identifier(conn->servername), missing)
					 : errhint("The QStash REST API needs the option token: "
							   "ALTER USER MAPPING FOR CURRENT_USER SERVER %s "
							   "OPTIONS (ADD token '...').",
							   quote_identifier(conn->servername))));
}

const char *
qs_conn_base_url(const QsConn *conn, QsApi api)
{
	return api == QS_API_DEVELOPER ? conn->api_url : conn->qstash_url;
}
