/*-------------------------------------------------------------------------
 *
 * sharedcache.c
 *		With shared_preload_libraries = 'qstash' and qstash.cache_ttl > 0:
 *		responses all backends reuse, in PostgreSQL's shared memory.
 *
 * Entries are keyed like the backend cache (server, user mapping, role,
 * credentials fingerprint, URL) and stamped with the generation of servers
 * and user mappings, in an arena of qstash.shared_cache_size bytes, oldest
 * overwritten first.  A miss is fetched by one backend while the others
 * wait for it.
 *
 * It lives in the part of shared.c's segment that qs_shared_cache_attach()
 * is given, under shared.c's one LWLock, which is never held across a
 * request, a sleep or anything that can raise an error (a body is copied
 * out into memory allocated before the lock is taken).  Without the
 * preload, every function here does nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "qstash.h"
#include "sharedcache.h"

#define QS_SHARED_ENTRIES 512

typedef struct QsSharedEntry
{
	bool used;
	bool inflight; /* being fetched by pid */
	int pid;
	uint32 hash;
	Oid dbid;
	Oid serverid;
	Oid umid;
	Oid userid;
	uint64 fingerprint;
	uint64 generation;
	TimestampTz fetched_at;
	long status;
	Size off; /* in the arena: the URL, then the body */
	Size url_len;
	Size body_len;
} QsSharedEntry;

typedef struct QsSharedCache
{
	LWLock *lock; /* shared.c's, which guards the limits too */
	pg_atomic_uint64 generation;
	QsSharedEntry entries[QS_SHARED_ENTRIES];
	Size arena_size;
	Size head; /* where the next entry goes */
	char arena[FLEXIBLE_ARRAY_MEMBER];
} QsSharedCache;

static QsSharedCache *shared = NULL;
static int qs_guc_shared_cache_size = 8 * 1024 * 1024;

/* the in-flight entries this backend owns (cleared at abort) */
static int owned[8];
static int nowned = 0;
static bool xact_callback_set = false;

/* Any backend that sees a server or user mapping change: all stale. */
static void
catalog_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	qs_shared_bump_generation();
}

void
qs_shared_cache_init(void)
{
	DefineCustomIntVariable(
		"qstash.shared_cache_size",
		"Shared memory for responses reused by all backends.",
		"Only with shared_preload_libraries = 'qstash'; 0 shares no "
		"responses.",
		&qs_guc_shared_cache_size, 8 * 1024 * 1024, 0, 1024 * 1024 * 1024,
		PGC_POSTMASTER, GUC_UNIT_BYTE, NULL, NULL, NULL);
	/* registered in the postmaster: every backend inherits them */
	CacheRegisterSyscacheCallback(USERMAPPINGOID, catalog_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, catalog_changed,
								  (Datum) 0);
}

Size
qs_shared_cache_size(void)
{
	return add_size(offsetof(QsSharedCache, arena),
					(Size) qs_guc_shared_cache_size);
}

void
qs_shared_cache_attach(void *mem, LWLock *lock, bool found)
{
	shared = (QsSharedCache *) mem;
	if (found)
		return;
	memset(shared, 0, offsetof(QsSharedCache, arena));
	shared->lock = lock;
	pg_atomic_init_u64(&shared->generation, 1);
	shared->arena_size = (Size) qs_guc_shared_cache_size;
	shared->head = 0;
}

void
qs_shared_bump_generation(void)
{
	if (shared)
		pg_atomic_fetch_add_u64(&shared->generation, 1);
}

static uint32
key_hash(const QsCacheKey *key)
{
	uint32 h = hash_bytes((const unsigned char *) key->url, strlen(key->url));

	h = hash_combine(h, key->serverid);
	h = hash_combine(h, key->umid);
	h = hash_combine(h, key->userid);
	return hash_combine(h, (uint32) key->fingerprint);
}

/*
 * Does e hold key?  A claim (in flight) has no URL yet: it matches by the
 * hash, so a collision only makes a backend wait for another's fetch.
 */
static bool
entry_matches(const QsSharedEntry *e, const QsCacheKey *key, uint32 h)
{
	size_t ulen = strlen(key->url);

	if (!e->used || e->hash != h || e->dbid != MyDatabaseId ||
		e->serverid != key->serverid || e->umid != key->umid ||
		e->userid != key->userid || e->fingerprint != key->fingerprint)
		return false;
	return e->inflight || (e->url_len == ulen && memcmp(shared->arena + e->off,
														key->url, ulen) == 0);
}

static QsSharedEntry *
find_entry(const QsCacheKey *key, uint32 h)
{
	for (int i = 0; i < QS_SHARED_ENTRIES; i++)
		if (entry_matches(&shared->entries[i], key, h))
			return &shared->entries[i];
	return NULL;
}

static bool
entry_fresh(const QsSharedEntry *e, TimestampTz now)
{
	return !e->inflight &&
		   e->generation == pg_atomic_read_u64(&shared->generation) &&
		   now - e->fetched_at < (int64) qs_guc_cache_ttl * USECS_PER_SEC;
}

/* e holds key now: a claim (in flight) of this backend, or its response */
static void
set_key(QsSharedEntry *e, const QsCacheKey *key, uint32 h, bool inflight)
{
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->inflight = inflight;
	e->pid = MyProcPid;
	e->hash = h;
	e->dbid = MyDatabaseId;
	e->serverid = key->serverid;
	e->umid = key->umid;
	e->userid = key->userid;
	e->fingerprint = key->fingerprint;
}

static void
forget_owned(int idx)
{
	for (int i = 0; i < nowned; i++)
		if (owned[i] == idx)
			owned[i] = owned[--nowned];
}

