/*-------------------------------------------------------------------------
 *
 * cache.c
 *		Response reuse.  "One statement fetches each (server, user mapping,
 *		credentials, endpoint, parameters) at most once": rescans,
 *		self-joins, a CTE used twice, a STABLE function called per row, and a
 *		function plus a foreign table over the same data all read one
 *		response.  qstash.cache_ttl > 0 extends that across statements.
 *
 * What "one statement" means follows PostgreSQL's snapshot rule: a
 * statement that takes a new snapshot (each statement of a PL/pgSQL loop
 * or DO block in READ COMMITTED) sees a new response, as it would see new
 * table data; statements that share a snapshot (a STABLE function, a
 * cursor, every statement of a REPEATABLE READ or SERIALIZABLE
 * transaction) share the response.  The scope is the active snapshot,
 * registered while it is the scope so that its address cannot be reused by
 * a later snapshot; it is released when the scope ends: at the end of the
 * top-level statement (its portal is dropped), when another snapshot
 * becomes active, or at the end of the transaction.
 *
 * With qstash.cache_ttl = 0 the responses of a scope are freed when it
 * ends.  With cache_ttl > 0 they are kept for that many seconds.  Either
 * way the cache holds at most qstash.cache_max_bytes (oldest dropped
 * first).  A change of any user mapping or server (ALTER, DROP, in any
 * session) empties the cache, and keys hold a fingerprint of the
 * credentials actually sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/pg_list.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cache.h"
#include "compat.h"
#include "conn.h"
#include "qstash.h"

typedef struct QsCacheEntry
{
	MemoryContext cxt; /* holds the entry, its body and its rows */
	QsCacheKey key;	   /* key.url is owned by the entry */
	long status;
	const char *body;
	size_t len;
	QsCachedRows *rows; /* the mappings made of it */
	Size bytes;			/* what cxt holds, as counted in cached_bytes */
	int pins;			/* documents reading its body or rows */
	bool dropped;		/* out of the cache, freed when the last pin goes */
	TimestampTz fetched_at;
	uint64 scope; /* the scope that fetched it */
} QsCacheEntry;

static MemoryContext cache_cxt = NULL;
static List *entries = NIL; /* oldest first */
static Size cached_bytes = 0;
static uint64 seen_generation = 0; /* of servers and user mappings */
static bool callbacks_registered = false;

/* The current scope (see the file header). */
static uint64 scope_id = 0;
static LocalTransactionId scope_lxid = InvalidLocalTransactionId;
static bool scope_xact_wide = false;
static Snapshot scope_snap = NULL; /* registered on the top transaction */

/* Ends the scope it was registered for when its portal goes away. */
typedef struct QsScopeEnd
{
	MemoryContextCallback cb;
	uint64 scope;
} QsScopeEnd;

static void
count_entry(QsCacheEntry *e)
{
	cached_bytes -= e->bytes;
	e->bytes = MemoryContextMemAllocated(e->cxt, true);
	cached_bytes += e->bytes;
}

/* Drop e from the count; free it now, or when its last pin goes. */
static void
free_entry(QsCacheEntry *e)
{
	cached_bytes -= e->bytes;
	e->bytes = 0;
	e->dropped = true;
	if (e->pins == 0)
		MemoryContextDelete(e->cxt);
}

typedef struct QsCachePin
{
	MemoryContextCallback cb;
	QsCacheEntry *e;
} QsCachePin;

static void
unpin(void *arg)
{
	QsCacheEntry *e = ((QsCachePin *) arg)->e;

	if (--e->pins == 0 && e->dropped)
		MemoryContextDelete(e->cxt);
}

/*
 * Keep e's memory alive as long as the current memory context: the body or
 * rows handed out may be read while other code (a domain's CHECK calling
 * qstash functions, a later put) drops the entry from the cache.
 */
static void
pin(QsCacheEntry *e)
{
	QsCachePin *p = palloc(sizeof(QsCachePin));

	p->e = e;
	p->cb.func = unpin;
	p->cb.arg = p;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &p->cb);
	e->pins++;
}

