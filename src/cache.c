/*-------------------------------------------------------------------------
 *
 * cache.c
 *		Response reuse.  "One statement fetches each (server, user mapping,
 *		endpoint, parameters) at most once": rescans, self-joins, a CTE used
 *		twice, and a function plus a foreign table over the same data all
 *		read one response.  qstash.cache_ttl > 0 extends that across
 *		statements.
 *
 * A statement is identified by its local transaction id and start time.
 * Entries that can no longer be used are dropped on every access, so with
 * qstash.cache_ttl = 0 the cache holds only the current statement's
 * responses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/pg_list.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cache.h"
#include "qstash.h"

#if PG_VERSION_NUM >= 170000
#define QS_MY_LXID (MyProc->vxid.lxid)
#else
#define QS_MY_LXID (MyProc->lxid)
#endif

typedef struct QsCacheEntry
{
	Oid serverid;
	Oid umid;
	Oid userid;
	char *url;
	long status;
	char *body;
	size_t len;
	TimestampTz fetched_at;
	LocalTransactionId lxid;
	TimestampTz stmt_start;
} QsCacheEntry;

static MemoryContext cache_cxt = NULL;
static List *entries = NIL;

static bool
usable(const QsCacheEntry *e, TimestampTz now)
{
	if (e->lxid == QS_MY_LXID &&
		e->stmt_start == GetCurrentStatementStartTimestamp())
		return true;
	return qs_guc_cache_ttl > 0 &&
		   now - e->fetched_at < (int64) qs_guc_cache_ttl * USECS_PER_SEC;
}

static void
free_entry(QsCacheEntry *e)
{
	pfree(e->url);
	pfree(e->body);
	pfree(e);
}

/* Drop what can no longer be used. */
static void
purge(TimestampTz now)
{
	ListCell *lc;

	foreach (lc, entries)
	{
		QsCacheEntry *e = (QsCacheEntry *) lfirst(lc);

		if (!usable(e, now))
		{
			free_entry(e);
			entries = foreach_delete_current(entries, lc);
		}
	}
}

static bool
matches(const QsCacheEntry *e, const QsCacheKey *key)
{
	return e->serverid == key->serverid && e->umid == key->umid &&
		   e->userid == key->userid && strcmp(e->url, key->url) == 0;
}

bool
qs_cache_get(const QsCacheKey *key, long *status, const char **body,
			 size_t *len)
{
	ListCell *lc;

	purge(GetCurrentTimestamp());
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

void
qs_cache_put(const QsCacheKey *key, long status, const char *body, size_t len)
{
	MemoryContext old;
	QsCacheEntry *e;
	TimestampTz now = GetCurrentTimestamp();
	ListCell *lc;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "qstash cache",
										  ALLOCSET_DEFAULT_SIZES);
	purge(now);
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
	e->serverid = key->serverid;
	e->umid = key->umid;
	e->userid = key->userid;
	e->url = pstrdup(key->url);
	e->status = status;
	e->body = MemoryContextAllocHuge(cache_cxt, len + 1);
	memcpy(e->body, body, len);
	e->body[len] = '\0';
	e->len = len;
	e->fetched_at = now;
	e->lxid = QS_MY_LXID;
	e->stmt_start = GetCurrentStatementStartTimestamp();
	entries = lappend(entries, e);
	MemoryContextSwitchTo(old);
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
