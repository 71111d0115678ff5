/*-------------------------------------------------------------------------
 *
 * runner.c
 *		The shared endpoint runner: one QsRequest, one response at a time.
 *
 * The requests are the steps of qs_request_steps(), sent in order:
 * - a paged listing (logs, dlq): count=100 (fewer when a limit needs
 *   fewer rows), then cursor=... until the API returns none, the limit is
 *   reached, or qstash.max_pages would be exceeded, which is an error: a
 *   listing is complete or it fails.  A listing with a page budget (the
 *   archive's) starts at the cursor it is given and stops after that many
 *   pages (at most qstash.max_pages), without error: the cursor of the
 *   next page is the caller's to keep;
 * - the account's instances, listed when a per-instance endpoint has none
 *   given (a response of its own, with no rows), then one GET per listed
 *   instance and period;
 * - otherwise one GET per step.
 * Each response is response.c's, from its request to its release; the
 * runner gives it the path and the way its rows are made.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "compat.h"
#include "errors.h"
#include "qstash.h"
#include "response.h"
#include "runner.h"

struct QsRunner
{
	const QsConn *conn;
	const QsRequest *req;
	QsMapper *mapper;
	QsMapping *mapping;
	QsFetchStats *stats;
	MemoryContext cxt;		/* the runner's */
	MemoryContext tmp;		/* one request's path; reset after each */
	List *steps;			/* of QsStep *: still to send */
	List *instances;		/* ids listed by a QS_STEP_INSTANCES step */
	const QsTarget *target; /* of the response being mapped */
	char *cursor;			/* paged listing: the next page's cursor */
	HTAB *cursors;			/* hashes of every cursor seen, to catch a cycle */
	int pages;				/* pages fetched */
	int64 rows;				/* rows stored by the listing */
	bool done;				/* every response fetched */
};

static int64 map_response(void *arg, QsJson *doc, QsRowSink *sink,
						  char **cursor);

QsRunner *
qs_runner_start(const QsConn *conn, const QsRequest *req, QsMapper *mapper,
				QsFetchStats *stats)
{
	QsRunner *r = palloc0(sizeof(QsRunner));

	r->conn = conn;
	r->req = req;
	r->mapper = mapper;
	r->mapping =
		qs_response_mapping(qs_mapper_tupdesc(mapper), map_response, r);
	r->stats = stats;
	r->cxt = CurrentMemoryContext;
	r->tmp = AllocSetContextCreate(CurrentMemoryContext, "qstash request",
								   ALLOCSET_SMALL_SIZES);
	r->steps = qs_request_steps(req);
	r->done = r->steps == NIL;
	r->cursor = req->cursor ? pstrdup(req->cursor) : NULL;
	return r;
}