/* An aborted fetch gives its in-flight entries up: the waiters go on. */
static void
release_claims(void)
{
	if (shared == NULL || nowned == 0)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nowned; i++)
	{
		QsSharedEntry *e = &shared->entries[owned[i]];

		if (e->inflight && e->pid == MyProcPid)
			e->used = false;
	}
	LWLockRelease(shared->lock);
	nowned = 0;
}

static void
xact_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		release_claims();
}

static void
subxact_abort(SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		release_claims();
}

/* A slot for a new entry: a free one, else the oldest. */
static QsSharedEntry *
new_slot(void)
{
	QsSharedEntry *oldest = NULL;

	for (int i = 0; i < QS_SHARED_ENTRIES; i++)
	{
		QsSharedEntry *e = &shared->entries[i];

		if (!e->used)
			return e;
		if (!e->inflight &&
			(oldest == NULL || e->fetched_at < oldest->fetched_at))
			oldest = e;
	}
	return oldest;
}

/*
 * A fresh shared response for key: its status and a copy of its body in
 * the current memory context.  On a miss, this backend is the one to fetch
 * it (false, and *owner set): it calls qs_shared_cache_put() or the abort
 * gives the claim up.  While another backend fetches the same key, waits
 * for it (interruptibly, at most qstash.timeout_ms).
 *
 * Nothing is allocated under the lock: the buffer is allocated first, as
 * large as the largest hit this backend has seen (most hits are of a size
 * seen before: one look); a hit larger than that releases the lock,
 * allocates room and looks again (the buffer only grows, and no body is
 * larger than the arena, so this ends).
 */
bool
qs_shared_cache_get(const QsCacheKey *key, long *status, char **body,
					size_t *len)
{
	static Size largest_hit = 8192;
	uint32 h;
	TimestampTz deadline;
	char *buf;
	Size bufsize;

	if (shared == NULL || qs_guc_cache_ttl <= 0 || shared->arena_size == 0)
		return false;
	if (!xact_callback_set)
	{
		RegisterXactCallback(xact_abort, NULL);
		RegisterSubXactCallback(subxact_abort, NULL);
		xact_callback_set = true;
	}
	h = key_hash(key);
	deadline = GetCurrentTimestamp() + (TimestampTz) qs_guc_timeout_ms * 1000;
	bufsize = Min(largest_hit, shared->arena_size + 1);
	buf = palloc(bufsize);
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		QsSharedEntry *e;
		bool wait = false;
		Size need = 0;

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		e = find_entry(key, h);
		if (e != NULL && entry_fresh(e, now))
		{
			if (e->body_len < bufsize)
			{
				*status = e->status;
				*len = e->body_len;
				memcpy(buf, shared->arena + e->off + e->url_len, e->body_len);
				buf[e->body_len] = '\0';
				LWLockRelease(shared->lock);
				*body = buf;
				return true;
			}
			need = e->body_len + 1; /* no room for it: make room, look again */
			largest_hit = Max(largest_hit, need);
		}
		else if (e != NULL && e->inflight && e->pid == MyProcPid)
			; /* this backend fetches it already (a nested call): no claim */
		else if (e != NULL && e->inflight &&
				 BackendPidGetProc(e->pid) != NULL && now < deadline)
			wait = true;
		else if (nowned < lengthof(owned))
		{
			/* claim it: others wait for this backend's response */
			if (e == NULL)
				e = new_slot();
			if (e != NULL)
			{
				set_key(e, key, h, true);
				owned[nowned++] = (int) (e - shared->entries);
			}
		}
		LWLockRelease(shared->lock);
		if (need > 0)
		{
			pfree(buf);
			buf = palloc(need);
			bufsize = need;
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (!wait)
		{
			pfree(buf);
			return false;
		}
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 5,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Free the arena range [off, off + n): entries there are dropped. */
static void
drop_overlapping(Size off, Size n)
{
	for (int i = 0; i < QS_SHARED_ENTRIES; i++)
	{
		QsSharedEntry *e = &shared->entries[i];
		Size size = e->url_len + e->body_len;

		if (e->used && !e->inflight && size > 0 && e->off < off + n &&
			off < e->off + size)
			e->used = false;
	}
}

/*
 * Share a response this backend fetched (and parsed).  Too large for the
 * arena: not shared, and its claim is given up.
 */
void
qs_shared_cache_put(const QsCacheKey *key, long status, const char *body,
					size_t len)
{
	uint32 h;
	Size ulen;
	Size need;
	QsSharedEntry *e;

	if (shared == NULL || qs_guc_cache_ttl <= 0 || shared->arena_size == 0)
		return;
	h = key_hash(key);
	ulen = strlen(key->url);
	need = ulen + len;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = find_entry(key, h);
	if (e == NULL)
		e = new_slot();
	if (e == NULL || need > shared->arena_size)
	{
		if (e != NULL && e->inflight && e->pid == MyProcPid)
			e->used = false;
	}
	else
	{
		Size off = shared->head;

		if (off + need > shared->arena_size)
			off = 0;
		e->used = false; /* not one of the entries it may overlap */
		drop_overlapping(off, need);
		memcpy(shared->arena + off, key->url, ulen);
		memcpy(shared->arena + off + ulen, body, len);
		set_key(e, key, h, false);
		e->generation = pg_atomic_read_u64(&shared->generation);
		e->fetched_at = GetCurrentTimestamp();
		e->status = status;
		e->off = off;
		e->url_len = ulen;
		e->body_len = len;
		shared->head = off + need;
	}
	if (e != NULL)
		forget_owned((int) (e - shared->entries));
	LWLockRelease(shared->lock);
}