static bool
fresh(const QsCacheEntry *e, TimestampTz now)
{
	return qs_guc_cache_ttl > 0 &&
		   now - e->fetched_at < (int64) qs_guc_cache_ttl * USECS_PER_SEC;
}

/*
 * Drop every entry that neither the scope nor the TTL keeps; everything
 * when a server or user mapping changed since the last look.
 */
static void
purge(uint64 scope, TimestampTz now)
{
	ListCell *lc;
	bool flush = qs_conn_generation() != seen_generation;

	seen_generation = qs_conn_generation();
	foreach (lc, entries)
	{
		QsCacheEntry *e = (QsCacheEntry *) lfirst(lc);

		if (flush || (e->scope != scope && !fresh(e, now)))
		{
			free_entry(e);
			entries = foreach_delete_current(entries, lc);
		}
	}
}

/* Release our registration of the scope's snapshot, if we hold one. */
static void
release_snapshot(void)
{
	if (scope_snap != NULL)
		UnregisterSnapshotFromOwner(scope_snap, TopTransactionResourceOwner);
	scope_snap = NULL;
}

/* The scope ends: its snapshot is let go and its responses freed. */
static void
end_scope(void)
{
	release_snapshot();
	scope_id++;
	purge(scope_id, GetCurrentTimestamp());
}

static void
scope_end_callback(void *arg)
{
	QsScopeEnd *se = (QsScopeEnd *) arg;

	if (se->scope == scope_id)
		end_scope();
}

static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			end_scope();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* the resource owner releases the snapshot itself */
			scope_snap = NULL;
			end_scope();
			break;
		default:
			break;
	}
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(xact_callback, NULL);
	callbacks_registered = true;
}

/*
 * The current scope: a new one for each new transaction, and within one,
 * for each new active snapshot (unless the isolation level keeps one
 * snapshot for the whole transaction).
 */
static uint64
current_scope(void)
{
	Snapshot snap;

	if (QS_MY_LXID != scope_lxid)
	{
		/* the xact callbacks have ended the last transaction's scope */
		scope_snap = NULL;
		scope_lxid = QS_MY_LXID;
		scope_xact_wide = false;
		scope_id++;
	}
	if (IsolationUsesXactSnapshot())
	{
		if (!scope_xact_wide)
		{
			release_snapshot();
			scope_xact_wide = true;
			scope_id++;
		}
		return scope_id;
	}
	scope_xact_wide = false;
	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
	if (snap == NULL)
	{
		/* no snapshot to go by: nothing is shared */
		release_snapshot();
		return ++scope_id;
	}
	if (snap != scope_snap)
	{
		release_snapshot();
		scope_id++;
		/* held while it is the scope: its address stays unique */
		scope_snap =
			RegisterSnapshotOnOwner(snap, TopTransactionResourceOwner);
		Assert(scope_snap == snap);
		if (PortalContext != NULL)
		{
			QsScopeEnd *se =
				MemoryContextAlloc(PortalContext, sizeof(QsScopeEnd));

			se->scope = scope_id;
			se->cb.func = scope_end_callback;
			se->cb.arg = se;
			MemoryContextRegisterResetCallback(PortalContext, &se->cb);
		}
	}
	return scope_id;
}

static bool
matches(const QsCacheEntry *e, const QsCacheKey *key)
{
	return e->key.serverid == key->serverid && e->key.umid == key->umid &&
		   e->key.userid == key->userid &&
		   e->key.fingerprint == key->fingerprint &&
		   strcmp(e->key.url, key->url) == 0;
}

static bool
same_sig(const QsCachedRows *rows, const char *sig, size_t siglen)
{
	return rows->siglen == siglen && memcmp(rows->sig, sig, siglen) == 0;
}

/* Can rows mapped with rows->limit serve a mapping of max_rows rows? */
static bool
rows_serve(const QsCachedRows *rows, int64 max_rows)
{
	return rows->limit < 0 || rows->nrows < rows->limit ||
		   (max_rows >= 0 && max_rows <= rows->limit);
}