/* The ids of the account's instances, in the order the API lists them. */
static List *
list_instance_ids(QsRunner *r)
{
	const QsEndpoint *users = qs_instances_endpoint();
	QsGet get = {r->conn, users->api, users->path, false, r->stats};
	MemoryContext cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash users list", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	QsJson *doc = qs_response_json(&get);
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

static QsJson *page_rows(QsRunner *r, QsJson *doc);
static char *page_cursor(const QsEndpoint *ep, QsJson *doc);

/*
 * The runner's mapping of a response (QsMapResponse): the rows of a page
 * and its cursor, or the whole response.
 */
static int64
map_response(void *arg, QsJson *doc, QsRowSink *sink, char **cursor)
{
	QsRunner *r = (QsRunner *) arg;
	QsJson *rows;
	int64 stored = 0;

	if (r->req->ep->access != QS_ACCESS_PAGED)
		return qs_mapper_put(r->mapper, doc, r->target, r->mapping->max_rows,
							 sink);
	rows = page_rows(r, doc);
	if (rows != NULL)
		stored = qs_mapper_put(r->mapper, rows, r->target,
							   r->mapping->max_rows, sink);
	*cursor = page_cursor(r->req->ep, doc);
	return stored;
}

/*
 * Get one response of path and store its rows (at most max_rows, -1 for
 * all).  For a page, *cursor is the next page's cursor, in the runner's
 * context (where the response's own context is made, and deleted).
 */
static int64
get_rows(QsRunner *r, const QsTarget *t, const char *path, bool missing_ok,
		 int64 max_rows, Tuplestorestate *store, char **cursor)
{
	QsGet get = {r->conn, r->req->ep->api, path, missing_ok, r->stats};
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	int64 stored;

	r->target = t;
	r->mapping->sig = qs_mapper_signature(r->mapper, &r->mapping->siglen);
	r->mapping->max_rows = max_rows;
	stored = qs_response_rows(&get, r->mapping, store, cursor);
	MemoryContextSwitchTo(old);
	return stored;
}

/* Send one GET step and store its rows. */
static int64
fetch_step(QsRunner *r, const QsStep *s, Tuplestorestate *store)
{
	MemoryContext old = MemoryContextSwitchTo(r->tmp);
	int64 rows = get_rows(r, &s->target, qs_request_step_path(r->req, s),
						  s->missing_ok, -1, store, NULL);

	MemoryContextSwitchTo(old);
	MemoryContextReset(r->tmp);
	return rows;
}

/*
 * A QS_STEP_EACH_INSTANCE step becomes one QS_STEP_GET step for each
 * listed instance (none for the empty id), in the order of the list.
 */
static List *
each_instance(QsRunner *r, const QsStep *each)
{
	List *steps = NIL;
	ListCell *lc;

	foreach (lc, r->instances)
	{
		QsStep *s;

		if (((char *) lfirst(lc))[0] == '\0')
			continue;
		s = palloc(sizeof(QsStep));
		*s = *each;
		s->kind = QS_STEP_GET;
		s->target.qstash_id = (const char *) lfirst(lc);
		steps = lappend(steps, s);
	}
	return steps;
}

QS_NORETURN static void
too_many_pages(QsRunner *r)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("listing of endpoint \"%s\" needs more than %d pages",
					r->req->ep->name, qs_guc_max_pages),
			 errdetail(
				 "Page %d returned a cursor for more rows after " INT64_FORMAT
				 " rows; qstash.max_pages is %d.",
				 r->pages, r->rows, qs_guc_max_pages),
			 errhint("Narrow the query with filters the API applies (time "
					 "range, state, url, ...), add a LIMIT, or raise "
					 "qstash.max_pages.")));
}

/* The rows array of a page, or NULL for a page with "rows": null. */
static QsJson *
page_rows(QsRunner *r, QsJson *doc)
{
	const QsEndpoint *ep = r->req->ep;
	QsJson *rows;

	if (qsjson_kind(doc) != QSJ_OBJECT)
		qs_unexpected_json(ep->name,
						   psprintf("The response is %s, expected an object.",
									qsjson_kind_phrase(qsjson_kind(doc))));
	rows = qsjson_object_get(doc, ep->rows_key);
	if (rows == NULL && ep->rows_key_alt != NULL)
		rows = qsjson_object_get(doc, ep->rows_key_alt);
	/* no rows key at all is not an empty page: it is not a page */
	if (rows == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg("unexpected response of endpoint \"%s\"", ep->name),
				 errdetail("Page %d has no key \"%s\"%s%s%s.", r->pages + 1,
						   ep->rows_key, ep->rows_key_alt ? " or \"" : "",
						   ep->rows_key_alt ? ep->rows_key_alt : "",
						   ep->rows_key_alt ? "\"" : "")));
	if (qsjson_kind(rows) == QSJ_NULL)
		return NULL;
	if (qsjson_kind(rows) != QSJ_ARRAY)
		qs_unexpected_json(ep->name,
						   psprintf("Key \"%s\" is %s, expected an array.",
									ep->rows_key,
									qsjson_kind_phrase(qsjson_kind(rows))));
	return rows;
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
			qs_unexpected_json(ep->name,
							   psprintf("Key \"cursor\" is %s, expected a "
										"string.",
										qsjson_kind_phrase(qsjson_kind(c))));
	}
	if (memchr(t, '\0', len) != NULL)
		qs_unexpected_json(ep->name,
						   "Key \"cursor\" contains a NUL character.");
	return len == 0 ? NULL : pnstrdup(t, len);
}

