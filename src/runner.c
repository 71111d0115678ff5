/*-------------------------------------------------------------------------
 *
 * runner.c
 *		The shared endpoint runner: one QsRequest, one response at a time.
 *
 * A request is a sequence of responses:
 * - a paged listing (logs, dlq): count=100 (fewer when a limit needs
 *   fewer rows), then cursor=... until the API returns none, the limit is
 *   reached, or qstash.max_pages would be exceeded, which is an error: a
 *   listing is complete or it fails.  A listing with a page budget (the
 *   archive's) starts at the cursor it is given and stops after that many
 *   pages (at most qstash.max_pages), without error: the cursor of the
 *   next page is the caller's to keep;
 * - lookups by key: one per key (a key the API does not know gives no
 *   rows, and the empty key is not sent);
 * - per-instance endpoints (stats): one per period and instance; without
 *   instances given, the account's instances are listed first (a response
 *   of its own, with no rows);
 * - otherwise the one list path.
 * Each response lives in its own memory context, deleted as soon as its
 * rows are stored.  Paths come from qs_request_path() only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "compat.h"
#include "errors.h"
#include "qstash.h"
#include "runner.h"

struct QsRunner
{
	const QsConn *conn;
	const QsRequest *req;
	QsMapper *mapper;
	QsFetchStats *stats;
	List *targets; /* of QsTarget *: responses still to fetch */
	bool planned;  /* targets built (instances listed) */
	char *cursor;  /* paged listing: the next page's cursor */
	HTAB *cursors; /* hashes of every cursor seen, to catch a cycle */
	int pages;	   /* pages fetched */
	int64 rows;	   /* rows stored by the listing */
	bool done;	   /* every response fetched */
};

QsRunner *
qs_runner_start(const QsConn *conn, const QsRequest *req, QsMapper *mapper,
				QsFetchStats *stats)
{
	QsRunner *r = palloc0(sizeof(QsRunner));

	r->conn = conn;
	r->req = req;
	r->mapper = mapper;
	r->stats = stats;
	r->done = req->empty;
	r->cursor = req->cursor ? pstrdup(req->cursor) : NULL;
	return r;
}

