/*-------------------------------------------------------------------------
 *
 * options.c
 *		The qstash_fdw validator and the lookup of server settings and user
 *		mapping credentials.
 *
 * Rules (README, "Options"): every object accepts only its own options;
 * secrets only on user mappings; no value has a control character; URLs
 * must be http or https, without user info or query, and only a superuser
 * may set a new host; numbers and booleans are checked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "compat.h"
#include "printable.h"
#include "options.h"
#include "qstash.h"

typedef struct QsOption
{
	const char *name;
	Oid context;
} QsOption;

static const QsOption valid_options[] = {
	{"api_url", ForeignServerRelationId},
	{"qstash_url", ForeignServerRelationId},
	{"timeout_ms", ForeignServerRelationId},
	{"connect_timeout_ms", ForeignServerRelationId},
	{"email", UserMappingRelationId},
	{"api_key", UserMappingRelationId},
	{"token", UserMappingRelationId},
	{"reveal_secrets", UserMappingRelationId},
	{"endpoint", ForeignTableRelationId},
};

static bool
is_secret_option(const char *name)
{
	return strcmp(name, "email") == 0 || strcmp(name, "api_key") == 0 ||
		   strcmp(name, "token") == 0;
}

static const char *
context_name(Oid context)
{
	switch (context)
	{
		case ForeignDataWrapperRelationId:
			return "foreign-data wrapper";
		case ForeignServerRelationId:
			return "server";
		case UserMappingRelationId:
			return "user mapping";
		case ForeignTableRelationId:
			return "foreign table";
		case AttributeRelationId:
			return "column";
	}
	return "object";
}

static char *
valid_option_list(Oid context)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < lengthof(valid_options); i++)
	{
		if (valid_options[i].context == context)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
							 valid_options[i].name);
	}
	return buf.data;
}

static void
check_url(const char *name, const char *value)
{
	CURLU *u = curl_url();
	CURLUcode rc;
	char *scheme = NULL;
	char *user = NULL;
	char *query = NULL;
	char *fragment = NULL;
	bool ok_scheme = false;
	bool has_user;
	bool has_query;
	const char *problem = NULL;

	if (u == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	rc = curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME);
	if (rc == CURLUE_OK)
	{
		if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
			(pg_strcasecmp(scheme, "http") == 0 ||
			 pg_strcasecmp(scheme, "https") == 0))
			ok_scheme = true;
	}
	else
		problem = curl_url_strerror(rc);
	has_user = (rc == CURLUE_OK &&
				curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK);
	has_query =
		(rc == CURLUE_OK &&
		 (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
		  curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK));
	curl_free(scheme);
	curl_free(user);
	curl_free(query);
	curl_free(fragment);
	curl_url_cleanup(u);

	if (problem != NULL)
		ereport(
			ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
			 errdetail("%s.", problem),
			 errhint("Use an absolute http or https URL such as \"%s\".",
					 strcmp(name, "api_url") == 0 ? QS_DEFAULT_API_URL
												  : QS_DEFAULT_QSTASH_URL)));
	if (!ok_scheme)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid value for option \"%s\": \"%s\"", name,
							   value),
						errdetail("Only http and https URLs are accepted.")));
	if (has_user)
		ereport(
			ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" must not contain user information", name),
			 errhint("Credentials are accepted only as options of a user "
					 "mapping.")));
	if (has_query)
		ereport(
			ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
			 errdetail("The URL must not have a query or a fragment.")));
}

static int
parse_positive_int(const char *name, const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	/* digits only: no sign, no white space on either side */
	if (errno != 0 || !isdigit((unsigned char) value[0]) || *end != '\0' ||
		v <= 0 || v > INT_MAX)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid value for option \"%s\": \"%s\"", name,
							   value),
						errhint("The value must be a positive integer number "
								"of milliseconds.")));
	return (int) v;
}

static bool
parse_bool_option(const char *name, const char *value)
{
	bool b;

	if (!parse_bool(value, &b))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid value for option \"%s\": \"%s\"", name,
							   value),
						errhint("Valid values are true and false.")));
	return b;
}

/*
 * Option values end up in request headers and URLs: a control character
 * (CR and LF above all) could add headers of its own.  Refused everywhere.
 */
static void
check_no_control_chars(const char *name, const char *value, bool secret)
{
	for (const unsigned char *p = (const unsigned char *) value; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"%s\"", name),
					 secret
						 ? errdetail("The value contains a control "
									 "character (byte 0x%02x).",
									 *p)
						 : errdetail("The value \"%s\" contains a control "
									 "character (byte 0x%02x).",
									 qs_printable(value, strlen(value)), *p),
					 errhint("Option values of qstash_fdw may not contain "
							 "control characters such as line breaks.")));
	}
}