/* Has an earlier page returned this cursor?  Remembers it. */
static bool
cursor_seen(QsRunner *r, const char *cursor)
{
	uint64 h =
		hash_bytes_extended((const unsigned char *) cursor, strlen(cursor), 0);
	bool found;

	if (r->cursors == NULL)
	{
		HASHCTL ctl;

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(uint64);
		ctl.hcxt = CurrentMemoryContext;
		r->cursors = hash_create("qstash cursors", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	(void) hash_search(r->cursors, &h, HASH_ENTER, &found);
	return found;
}

/* Has a listing with a page budget read all the pages it may? */
static bool
budget_spent(const QsRunner *r)
{
	return r->req->page_budget > 0 &&
		   r->pages >= Min(r->req->page_budget, qs_guc_max_pages);
}

/* Fetch the next page of a paged listing and store its rows. */
static int64
fetch_page(QsRunner *r, const QsStep *s, Tuplestorestate *store)
{
	const QsRequest *req = r->req;
	MemoryContext old;
	int64 stored;
	char *next;

	if (r->pages >= qs_guc_max_pages)
		too_many_pages(r);
	old = MemoryContextSwitchTo(r->tmp);
	stored = get_rows(
		r, &s->target,
		qs_request_path(req, &s->target, qs_request_page_size(req, r->rows),
						r->cursor),
		false, req->has_limit ? req->limit - r->rows : -1, store, &next);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->tmp);

	r->pages++;
	r->rows += stored;
	if (next == NULL || (req->has_limit && r->rows >= req->limit))
	{
		elog(DEBUG1, "qstash: %s: " INT64_FORMAT " rows in %d pages",
			 req->ep->name, r->rows, r->pages);
		r->done = true;
	}
	else if (cursor_seen(r, next))
		ereport(ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg("the API returned the same cursor twice for "
						"endpoint \"%s\"",
						req->ep->name),
				 r->cursor != NULL && strcmp(next, r->cursor) == 0
					 ? errdetail("Page %d repeated the cursor of page %d.",
								 r->pages, r->pages - 1)
					 : errdetail("Page %d returned the cursor of an earlier "
								 "page: the listing would never end.",
								 r->pages)));
	r->cursor = next;
	return stored;
}

bool
qs_runner_fetch(QsRunner *r, Tuplestorestate *store, int64 *rows)
{
	MemoryContext old;
	bool sent = false;

	*rows = 0;
	if (r->done)
		return false;
	old = MemoryContextSwitchTo(r->cxt);
	/*
	 * The server or a user mapping changed since the scan started (a cursor
	 * open across an ALTER or DROP): the next request uses what is there
	 * now, or fails as a new scan would.
	 */
	if (r->conn->generation != qs_conn_generation())
		r->conn = qs_conn_by_oid(r->conn->serverid, r->conn->userid);
	while (!sent && r->steps != NIL)
	{
		QsStep *s = (QsStep *) linitial(r->steps);

		switch (s->kind)
		{
			case QS_STEP_PAGES:
				if (budget_spent(r))
				{
					/* r->cursor is where the next call goes on */
					r->steps = NIL;
					break;
				}
				*rows = fetch_page(r, s, store);
				sent = true;
				break;
			case QS_STEP_INSTANCES:
				/* the instances list is a response of its own */
				r->instances = list_instance_ids(r);
				r->steps = list_delete_first(r->steps);
				sent = true;
				break;
			case QS_STEP_EACH_INSTANCE:
				r->steps = list_concat(each_instance(r, s),
									   list_delete_first(r->steps));
				break;
			case QS_STEP_GET:
				*rows = fetch_step(r, s, store);
				r->steps = list_delete_first(r->steps);
				sent = true;
				break;
		}
	}
	if (!sent)
		r->done = true;
	MemoryContextSwitchTo(old);
	return sent;
}

char *
qs_runner_run(const QsConn *conn, const QsRequest *req, QsMapper *mapper,
			  Tuplestorestate *store)
{
	QsRunner *r = qs_runner_start(conn, req, mapper, NULL);
	int64 rows;

	while (qs_runner_fetch(r, store, &rows))
		;
	return req->page_budget > 0 && !req->empty ? r->cursor : NULL;
}
