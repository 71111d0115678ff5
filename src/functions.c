/*-------------------------------------------------------------------------
 *
 * functions.c
 *		The set-returning SQL functions.  Each is a thin shell: resolve the
 *		server, match the arguments to the endpoint's filters into a request
 *		plan (plan.c), evaluate it (request.c) and run it (runner.c) into
 *		the result's tuplestore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "errors.h"
#include "conn.h"
#include "qstash.h"
#include "fetch.h"
#include "mapper.h"
#include "cache.h"
#include "ratelimit.h"
#include "runner.h"
#include "shared.h"
#include "sharedcache.h"

/* the longest cursor of a listing that is kept (check_cursor) */
#define QS_CURSOR_MAX 1024

/* The server argument, or qstash.server when it is NULL. */
static QsConn *
server_arg(FunctionCallInfo fcinfo, int argno)
{
	const char *name;

	if (argno >= 0 && argno < PG_NARGS() && !PG_ARGISNULL(argno))
		name = NameStr(*PG_GETARG_NAME(argno));
	else
		name = qs_guc_server;
	if (name == NULL || name[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("no server given and qstash.server is empty"),
						errhint("Pass a server name or SET qstash.server.")));
	return qs_conn_by_name(name);
}

/*
 * Set up materialize mode.  A function with one output column has a scalar
 * result type, which InitMaterializedSRF() does not take: describe its
 * single column ourselves, named after the endpoint's column.
 */
static void
init_result(FunctionCallInfo fcinfo, const QsEndpoint *ep)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid rettype;
	TupleDesc tupdesc;
	MemoryContext old;

	if (get_call_result_type(fcinfo, &rettype, &tupdesc) == TYPEFUNC_COMPOSITE)
	{
		InitMaterializedSRF(fcinfo, 0);
		return;
	}
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("set-valued function called in context that "
							   "cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(tupdesc, 1, ep->columns[0].name, rettype, -1, 0);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setDesc = tupdesc;
	rsinfo->setResult = tuplestore_begin_heap(
		(rsinfo->allowedModes & SFRM_Materialize_Random) != 0, false,
		work_mem);
	MemoryContextSwitchTo(old);
}

/*
 * What each argument of an endpoint function sets, by the argument's name
 * (never by position): a filter of the endpoint named after its column
 * (period, qstash_id, state, url, ...), from_time / to_time (the time
 * filter, inclusive), max_rows (the limit) or server; and for the
 * archive's page readers, cursor (where to start) and max_pages (where to
 * stop).  Built once per call site and kept in fn_extra.
 */
typedef struct QsArgMap
{
	const QsEndpoint *ep;
	int nargs;
	Oid *argtypes;
	const QsFilter **filters; /* per argument: the filter it sets, or NULL */
	QsOp *ops;
	int max_rows_arg;  /* or -1 */
	int server_arg;	   /* or -1 */
	int cursor_arg;	   /* or -1 */
	int max_pages_arg; /* or -1 */
	char *funcname;	   /* "function qstash_users()", for messages */
} QsArgMap;

static const QsFilter *
time_filter(const QsEndpoint *ep)
{
	for (int i = 0; i < ep->nfilters; i++)
	{
		if (ep->filters[i].kind == QSF_TIME)
			return &ep->filters[i];
	}
	return NULL;
}

/* The filter an argument named name sets, and how it compares. */
static const QsFilter *
arg_filter(const QsEndpoint *ep, const char *name, QsOp *op)
{
	*op = QS_OP_EQ;
	if (strcmp(name, "from_time") == 0 || strcmp(name, "to_time") == 0)
	{
		*op = name[0] == 'f' ? QS_OP_GE : QS_OP_LE;
		return time_filter(ep);
	}
	return qs_endpoint_equality_filter(ep, name);
}

static QsArgMap *
arg_map(FunctionCallInfo fcinfo, const char *epname)
{
	QsArgMap *map = (QsArgMap *) fcinfo->flinfo->fn_extra;
	MemoryContext old;
	HeapTuple tup;
	char **names;
	char *modes;

	if (map != NULL)
		return map;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	map = palloc0(sizeof(QsArgMap));
	map->ep = qs_endpoint_lookup(epname);
	Assert(map->ep != NULL);
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u",
			 fcinfo->flinfo->fn_oid);
	map->nargs = get_func_arg_info(tup, &map->argtypes, &names, &modes);
	ReleaseSysCache(tup);
	map->filters = palloc0(sizeof(QsFilter *) * Max(map->nargs, 1));
	map->ops = palloc0(sizeof(QsOp) * Max(map->nargs, 1));
	map->max_rows_arg = map->server_arg = -1;
	map->cursor_arg = map->max_pages_arg = -1;
	map->funcname =
		psprintf("function %s()", get_func_name(fcinfo->flinfo->fn_oid));
	for (int i = 0; i < map->nargs; i++)
	{
		/* OUT arguments of RETURNS TABLE come after the inputs */
		if (modes != NULL && modes[i] != PROARGMODE_IN)
			break;
		if (strcmp(names[i], "server") == 0)
			map->server_arg = i;
		else if (strcmp(names[i], "max_rows") == 0)
			map->max_rows_arg = i;
		else if (strcmp(names[i], "cursor") == 0 &&
				 map->ep->access == QS_ACCESS_PAGED)
			map->cursor_arg = i;
		else if (strcmp(names[i], "max_pages") == 0 &&
				 map->ep->access == QS_ACCESS_PAGED)
			map->max_pages_arg = i;
		else if ((map->filters[i] =
					  arg_filter(map->ep, names[i], &map->ops[i])) == NULL)
			elog(ERROR,
				 "argument \"%s\" of %s sets no filter of endpoint "
				 "\"%s\"",
				 names[i], map->funcname, map->ep->name);
	}
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = map;
	return map;
}

