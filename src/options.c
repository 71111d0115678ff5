/*-------------------------------------------------------------------------
 *
 * options.c
 *		The qstash_fdw validator, and the checks of a value that conn.c
 *		repeats on stored options.
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

/* A positive number of milliseconds, or ERROR. */
int
qs_option_ms(const char *name, const char *value)
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

/* A boolean option, or ERROR. */
bool
qs_option_bool(const char *name, const char *value)
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
void
qs_option_check_chars(const char *name, const char *value)
{
	bool secret = is_secret_option(name);

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

		qs_option_check_chars(def->defname, value);
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
			(void) qs_option_ms(def->defname, value);
		else if (strcmp(def->defname, "reveal_secrets") == 0)
			(void) qs_option_bool(def->defname, value);
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
