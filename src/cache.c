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
#include "options.h"
#include "qstash.h"

#if PG_VERSION_NUM >= 170000
#define QS_MY_LXID (MyProc->vxid.lxid)
#else
#define QS_MY_LXID (MyProc->lxid)
#endif

typedef struct QsCacheEntry
{
	QsCacheKey key; /* key.url is owned by the entry */
	long status;
	char *body;
	size_t len;
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

static Size
entry_size(const QsCacheEntry *e)
{
	return sizeof(QsCacheEntry) + strlen(e->key.url) + e->len + 2;
}

static void
free_entry(QsCacheEntry *e)
{
	cached_bytes -= entry_size(e);
	pfree((char *) e->key.url);
	pfree(e->body);
	pfree(e);
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

bool
qs_cache_get(const QsCacheKey *key, long *status, const char **body,
			 size_t *len)
{
	uint64 scope;
	ListCell *lc;

	register_callbacks();
	scope = current_scope();
	purge(scope, GetCurrentTimestamp());
	foreach (lc, entries)
	{
		QsCacheEntry *e = (QsCacheEntry *) lfirst(lc);

		if (matches(e, key))
		{
			*status = e->status;
			*body = e->body;
			*len = e->len;
			return true;
		}
	}
	return false;
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

void
qs_cache_put(const QsCacheKey *key, long status, const char *body, size_t len)
{
	MemoryContext old;
	QsCacheEntry *e;
	TimestampTz now = GetCurrentTimestamp();
	uint64 scope;
	ListCell *lc;

	register_callbacks();
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "qstash cache",
										  ALLOCSET_DEFAULT_SIZES);
	scope = current_scope();
	purge(scope, now);
	foreach (lc, entries)
	{
		e = (QsCacheEntry *) lfirst(lc);
		if (matches(e, key))
		{
			free_entry(e);
			entries = foreach_delete_current(entries, lc);
		}
	}

	old = MemoryContextSwitchTo(cache_cxt);
	e = palloc(sizeof(QsCacheEntry));
	e->key = *key;
	e->key.url = pstrdup(key->url);
	e->status = status;
	e->body = MemoryContextAllocHuge(cache_cxt, len + 1);
	memcpy(e->body, body, len);
	e->body[len] = '\0';
	e->len = len;
	e->fetched_at = now;
	e->scope = scope;
	entries = lappend(entries, e);
	cached_bytes += entry_size(e);
	MemoryContextSwitchTo(old);
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