/* The request plan of a call: one parameter per non-NULL argument. */
static QsRequestPlan *
call_plan(FunctionCallInfo fcinfo, const QsArgMap *map)
{
	QsRequestPlan *plan = palloc0(sizeof(QsRequestPlan));

	plan->ep = map->ep;
	plan->fold_case = true; /* state => 'failed' means FAILED */
	for (int i = 0; i < PG_NARGS() && i < map->nargs; i++)
	{
		QsPlanParam *p;
		int16 typlen;
		bool typbyval;

		if (map->filters[i] == NULL || PG_ARGISNULL(i))
			continue; /* NULL filters nothing */
		get_typlenbyval(map->argtypes[i], &typlen, &typbyval);
		p = palloc(sizeof(QsPlanParam));
		p->filter = map->filters[i];
		p->op = map->ops[i];
		p->value = (Expr *) makeConst(map->argtypes[i], -1, InvalidOid, typlen,
									  PG_GETARG_DATUM(i), false, typbyval);
		plan->params = lappend(plan->params, p);
	}
	qs_plan_sort(plan);
	if (map->max_rows_arg >= 0 && !PG_ARGISNULL(map->max_rows_arg))
	{
		int64 max_rows = PG_GETARG_INT64(map->max_rows_arg);

		if (max_rows <= 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("max_rows must be greater than zero"),
							errhint("Pass NULL for all rows.")));
		plan->has_limit = true;
		plan->limit = max_rows;
	}
	return plan;
}

/*
 * Where the last page reader of this session (a function with a max_pages
 * argument) stopped: the cursor of the next page, or NULL when it read to
 * the end of the listing or failed.  qstash_last_cursor() returns it.
 */
static char *last_cursor = NULL;

/*
 * The page window of a page reader: the cursor to start at (NULL or '':
 * the first page), converted to UTF-8 as the API sent it, and the number
 * of pages to read.  Forgets the last cursor first.
 */
static void
set_page_window(FunctionCallInfo fcinfo, const QsArgMap *map, QsRequest *req)
{
	if (map->max_pages_arg < 0)
		return;
	if (last_cursor != NULL)
		pfree(last_cursor);
	last_cursor = NULL;
	if (PG_ARGISNULL(map->max_pages_arg) ||
		PG_GETARG_INT32(map->max_pages_arg) < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("max_pages must be at least 1")));
	req->page_budget = PG_GETARG_INT32(map->max_pages_arg);
	if (map->cursor_arg >= 0 && !PG_ARGISNULL(map->cursor_arg))
	{
		char *c = text_to_cstring(PG_GETARG_TEXT_PP(map->cursor_arg));

		if (c[0] != '\0')
			req->cursor = pg_server_to_any(c, strlen(c), PG_UTF8);
	}
}

/*
 * A cursor the archive keeps in a table, and readers see: printable ASCII
 * only (it goes back to the API as it came, in any database encoding),
 * and no credential of the connection in it (an API that echoes one).
 */
static void
check_cursor(const QsConn *conn, const QsEndpoint *ep, const char *cursor)
{
	char *scrubbed;

	/*
	 * The API's are about 20 characters ("1686652644442-12"); a kept one
	 * must fit in the URL of the next page, or the archive would stall on
	 * it, run after run
	 */
	if (strlen(cursor) > QS_CURSOR_MAX)
		qs_unexpected_json(ep->name,
						   psprintf("Key \"cursor\" is longer than %d "
									"characters.",
									QS_CURSOR_MAX));
	scrubbed = pstrdup(cursor);

	for (const char *p = cursor; *p; p++)
	{
		if (*p < 0x20 || *p > 0x7e)
			qs_unexpected_json(ep->name, "Key \"cursor\" is not printable "
										 "ASCII.");
	}
	qs_scrub_secrets(conn, scrubbed);
	if (strcmp(scrubbed, cursor) != 0)
		qs_unexpected_json(ep->name, "Key \"cursor\" contains a credential "
									 "of the user mapping.");
	pfree(scrubbed);
}

/*
 * Run an endpoint and return its rows.  Arguments are checked before
 * anything else, requests included.
 */