/* The ids of the account's instances, in the order the API lists them. */
static List *
list_instance_ids(QsRunner *r)
{
	const QsEndpoint *users = qs_endpoint_lookup("users");
	MemoryContext cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash users list", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	QsJson *doc = qs_fetch(r->conn, users->api, users->path, false, r->stats);
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

static QsTarget *
make_target(const char *id, const char *qstash_id, const char *period)
{
	QsTarget *t = palloc(sizeof(QsTarget));

	t->id = id;
	t->qstash_id = qstash_id;
	t->period = period;
	return t;
}

/*
 * The responses of a request that is not a paged listing.  Lists the
 * instances (a request) when a per-instance endpoint has none given.
 */
static List *
plan_targets(QsRunner *r)
{
	const QsRequest *req = r->req;
	List *targets = NIL;
	List *instances;
	ListCell *l1;
	ListCell *l2;

	if (!req->ep->per_instance)
	{
		if (req->ids == NIL || req->ep->path_by_id == NULL)
			return list_make1(make_target(NULL, NULL, NULL));
		/* no object has the empty key: no rows, and no request */
		foreach (l1, req->ids)
			if (((char *) lfirst(l1))[0] != '\0')
				targets =
					lappend(targets, make_target(lfirst(l1), NULL, NULL));
		return targets;
	}
	instances = req->qstash_ids ? req->qstash_ids : list_instance_ids(r);
	foreach (l1, req->periods)
		foreach (l2, instances)
			if (((char *) lfirst(l2))[0] != '\0')
				targets = lappend(targets,
								  make_target(NULL, lfirst(l2), lfirst(l1)));
	return targets;
}

/*
 * Fetch one response and store its rows (at most max_rows, -1 for all):
 * rows kept from an identical mapping of it when the cache has them, else
 * the mapped body, kept for reuse with its rows.  For a page, *cursor is
 * the next page's cursor.
 */
static int64
map_response(QsRunner *r, const char *path, bool missing_ok, const QsTarget *t,
			 int64 max_rows, Tuplestorestate *store, char **cursor)
{
	const QsEndpoint *ep = r->req->ep;
	size_t siglen;
	const char *sig = qs_mapper_signature(r->mapper, &siglen);
	QsResponse resp;
	QsCachedRows *kept;
	int64 stored = 0;

	/* an element that does not parse fails the call before the keep */
	qs_fetch_response(r->conn, ep->api, path, missing_ok, true, sig, siglen,
					  max_rows, r->stats, &resp);
	if (resp.rows != NULL)
	{
		if (cursor)
			*cursor = resp.rows->cursor;
		return qs_mapper_put_kept(r->mapper, resp.rows, max_rows, store);
	}
	kept = qs_mapper_keep(r->mapper, max_rows);
	if (resp.doc == NULL)
		; /* a key or instance the API does not know: no rows */
	else if (cursor == NULL)
		stored = qs_mapper_put(r->mapper, resp.doc, t, max_rows, store);
	else
	{
		QsJson *rows = page_rows(r, resp.doc);

		if (rows != NULL)
			stored = qs_mapper_put(r->mapper, rows, t, max_rows, store);
		*cursor = page_cursor(ep, resp.doc);
		if (kept != NULL && *cursor != NULL)
			kept->cursor = MemoryContextStrdup(kept->cxt, *cursor);
	}
	qs_mapper_keep_end(r->mapper);
	qs_fetch_keep(&resp, kept);
	return stored;
}

/* Fetch one response of a target and store its rows. */
static int64
fetch_target(QsRunner *r, const QsTarget *t, Tuplestorestate *store)
{
	/* a key or instance given by the caller that the API does not know */
	bool missing_ok = t->id != NULL || r->req->qstash_ids != NIL;
	MemoryContext cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash response", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64 rows = map_response(r, qs_request_path(r->req, t, 0, NULL),
							  missing_ok, t, -1, store, NULL);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return rows;
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
		qs_unexpected_json(ep->name, "Key \"cursor\" contains a NUL character.");
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
fetch_page(QsRunner *r, Tuplestorestate *store)
{
	const QsRequest *req = r->req;
	QsTarget none = {0};
	MemoryContext cxt;
	MemoryContext old;
	int64 stored;
	char *cursor = NULL;
	char *next;

	if (r->pages >= qs_guc_max_pages)
		too_many_pages(r);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "qstash page",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	stored = map_response(
		r,
		qs_request_path(req, &none, qs_request_page_size(req, r->rows),
						r->cursor),
		false, &none, req->has_limit ? req->limit - r->rows : -1, store,
		&cursor);
	MemoryContextSwitchTo(old);
	next = cursor ? pstrdup(cursor) : NULL;
	MemoryContextDelete(cxt);

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
	*rows = 0;
	if (r->done)
		return false;
	/*
	 * The server or a user mapping changed since the scan started (a cursor
	 * open across an ALTER or DROP): the next request uses what is there
	 * now, or fails as a new scan would.
	 */
	if (r->conn->generation != qs_conn_generation())
		r->conn = qs_conn_by_oid(r->conn->serverid, r->conn->userid);
	if (r->req->ep->shape == QS_SHAPE_PAGES)
	{
		if (budget_spent(r))
		{
			r->done = true; /* r->cursor is where the next call goes on */
			return false;
		}
		*rows = fetch_page(r, store);
		return true;
	}
	if (!r->planned)
	{
		bool listed = r->req->ep->per_instance && r->req->qstash_ids == NIL;

		r->targets = plan_targets(r);
		r->planned = true;
		if (listed)
			return true; /* the instances list was this response */
	}
	if (r->targets == NIL)
	{
		r->done = true;
		return false;
	}
	*rows = fetch_target(r, (QsTarget *) linitial(r->targets), store);
	r->targets = list_delete_first(r->targets);
	return true;
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