static QsCacheEntry *
find_entry(const QsCacheKey *key)
{
	ListCell *lc;

	foreach (lc, entries)
	{
		QsCacheEntry *e = (QsCacheEntry *) lfirst(lc);

		if (matches(e, key))
			return e;
	}
	return NULL;
}

bool
qs_cache_get(const QsCacheKey *key, const char *sig, size_t siglen,
			 int64 max_rows, QsCacheHit *hit)
{
	QsCacheEntry *e;

	register_callbacks();
	purge(current_scope(), GetCurrentTimestamp());
	if ((e = find_entry(key)) == NULL)
		return false;
	pin(e);
	hit->status = e->status;
	hit->body = e->body;
	hit->len = e->len;
	hit->rows = NULL;
	for (QsCachedRows *r = e->rows; r != NULL && sig != NULL; r = r->next)
	{
		if (same_sig(r, sig, siglen) && rows_serve(r, max_rows))
		{
			hit->rows = r;
			break;
		}
	}
	return true;
}

/*
 * Keep the cache within qstash.cache_max_bytes, oldest out first, the
 * current statement's responses included (a later scan of the same data
 * in the statement then fetches it again; a listing's pages are not read
 * twice by one scan).  The newest entry, the one just put, stays.
 */
static void
enforce_bound(void)
{
	ListCell *lc;

	foreach (lc, entries)
	{
		QsCacheEntry *e = (QsCacheEntry *) lfirst(lc);

		if (cached_bytes <= (Size) qs_guc_cache_max_bytes ||
			lnext(entries, lc) == NULL)
			break;
		free_entry(e);
		entries = foreach_delete_current(entries, lc);
	}
}

/* Add rows to e, replacing rows of the same signature. */
static void
add_rows(QsCacheEntry *e, QsCachedRows *rows)
{
	QsCachedRows **p = &e->rows;

	while (*p != NULL)
	{
		if (same_sig(*p, rows->sig, rows->siglen))
		{
			QsCachedRows *old = *p;

			*p = old->next;
			MemoryContextDelete(old->cxt);
		}
		else
			p = &(*p)->next;
	}
	MemoryContextSetParent(rows->cxt, e->cxt);
	rows->next = e->rows;
	e->rows = rows;
}

void
qs_cache_put(const QsCacheKey *key, long status, MemoryContext body_cxt,
			 const char *body, size_t len, QsCachedRows *rows)
{
	QsCacheEntry *e;
	TimestampTz now = GetCurrentTimestamp();
	uint64 scope;
	MemoryContext old;

	register_callbacks();
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "qstash cache",
										  ALLOCSET_DEFAULT_SIZES);
	scope = current_scope();
	purge(scope, now);
	e = find_entry(key);
	if (body_cxt == NULL)
	{
		/* rows of a cached response: gone with it if it went */
		if (e != NULL && rows != NULL)
		{
			add_rows(e, rows);
			count_entry(e);
			enforce_bound();
		}
		else if (rows != NULL)
			MemoryContextDelete(rows->cxt);
		return;
	}
	if (e != NULL)
	{
		free_entry(e);
		entries = list_delete_ptr(entries, e);
	}

	{
		MemoryContext cxt = AllocSetContextCreate(
			cache_cxt, "qstash cache entry", ALLOCSET_SMALL_SIZES);

		e = MemoryContextAllocZero(cxt, sizeof(QsCacheEntry));
		e->cxt = cxt;
		e->key = *key;
		e->key.url = MemoryContextStrdup(cxt, key->url);
		e->status = status;
		MemoryContextSetParent(body_cxt, cxt);
		e->body = body;
		e->len = len;
		e->fetched_at = now;
		e->scope = scope;
		if (rows != NULL)
			add_rows(e, rows);
		/* no pin: a body is kept only once its document is done with it */
		old = MemoryContextSwitchTo(cache_cxt);
		entries = lappend(entries, e);
		MemoryContextSwitchTo(old);
		count_entry(e);
	}
	enforce_bound();
}

void
qs_cache_reset(void)
{
	ListCell *lc;

	foreach (lc, entries)
		free_entry((QsCacheEntry *) lfirst(lc));
	list_free(entries);
	entries = NIL;
}