/*
 * May the current role set a host option (api_url, qstash_url) to value?
 * A superuser may choose any host.  Another role may name the default API
 * host, or keep a value that a superuser already set on a server the role
 * owns: ALTER SERVER passes every option, changed or not, and an owner
 * must still be able to change its other options.
 */
static bool
may_set_host(const char *name, const char *value)
{
	const char *deflt = strcmp(name, "api_url") == 0 ? QS_DEFAULT_API_URL
													 : QS_DEFAULT_QSTASH_URL;
	Relation rel;
	SysScanDesc scan;
	HeapTuple tup;
	bool found = false;

	if (superuser() || strcmp(value, deflt) == 0)
		return true;
	rel = table_open(ForeignServerRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_foreign_server srv = (Form_pg_foreign_server) GETSTRUCT(tup);
		ForeignServer *server;
		ListCell *lc;

		if (!has_privs_of_role(GetUserId(), srv->srvowner))
			continue;
		server = GetForeignServer(srv->oid);
		foreach (lc, server->options)
		{
			DefElem *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, name) == 0 &&
				strcmp(defGetString(def), value) == 0)
				found = true;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * An error context callback that keeps the statement out of the server
 * log: the text of a statement whose options the validator rejects may
 * carry a credential (a user mapping's, one put on another object, one
 * under a misspelt option name, one inside a URL), and
 * log_min_error_statement would log it.
 */
static void
hide_statement(void *arg)
{
	errhidestmt(true);
}

PG_FUNCTION_INFO_V1(qstash_fdw_validator);

Datum
qstash_fdw_validator(PG_FUNCTION_ARGS)
{
	List *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid catalog = PG_GETARG_OID(1);
	ErrorContextCallback errcallback;
	ListCell *lc;

	errcallback.callback = hide_statement;
	errcallback.arg = NULL;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	foreach (lc, options)
	{
		DefElem *def = (DefElem *) lfirst(lc);
		const char *value = defGetString(def);
		bool known = false;

		for (int i = 0; i < lengthof(valid_options); i++)
		{
			if (valid_options[i].context == catalog &&
				strcmp(valid_options[i].name, def->defname) == 0)
				known = true;
		}
		if (!known)
		{
			char *valid = valid_option_list(catalog);

			if (is_secret_option(def->defname))
				ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
								errmsg("option \"%s\" is not accepted on a %s",
									   def->defname, context_name(catalog)),
								errdetail("Credentials are accepted only as "
										  "options of a user mapping."),
								errhint("Use CREATE USER MAPPING ... SERVER "
										"... OPTIONS (%s '...').",
										def->defname)));
			ereport(
				ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"", def->defname),
				 valid[0] != '\0'
					 ? errhint("Valid options for a %s of qstash_fdw are: %s.",
							   context_name(catalog), valid)
					 : errhint("A %s of qstash_fdw takes no options.",
							   context_name(catalog))));
		}

		check_no_control_chars(def->defname, value,
							   is_secret_option(def->defname));
		if (strcmp(def->defname, "api_url") == 0 ||
			strcmp(def->defname, "qstash_url") == 0)
		{
			if (!may_set_host(def->defname, value))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied to set option \"%s\"",
								def->defname),
						 errdetail("Only superusers may choose the host the "
								   "backend connects to."),
						 errhint("Other roles may keep the value a superuser "
								 "set on a server they own, or use the "
								 "default, %s.",
								 strcmp(def->defname, "api_url") == 0
									 ? QS_DEFAULT_API_URL
									 : QS_DEFAULT_QSTASH_URL)));
			check_url(def->defname, value);
		}
		else if (strcmp(def->defname, "timeout_ms") == 0 ||
				 strcmp(def->defname, "connect_timeout_ms") == 0)
			(void) parse_positive_int(def->defname, value);
		else if (strcmp(def->defname, "reveal_secrets") == 0)
			(void) parse_bool_option(def->defname, value);
		else if (strcmp(def->defname, "endpoint") == 0)
		{
			if (qs_endpoint_lookup(value) == NULL)
				ereport(
					ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"endpoint\": \"%s\"",
							value),
					 errhint("Valid endpoints are: %s.",
							 qs_endpoint_names())));
		}
		else if (value[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" must not be empty", def->defname)));
	}

	error_context_stack = errcallback.previous;
	PG_RETURN_VOID();
}

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

		check_no_control_chars(def->defname, value,
							   is_secret_option(def->defname));
		for (int i = 0; i < lengthof(conn_fields); i++)
		{
			char *field = (char *) conn + conn_fields[i].offset;

			if (strcmp(def->defname, conn_fields[i].name) != 0)
				continue;
			if (conn_fields[i].kind == QS_FIELD_TEXT)
				*(char **) field = value;
			else if (conn_fields[i].kind == QS_FIELD_MS)
				*(int *) field = parse_positive_int(def->defname, value);
			else
				*(bool *) field = parse_bool_option(def->defname, value);
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
