/*-------------------------------------------------------------------------
 *
 * response.c
 *		The life of one response, from the request to its release:
 *
 *		1. reuse: rows an identical mapping made of it (cache.c), else its
 *		   body from the cache or, with the preload, from another backend
 *		   (sharedcache.c), else fetch it (fetch.c);
 *		2. parse it (json.c; a top-level array element by element, as the
 *		   mapping reads it);
 *		3. map it into the caller's tuplestore through a row sink that also
 *		   keeps the rows for reuse when qstash.cache_ttl allows;
 *		4. keep the body (and its rows) in the cache, share a fetched one,
 *		   and free the rest.
 *
 * Every allocation of a response lives in a memory context of its own,
 * under the caller's; the cache takes over the body's and the rows'
 * contexts (step 4) only once the mapping succeeded, so an error at any
 * step leaves nothing behind and keeps nothing half made.  A cached body
 * or rows in use are pinned by the response's context (cache.c) until it
 * is gone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "cache.h"
#include "compat.h"
#include "errors.h"
#include "qstash.h"
#include "response.h"
#include "sharedcache.h"

/* A response on its way. */
typedef struct QsResponse
{
	const QsGet *get;
	QsCacheKey key;
	long status;
	const char *body;
	size_t len;
	const QsCachedRows *rows; /* rows an identical mapping made, or NULL */
	MemoryContext body_cxt;	  /* the body's, when not from the cache */
	bool to_share;			  /* fetched here: shared once kept */
} QsResponse;

/* Where mapped rows go: the caller's tuplestore, and maybe kept rows. */
typedef struct QsStoreSink
{
	QsRowSink sink; /* first: the mapper's view */
	QsMapping *mapping;
	Tuplestorestate *store;
	QsCachedRows *keep; /* or NULL */
} QsStoreSink;

QsMapping *
qs_response_mapping(TupleDesc tupdesc, QsMapResponse map, void *arg)
{
	QsMapping *m = palloc0(sizeof(QsMapping));

	m->tupdesc = tupdesc;
	m->map = map;
	m->arg = arg;
	m->max_rows = -1;
	/* a copy: a relation's descriptor would be pinned by the slot */
	m->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(tupdesc),
									   &TTSOpsMinimalTuple);
	return m;
}

/* Where a body came from, for reporting that it does not parse. */
typedef struct QsBodyOrigin
{
	const char *servername;
	const char *path;
} QsBodyOrigin;

QS_NORETURN static void
report_malformed(void *arg, const char *error)
{
	QsBodyOrigin *o = (QsBodyOrigin *) arg;

	ereport(ERROR,
			(errcode(ERRCODE_QS_MALFORMED_RESPONSE),
			 errmsg("could not parse the response to \"%s\" from server "
					"\"%s\"",
					o->path, o->servername),
			 errdetail_internal("%s.", error)));
}

/*
 * Parse a body.  lazy: a top-level array is read element by element as the
 * mapper reaches them (json.c); the body must live as long as the document.
 */
static QsJson *
parse_body(const QsResponse *resp, bool lazy)
{
	char *perr;
	QsBodyOrigin *o = palloc(sizeof(QsBodyOrigin));
	QsJson *doc;

	o->servername = pstrdup(resp->get->conn->servername);
	o->path = pstrdup(resp->get->path);
	doc = qsjson_parse(resp->body, resp->len, lazy ? report_malformed : NULL,
					   o, &perr);
	if (doc == NULL)
		report_malformed(o, perr);
	return doc;
}

/*
 * The response from another backend (shared memory, with the preload),
 * copied into resp->body_cxt.  On a miss this backend fetches it for all
 * (sharedcache.c), and shares it once kept.
 */
static bool
shared_hit(QsResponse *resp)
{
	MemoryContext old = MemoryContextSwitchTo(resp->body_cxt);
	char *body;
	size_t len;
	bool hit = qs_shared_cache_get(&resp->key, &resp->status, &body, &len);

	MemoryContextSwitchTo(old);
	if (hit && resp->status == 404 && !resp->get->missing_ok)
	{
		/* as for the backend's cache: a 404 never answers a listing */
		resp->status = 0;
		MemoryContextReset(resp->body_cxt);
		return false;
	}
	if (!hit)
		return false;
	elog(DEBUG1,
		 "qstash: GET %s on server \"%s\": reused from shared "
		 "memory (HTTP %ld)",
		 qs_shown_path(resp->get->conn, resp->get->path),
		 resp->get->conn->servername, resp->status);
	resp->body = body;
	resp->len = len;
	return true;
}

/*
 * Step 1: rows of an identical mapping (signature sig, holding at least
 * max_rows rows) if the cache has them; else the body, from the cache,
 * from shared memory or fetched.
 */
static void
obtain(QsResponse *resp, const QsGet *get, const char *sig, size_t siglen,
	   int64 max_rows)
{
	const QsConn *conn = get->conn;
	QsCacheHit hit;
	QsHttpResponse http;

	memset(resp, 0, sizeof(*resp));
	resp->get = get;
	resp->key.serverid = conn->serverid;
	resp->key.umid = conn->umid;
	resp->key.userid = conn->userid;
	resp->key.fingerprint = conn->fingerprint;
	resp->key.url = qs_fetch_url(get);
	/*
	 * A kept 404 (an id the API does not know, for a lookup that may miss)
	 * never answers a request that expects the object: that one is sent,
	 * and fails or succeeds on its own.
	 */
	if (qs_cache_get(&resp->key, sig, siglen, max_rows, &hit) &&
		(hit.status != 404 || get->missing_ok))
	{
		if (get->stats)
			get->stats->cache_hits++;
		elog(DEBUG1, "qstash: GET %s on server \"%s\": reused (HTTP %ld%s)",
			 qs_shown_path(conn, get->path), conn->servername, hit.status,
			 hit.rows ? ", rows" : "");
		resp->status = hit.status;
		resp->body = hit.body;
		resp->len = hit.len;
		resp->rows = hit.rows;
		return;
	}
	resp->body_cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash response body", ALLOCSET_SMALL_SIZES);
	if (shared_hit(resp))
	{
		if (get->stats)
			get->stats->cache_hits++;
		return;
	}
	qs_fetch(get, resp->key.url, resp->body_cxt, &http);
	resp->status = http.status;
	resp->body = http.body;
	resp->len = http.body_len;
	resp->to_share = true;
}

