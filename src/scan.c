/*-------------------------------------------------------------------------
 *
 * scan.c
 *		Endpoint execution shared by the SQL functions and the FDW.
 *
 * Per-instance endpoints (stats) take a qstash id in the path; without one
 * the instances are listed first and each is fetched in turn (one request
 * for the list plus one per instance).  Paged endpoints (logs, dlq) follow
 * the cursor until the API returns none, the row limit is reached, or
 * qstash.max_pages would be exceeded, which is an error: a listing is
 * complete or it fails.  Each response lives in its own memory context,
 * deleted as soon as its rows are stored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

#include "errors.h"
#include "qstash.h"
#include "scan.h"

/* Percent-encode UTF-8 text (RFC 3986 unreserved characters kept). */
static char *
escape_utf8(const char *s)
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

/* A value from SQL (database encoding), percent-encoded as UTF-8. */
static char *
escape_segment(const char *s)
{
	return escape_utf8(pg_server_to_any(s, strlen(s), PG_UTF8));
}

/*
 * An id from SQL as one path segment: percent-encoded, and "." or ".."
 * with their dots encoded too, so that no server or client resolves them
 * as the current or parent directory ("/v2/schedules/.." is not
 * "/v2/").
 */
static char *
escape_path_id(const char *id)
{
	char *seg = escape_segment(id);

	if (strspn(seg, ".") == strlen(seg))
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (const char *p = seg; *p; p++)
			appendStringInfoString(&buf, "%2E");
		return buf.data;
	}
	return seg;
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
		qs_unexpected_json(users->name,
						   psprintf("The response is %s, expected an array.",
									qsjson_kind_phrase(qsjson_kind(doc))));
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
		qs_mapper_put(mapper, doc, params, -1, store);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * A time bound in unix milliseconds for the API's inclusive fromDate /
 * toDate: t itself (strict: excluded) as a lower or upper bound.  Exact for
 * the times the API holds (whole milliseconds).  Returns false when no row
 * can match; *bounded is false for an infinite bound that excludes nothing.
 */
