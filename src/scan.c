/*-------------------------------------------------------------------------
 *
 * scan.c
 *		Endpoint execution shared by the SQL functions and the FDW.
 *
 * Per-instance endpoints (stats) take a qstash id in the path; without one
 * the instances are listed first and each is fetched in turn (one request
 * for the list plus one per instance).  Each response lives in its own
 * memory context, deleted as soon as its rows are stored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"

#include "errors.h"
#include "scan.h"

/* Percent-encode a path segment (RFC 3986 unreserved characters kept). */
static char *
escape_segment(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			c == '~')
			appendStringInfoChar(&buf, (char) c);
		else
			appendStringInfo(&buf, "%%%02X", c);
	}
	return buf.data;
}

/* The ids of the account's instances, in the order the API lists them. */
static List *
list_instance_ids(const QsConn *conn, QsFetchStats *stats)
{
	const QsEndpoint *users = qs_endpoint_lookup("users");
	MemoryContext cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash users list", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	QsJson *doc = qs_fetch(conn, users->api, users->path, false, stats);
	List *ids = NIL;
	int n;

	if (qsjson_kind(doc) != QSJ_ARRAY)
		ereport(ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg("unexpected JSON type in the response of endpoint "
						"\"users\""),
				 errdetail("The response is a %s, expected an array.",
						   qsjson_kind_name(qsjson_kind(doc)))));
	n = qsjson_array_length(doc);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < n; i++)
	{
		QsJson *id = qsjson_object_get(qsjson_array_get(doc, i), "id");
		size_t len;

		if (qsjson_kind(id) != QSJ_STRING)
			ereport(ERROR,
					(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
					 errmsg("QStash instance %d of the users list has no "
							"string \"id\"",
							i + 1)));
		ids = lappend(ids, pstrdup(qsjson_string(id, &len)));
	}
	MemoryContextDelete(cxt);
	return ids;
}

/* Fetch one path and store its rows; missing_ok turns a 404 into none. */
static void
fetch_and_map(const QsConn *conn, const QsEndpoint *ep, const char *path,
			  bool missing_ok, const QsParams *params, QsMapper *mapper,
			  Tuplestorestate *store, QsFetchStats *stats)
{
	MemoryContext cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash response", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	QsJson *doc = qs_fetch(conn, ep->api, path, missing_ok, stats);

	if (doc != NULL)
		qs_mapper_put(mapper, doc, params, store);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

void
qs_scan(const QsConn *conn, const QsEndpoint *ep, const QsParams *params,
		QsMapper *mapper, Tuplestorestate *store, QsFetchStats *stats)
{
	static const QsParams none = {0};
	QsParams p;
	List *ids;
	ListCell *lc;

	if (params == NULL)
		params = &none;
	p = *params;
	if (ep->takes_period)
	{
		if (p.period == NULL)
			p.period = QS_DEFAULT_PERIOD;
		qs_check_period(p.period);
	}

	if (!ep->per_instance)
	{
		/* a lookup by id: an id the API does not know gives no rows */
		if (p.id != NULL && ep->path_by_id != NULL)
			fetch_and_map(conn, ep,
						  psprintf(ep->path_by_id, escape_segment(p.id)), true,
						  &p, mapper, store, stats);
		else
			fetch_and_map(conn, ep, ep->path, false, &p, mapper, store, stats);
		return;
	}

	/* an id given by the caller that the API does not know: no rows */
	if (p.qstash_id != NULL)
		ids = list_make1(pstrdup(p.qstash_id));
	else
		ids = list_instance_ids(conn, stats);

	foreach (lc, ids)
	{
		char *id = (char *) lfirst(lc);
		char *path = psprintf(ep->path, escape_segment(id));

		if (ep->takes_period)
			path = psprintf("%s?period=%s", path, p.period);
		p.qstash_id = id;
		fetch_and_map(conn, ep, path, params->qstash_id != NULL, &p, mapper,
					  store, stats);
	}
}
