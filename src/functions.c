/*-------------------------------------------------------------------------
 *
 * functions.c
 *		The set-returning SQL functions.  Each is a thin shell: resolve the
 *		server, fetch through request.c, map through rows.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "options.h"
#include "qstash.h"
#include "request.h"
#include "rows.h"
#include "cache.h"
#include "ratelimit.h"
#include "scan.h"

/* The server argument, or qstash.server when it is NULL. */
static QsConn *
server_arg(FunctionCallInfo fcinfo, int argno)
{
	const char *name;

	if (argno < PG_NARGS() && !PG_ARGISNULL(argno))
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

/* Run an endpoint and return its rows. */
static void
return_endpoint(FunctionCallInfo fcinfo, const char *epname,
				const QsParams *params, int server_argno, const char *funcname)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const QsEndpoint *ep = qs_endpoint_lookup(epname);
	QsConn *conn;
	QsMapper *mapper;

	Assert(ep != NULL);
	/* arguments are checked before anything else, requests included */
	if (params && params->period)
		qs_check_period(params->period);
	conn = server_arg(fcinfo, server_argno);
	init_result(fcinfo, ep);
	mapper =
		qs_mapper_create(ep, rsinfo->setDesc, conn->reveal_secrets, funcname);
	qs_scan(conn, ep, params, mapper, rsinfo->setResult, NULL);
}

/* A function whose only argument is the server: all rows of an endpoint. */
#define QS_ENDPOINT_FUNCTION(fn, epname)                                      \
	PG_FUNCTION_INFO_V1(fn);                                                  \
	Datum fn(PG_FUNCTION_ARGS)                                                \
	{                                                                         \
		return_endpoint(fcinfo, epname, NULL, 0, "function " #fn "()");       \
		return (Datum) 0;                                                     \
	}

/* (period text, qstash_id uuid, server name) of the stats functions */
static QsParams
stats_args(FunctionCallInfo fcinfo)
{
	QsParams p = {0};

	p.period = PG_ARGISNULL(0) ? QS_DEFAULT_PERIOD
							   : text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		p.qstash_id =
			DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(1)));
	return p;
}

QS_ENDPOINT_FUNCTION(qstash_users, "users")

PG_FUNCTION_INFO_V1(qstash_stats);
Datum
qstash_stats(PG_FUNCTION_ARGS)
{
	QsParams p = stats_args(fcinfo);

	return_endpoint(fcinfo, "stats", &p, 2, "function qstash_stats()");
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(qstash_stats_summary);
Datum
qstash_stats_summary(PG_FUNCTION_ARGS)
{
	QsParams p = stats_args(fcinfo);

	return_endpoint(fcinfo, "stats_summary", &p, 2,
					"function qstash_stats_summary()");
	return (Datum) 0;
}

QS_ENDPOINT_FUNCTION(qstash_ipv4, "ipv4")

/*
 * Arguments of a paged listing function, in this order: one per QSF_QUERY
 * filter of the endpoint (catalog order), from_time and to_time when it
 * has a time filter, max_rows, server.  NULL arguments filter nothing.
 */
static int
listing_args(FunctionCallInfo fcinfo, const QsEndpoint *ep, QsParams *p)
{
	int argno = 0;
	bool has_time = false;
	Oid *argtypes;
	int nargs;

	/* the declared types: what the Datums are, whatever the call site */
	get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);

	for (int i = 0; i < ep->nfilters; i++)
	{
		const QsFilter *f = &ep->filters[i];

		if (f->kind == QSF_TIME)
			has_time = true;
		if (f->kind != QSF_QUERY)
			continue;
		if (!PG_ARGISNULL(argno))
		{
			QsFilterValues *fv = palloc(sizeof(QsFilterValues));
			Oid outfunc;
			bool varlena;

			Assert(argno < nargs);
			getTypeOutputInfo(argtypes[argno], &outfunc, &varlena);
			fv->filter = f;
			fv->values = list_make1(
				OidOutputFunctionCall(outfunc, PG_GETARG_DATUM(argno)));
			p->filters = lappend(p->filters, fv);
		}
		argno++;
	}
	if (has_time)
	{
		for (int b = 0; b < 2; b++, argno++)
		{
			if (!PG_ARGISNULL(argno) &&
				!qs_params_add_bound(p, PG_GETARG_TIMESTAMPTZ(argno), b == 0,
									 false))
				p->limit = -1; /* an empty range: no request */
		}
	}
	if (!PG_ARGISNULL(argno))
	{
		int64 max_rows = PG_GETARG_INT64(argno);

		if (max_rows <= 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("max_rows must be greater than zero"),
							errhint("Pass NULL for all rows.")));
		if (p->limit == 0)
			p->limit = max_rows;
	}
	return argno + 1; /* the server argument */
}

/* A paged listing (logs, dlq): filters, time range, max_rows, server. */
static void
return_listing(FunctionCallInfo fcinfo, const char *epname,
			   const char *funcname)
{
	const QsEndpoint *ep = qs_endpoint_lookup(epname);
	QsParams p = {0};
	int server_argno = listing_args(fcinfo, ep, &p);

	if (p.limit < 0)
	{
		/* nothing can match: no request */
		server_arg(fcinfo, server_argno);
		init_result(fcinfo, ep);
		return;
	}
	return_endpoint(fcinfo, epname, &p, server_argno, funcname);
}

PG_FUNCTION_INFO_V1(qstash_logs);
Datum
qstash_logs(PG_FUNCTION_ARGS)
{
	return_listing(fcinfo, "logs", "function qstash_logs()");
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(qstash_dlq);
Datum
qstash_dlq(PG_FUNCTION_ARGS)
{
	return_listing(fcinfo, "dlq", "function qstash_dlq()");
	return (Datum) 0;
}

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

/* qstash_rate_limits(): the view's rows, from this backend's observations */
PG_FUNCTION_INFO_V1(qstash_rate_limits);
Datum
qstash_rate_limits(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach (lc, qs_ratelimit_observed())
	{
		QsObservedLimit *o = (QsObservedLimit *) lfirst(lc);
		ForeignServer *server =
			GetForeignServerExtended(o->serverid, FSV_MISSING_OK);
		Datum values[6];
		bool nulls[6] = {false};
		TimestampTz reset;

		/* only servers that still exist and that the role may use */
		if (server == NULL || !qs_may_use_server(o->serverid))
			continue;
		values[0] = CStringGetTextDatum(server->servername);
		values[1] = CStringGetTextDatum(o->kind);
		values[2] = header_int(o->limit, &nulls[2]);
		values[3] = header_int(o->remaining, &nulls[3]);
		if (qs_ratelimit_reset_time(o->reset, &reset))
			values[4] = TimestampTzGetDatum(reset);
		else
			nulls[4] = true;
		values[5] = TimestampTzGetDatum(o->observed_at);
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
	PG_RETURN_VOID();
}