static bool
time_bound_ms(TimestampTz t, bool lower, bool strict, int64 *ms, bool *bounded)
{
	int64 us;
	int64 lo;
	int64 hi;

	*bounded = false;
	if (TIMESTAMP_IS_NOBEGIN(t))
		return lower; /* >= -infinity: everything; <= -infinity: nothing */
	if (TIMESTAMP_IS_NOEND(t))
		return !lower;
	if (pg_add_s64_overflow(t,
							(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
								SECS_PER_DAY * USECS_PER_SEC,
							&us))
		return !lower; /* beyond every time the API can hold */
	lo = us / 1000 - ((us % 1000) < 0 ? 1 : 0); /* floor */
	hi = lo + ((us % 1000) != 0 ? 1 : 0);		/* ceiling */
	if (lower)
		*ms = strict ? lo + 1 : hi;
	else
		*ms = strict ? hi - 1 : lo;
	/*
	 * The API's times are positive (0 means "not set", which is NULL in
	 * SQL): a bound before 1970 excludes nothing as a lower bound and
	 * everything as an upper one.  It is not sent.
	 */
	if (*ms <= 0)
		return lower;
	*bounded = true;
	return true;
}

/*
 * Narrow the time range of p by t as a lower or upper bound (strict: t
 * excluded).  Returns false when no row can match any more.
 */
bool
qs_params_add_bound(QsParams *p, TimestampTz t, bool lower, bool strict)
{
	int64 ms = 0;
	bool bounded;

	if (!time_bound_ms(t, lower, strict, &ms, &bounded))
		return false;
	if (bounded && lower)
	{
		p->from_ms = p->has_from ? Max(p->from_ms, ms) : ms;
		p->has_from = true;
	}
	else if (bounded)
	{
		p->to_ms = p->has_to ? Min(p->to_ms, ms) : ms;
		p->has_to = true;
	}
	return !(p->has_from && p->has_to && p->from_ms > p->to_ms);
}

/* "&name=value&...": the filters of a paged listing, encoded */
static char *
listing_filters(const QsParams *p)
{
	StringInfoData buf;
	ListCell *lc;
	ListCell *lv;

	initStringInfo(&buf);
	foreach (lc, p->filters)
	{
		QsFilterValues *fv = (QsFilterValues *) lfirst(lc);

		foreach (lv, fv->values)
			appendStringInfo(&buf, "&%s=%s", fv->filter->query,
							 escape_segment((const char *) lfirst(lv)));
	}
	if (p->has_from)
		appendStringInfo(&buf, "&fromDate=" INT64_FORMAT, p->from_ms);
	if (p->has_to)
		appendStringInfo(&buf, "&toDate=" INT64_FORMAT, p->to_ms);
	return buf.data;
}

/* The cursor of a page, or NULL at the end (absent, null or ""). */
static char *
page_cursor(const QsEndpoint *ep, QsJson *doc)
{
	QsJson *c = qsjson_object_get(doc, "cursor");
	size_t len;
	const char *t;

	switch (qsjson_kind(c))
	{
		case QSJ_NULL:
			return NULL;
		case QSJ_STRING:
			t = qsjson_string(c, &len);
			break;
		case QSJ_INT:
			/* an opaque token: keep the digits, never convert them */
			t = qsjson_text(c, &len);
			break;
		default:
			qs_unexpected_json(
				ep->name,
				psprintf("Key \"cursor\" is a %s, expected a string.",
						 qsjson_kind_name(qsjson_kind(c))));
	}
	return len == 0 ? NULL : pnstrdup(t, len);
}

/*
 * A cursor-paged listing: count=QS_PAGE_SIZE (fewer when the limit needs
 * fewer rows), then cursor=... until the end.
 */
static void
scan_pages(const QsConn *conn, const QsEndpoint *ep, const QsParams *p,
		   QsMapper *mapper, Tuplestorestate *store, QsFetchStats *stats)
{
	char *filters = listing_filters(p);
	char *cursor = NULL;
	int64 total = 0;
	int pages = 0;

	for (;;)
	{
		MemoryContext cxt;
		MemoryContext old;
		char *path;
		QsJson *doc;
		QsJson *rows;
		int64 want = QS_PAGE_SIZE;
		char *next;

		if (p->limit > 0 && p->limit - total < want)
			want = p->limit - total;
		if (pages >= qs_guc_max_pages)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("listing of endpoint \"%s\" needs more than %d "
							"pages",
							ep->name, qs_guc_max_pages),
					 errdetail("Page %d returned a cursor for more rows "
							   "after " INT64_FORMAT " rows; qstash.max_pages "
							   "is %d.",
							   pages, total, qs_guc_max_pages),
					 errhint("Narrow the query with filters the API applies "
							 "(time range, state, url, ...), add a LIMIT, or "
							 "raise qstash.max_pages.")));

		path = psprintf("%s?count=" INT64_FORMAT "%s%s%s", ep->path, want,
						filters, cursor ? "&cursor=" : "",
						cursor ? escape_utf8(cursor) : "");

		cxt = AllocSetContextCreate(CurrentMemoryContext, "qstash page",
									ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(cxt);
		doc = qs_fetch(conn, ep->api, path, false, stats);
		if (qsjson_kind(doc) != QSJ_OBJECT)
			qs_unexpected_json(
				ep->name, psprintf("The response is %s, expected an object.",
								   qsjson_kind_phrase(qsjson_kind(doc))));
		rows = qsjson_object_get(doc, ep->rows_key);
		if (rows == NULL && ep->rows_key_alt != NULL)
			rows = qsjson_object_get(doc, ep->rows_key_alt);
		/* no rows key at all is not an empty page: it is not a page */
		if (rows == NULL)
			ereport(
				ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg("unexpected response of endpoint \"%s\"", ep->name),
				 errdetail("Page %d has no key \"%s\"%s%s%s.", pages + 1,
						   ep->rows_key, ep->rows_key_alt ? " or \"" : "",
						   ep->rows_key_alt ? ep->rows_key_alt : "",
						   ep->rows_key_alt ? "\"" : "")));
		if (qsjson_kind(rows) != QSJ_NULL && qsjson_kind(rows) != QSJ_ARRAY)
			qs_unexpected_json(
				ep->name,
				psprintf("Key \"%s\" is a %s, expected an array.",
						 ep->rows_key, qsjson_kind_name(qsjson_kind(rows))));
		if (qsjson_kind(rows) == QSJ_ARRAY)
			total += qs_mapper_put(
				mapper, rows, p, p->limit > 0 ? p->limit - total : -1, store);
		pages++;
		MemoryContextSwitchTo(old);
		next = page_cursor(ep, doc);
		MemoryContextDelete(cxt);

		if (next == NULL || (p->limit > 0 && total >= p->limit))
			break;
		if (cursor != NULL && strcmp(next, cursor) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
					 errmsg("the API returned the same cursor twice for "
							"endpoint \"%s\"",
							ep->name),
					 errdetail("Page %d repeated the cursor of page %d.",
							   pages, pages - 1)));
		cursor = next;
	}
	elog(DEBUG1, "qstash: %s: " INT64_FORMAT " rows in %d pages", ep->name,
		 total, pages);
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

	if (ep->shape == QS_SHAPE_PAGES)
	{
		scan_pages(conn, ep, &p, mapper, store, stats);
		return;
	}

	if (!ep->per_instance)
	{
		/* a lookup by id: an id the API does not know gives no rows */
		if (p.id != NULL && ep->path_by_id != NULL)
		{
			/* no object has the empty id: no rows, and no request */
			if (p.id[0] != '\0')
				fetch_and_map(conn, ep,
							  psprintf(ep->path_by_id, escape_path_id(p.id)),
							  true, &p, mapper, store, stats);
		}
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
		char *path;

		if (id[0] == '\0')
			continue; /* no instance has the empty id */
		path = psprintf(ep->path, escape_path_id(id));

		if (ep->takes_period)
			path = psprintf("%s?period=%s", path, p.period);
		p.qstash_id = id;
		fetch_and_map(conn, ep, path, params->qstash_id != NULL, &p, mapper,
					  store, stats);
	}
}