/*
 * Step 4: keep a response that parsed and mapped (a body that does not
 * parse is never kept), with the rows kept from it (or NULL).
 */
static void
keep(QsResponse *resp, QsCachedRows *rows)
{
	size_t len = resp->status == 404 ? 0 : resp->len;

	if (resp->to_share)
		qs_shared_cache_put(&resp->key, resp->status, resp->body, len);
	qs_cache_put(&resp->key, resp->status, resp->body_cxt, resp->body, len,
				 rows);
	resp->body_cxt = NULL;
}

/*
 * The rows the mapping makes from now on, kept for the cache (at most
 * mapping->max_rows): a set in a context of its own.  NULL when the
 * mapping has no signature, or qstash.cache_ttl is 0: within one statement
 * a scan keeps its own rows, and the body serves a second mapping; forming
 * every row twice would cost more than it saves.
 */
static QsCachedRows *
rows_to_keep(const QsMapping *mapping)
{
	MemoryContext cxt;
	QsCachedRows *k;

	if (mapping->sig == NULL || qs_guc_cache_ttl <= 0)
		return NULL;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "qstash cached rows",
								ALLOCSET_DEFAULT_SIZES);
	k = MemoryContextAllocZero(cxt, sizeof(QsCachedRows));
	k->cxt = cxt;
	k->sig = MemoryContextAlloc(cxt, mapping->siglen);
	memcpy(k->sig, mapping->sig, mapping->siglen);
	k->siglen = mapping->siglen;
	k->limit = mapping->max_rows;
	return k;
}

/* A copy of tuple into store (through the mapping's slot). */
static void
store_tuple(QsMapping *mapping, MinimalTuple tuple, Tuplestorestate *store)
{
	ExecStoreMinimalTuple(tuple, mapping->slot, false);
	tuplestore_puttupleslot(store, mapping->slot);
	ExecClearTuple(mapping->slot);
}

/* A mapped row into the store, and into the kept rows when keeping. */
static void
sink_put(QsRowSink *sink, Datum *values, bool *nulls)
{
	QsStoreSink *s = (QsStoreSink *) sink;
	QsCachedRows *k = s->keep;
	MemoryContext old;

	if (k == NULL)
	{
		tuplestore_putvalues(s->store, s->mapping->tupdesc, values, nulls);
		return;
	}
	old = MemoryContextSwitchTo(k->cxt);
	if (k->nrows == k->cap)
	{
		k->cap = k->cap ? k->cap * 2 : 64;
		k->tuples =
			k->tuples ? repalloc_huge(k->tuples, sizeof(MinimalTuple) * k->cap)
					  : palloc(sizeof(MinimalTuple) * k->cap);
	}
	k->tuples[k->nrows] =
		qs_form_minimal_tuple(s->mapping->tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	store_tuple(s->mapping, k->tuples[k->nrows++], s->store);
}

/* The first max_rows (-1: all) of rows kept by an identical mapping. */
static int64
replay(QsMapping *mapping, const QsCachedRows *rows, Tuplestorestate *store)
{
	int64 n = rows->nrows;

	if (mapping->max_rows >= 0 && n > mapping->max_rows)
		n = mapping->max_rows;
	for (int64 i = 0; i < n; i++)
		store_tuple(mapping, rows->tuples[i], store);
	return n;
}

int64
qs_response_rows(const QsGet *get, QsMapping *mapping, Tuplestorestate *store,
				 char **cursor)
{
	MemoryContext cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash response", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	QsResponse resp;
	QsStoreSink sink = {{sink_put}, mapping, store, NULL};
	char *next = NULL;
	int64 stored = 0;

	obtain(&resp, get, mapping->sig, mapping->siglen, mapping->max_rows);
	if (resp.rows != NULL)
	{
		stored = replay(mapping, resp.rows, store);
		next = resp.rows->cursor;
	}
	else
	{
		sink.keep = rows_to_keep(mapping);
		/* 404: a key or instance the API does not know, no rows */
		if (resp.status != 404)
			stored = mapping->map(mapping->arg, parse_body(&resp, true),
								  &sink.sink, &next);
		if (sink.keep != NULL && next != NULL)
			sink.keep->cursor = MemoryContextStrdup(sink.keep->cxt, next);
		keep(&resp, sink.keep);
	}
	MemoryContextSwitchTo(old);
	if (cursor != NULL)
		*cursor = next ? pstrdup(next) : NULL;
	MemoryContextDelete(cxt);
	return stored;
}

QsJson *
qs_response_json(const QsGet *get)
{
	QsResponse resp;
	QsJson *doc = NULL;

	obtain(&resp, get, NULL, 0, -1);
	/* parsed whole: a body is kept only once all of it parsed */
	if (resp.status != 404)
		doc = parse_body(&resp, false);
	keep(&resp, NULL);
	return doc;
}