static void
return_endpoint(FunctionCallInfo fcinfo, const char *epname)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	QsArgMap *map = arg_map(fcinfo, epname);
	QsRequest *req = qs_request_resolve(call_plan(fcinfo, map), NIL, NULL);
	QsConn *conn;
	QsMapper *mapper;
	char *next;

	set_page_window(fcinfo, map, req);
	conn = server_arg(fcinfo, map->server_arg);
	init_result(fcinfo, map->ep);
	mapper = qs_mapper_create(map->ep, rsinfo->setDesc, conn->reveal_secrets,
							  map->funcname);
	next = qs_runner_run(conn, req, mapper, rsinfo->setResult);
	if (next != NULL)
	{
		check_cursor(conn, map->ep, next);
		last_cursor = MemoryContextStrdup(TopMemoryContext, next);
	}
}

/* An endpoint function: its arguments are matched to filters by name. */
#define QS_ENDPOINT_FUNCTION(fn, epname)                                      \
	PG_FUNCTION_INFO_V1(fn);                                                  \
	Datum fn(PG_FUNCTION_ARGS)                                                \
	{                                                                         \
		return_endpoint(fcinfo, epname);                                      \
		return (Datum) 0;                                                     \
	}

QS_ENDPOINT_FUNCTION(qstash_users, "users")
QS_ENDPOINT_FUNCTION(qstash_stats, "stats")
QS_ENDPOINT_FUNCTION(qstash_stats_summary, "stats_summary")
QS_ENDPOINT_FUNCTION(qstash_ipv4, "ipv4")
QS_ENDPOINT_FUNCTION(qstash_logs, "logs")
QS_ENDPOINT_FUNCTION(qstash_dlq, "dlq")
QS_ENDPOINT_FUNCTION(qstash_schedules, "schedules")
QS_ENDPOINT_FUNCTION(qstash_queues, "queues")
QS_ENDPOINT_FUNCTION(qstash_url_groups, "url_groups")
QS_ENDPOINT_FUNCTION(qstash_flow_control, "flow_control")
QS_ENDPOINT_FUNCTION(qstash_global_parallelism, "global_parallelism")

/* Numbers of a header, or NULL when absent or not an integer. */
static Datum
header_int(const char *raw, bool *isnull)
{
	char *end;
	long long v;

	*isnull = true;
	if (raw == NULL)
		return (Datum) 0;
	errno = 0;
	v = strtoll(raw, &end, 10);
	if (errno != 0 || end == raw || *end != '\0')
		return (Datum) 0;
	*isnull = false;
	return Int64GetDatum((int64) v);
}

/*
 * qstash_rate_limits(): the view's rows, one per server, API and kind: this
 * backend's observations, or with the preload every backend's (the newest
 * figures, whatever the credentials)
 */
PG_FUNCTION_INFO_V1(qstash_rate_limits);
Datum
qstash_rate_limits(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell *lc;

	InitMaterializedSRF(fcinfo, 0);
	/* cluster-wide with the preload, else this backend's */
	foreach (lc,
			 qs_shared_on() ? qs_shared_observed() : qs_ratelimit_observed())
	{
		QsObservedLimit *o = (QsObservedLimit *) lfirst(lc);
		ForeignServer *server =
			GetForeignServerExtended(o->serverid, FSV_MISSING_OK);
		Datum values[7];
		bool nulls[7] = {false};
		TimestampTz reset;

		/* only servers that still exist and that the role may use */
		if (server == NULL || !qs_may_use_server(o->serverid))
			continue;
		values[0] = CStringGetTextDatum(server->servername);
		values[1] = CStringGetTextDatum(qs_api_name(o->api));
		values[2] = CStringGetTextDatum(o->kind);
		values[3] = header_int(o->limit, &nulls[3]);
		values[4] = header_int(o->remaining, &nulls[4]);
		if (qs_ratelimit_reset_time(o->reset, &reset))
			values[5] = TimestampTzGetDatum(reset);
		else
			nulls[5] = true;
		values[6] = TimestampTzGetDatum(o->observed_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(qstash_cache_reset);
Datum
qstash_cache_reset(PG_FUNCTION_ARGS)
{
	qs_cache_reset();
	/* and, with the preload, the shared responses and rate-limit state */
	qs_shared_bump_generation();
	qs_shared_forget_limits();
	PG_RETURN_VOID();
}

/* Where the last page reader stopped (the archive's continuation). */
PG_FUNCTION_INFO_V1(qstash_last_cursor);
Datum
qstash_last_cursor(PG_FUNCTION_ARGS)
{
	if (last_cursor == NULL)
		PG_RETURN_NULL();
	/* the API's text (UTF-8), as the database holds text */
	PG_RETURN_TEXT_P(cstring_to_text(
		pg_any_to_server(last_cursor, strlen(last_cursor), PG_UTF8)));
}

/* HTTP requests this session has sent (retries included): a budget meter. */
PG_FUNCTION_INFO_V1(qstash_requests_sent);
Datum
qstash_requests_sent(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(qs_requests_sent);
}
