/*-------------------------------------------------------------------------
 *
 * shared.c
 *		With shared_preload_libraries = 'qstash': what all backends share
 *		about the API, in PostgreSQL's shared memory.
 *
 * - Rate-limit state per (server, credentials fingerprint, API, kind): the
 *   latest figures any backend saw.  A daily or chat limit known to be
 *   exhausted until a reset in the future fails a request at once with the
 *   error the API would give (qstash.shared_fail_fast); the burst limit
 *   becomes a budget that backends share (at most that many requests in
 *   any second, and a margin), waiting instead of sending what would be
 *   refused.
 * - Responses, when qstash.cache_ttl > 0: keyed like the backend cache
 *   (server, user mapping, role, credentials fingerprint, URL) and stamped
 *   with the generation of servers and user mappings, in an arena of
 *   qstash.shared_cache_size bytes, oldest overwritten first.  A miss is
 *   fetched by one backend while the others wait for it.
 *
 * One LWLock guards it all; it is never held across a request, a sleep or
 * anything that can raise an error.  Without the preload, every function
 * here does nothing, and each backend works alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "common/hashfn.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "qstash.h"
#include "ratelimit.h"
#include "shared.h"

#define QS_SHARED_LIMITS 128
#define QS_SHARED_ENTRIES 512
#define QS_RAW_LEN 32
#define QS_BURST_RING 64
/* the budget's window: a second, and a margin for the requests' transit */
#define QS_BURST_WINDOW_US (USECS_PER_SEC + 50 * 1000)

typedef struct QsSharedLimit
{
	bool used;
	Oid dbid; /* server OIDs are a database's own */
	Oid serverid;
	uint64 fingerprint;
	int api; /* QsApi: the two APIs have limits of their own */
	char kind[16];
	char limit[QS_RAW_LEN];
	char remaining[QS_RAW_LEN];
	char reset[QS_RAW_LEN];
	TimestampTz observed_at;
	/* burst: when the last requests were sent (a ring of QS_BURST_RING) */
	TimestampTz sent_at[QS_BURST_RING];
	int next;
} QsSharedLimit;

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

typedef struct QsShared
{
	LWLock *lock;
	pg_atomic_uint64 generation;
	QsSharedLimit limits[QS_SHARED_LIMITS];
	QsSharedEntry entries[QS_SHARED_ENTRIES];
	Size arena_size;
	Size head; /* where the next entry goes */
	char arena[FLEXIBLE_ARRAY_MEMBER];
} QsShared;

static QsShared *shared = NULL;
static int qs_guc_shared_cache_size = 8 * 1024 * 1024;
bool qs_guc_shared_fail_fast = true;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* the in-flight entries this backend owns (cleared at abort) */
static int owned[8];
static int nowned = 0;
static bool xact_callback_set = false;

static Size
shared_size(void)
{
	return add_size(offsetof(QsShared, arena),
					(Size) qs_guc_shared_cache_size);
}

static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("qstash", 1);
}

static void
shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("qstash", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, offsetof(QsShared, arena));
		shared->lock = &(GetNamedLWLockTranche("qstash"))->lock;
		pg_atomic_init_u64(&shared->generation, 1);
		shared->arena_size = (Size) qs_guc_shared_cache_size;
		shared->head = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
qs_shared_init(void)
{
	DefineCustomBoolVariable(
		"qstash.shared_fail_fast",
		"Fail a request at once while a daily or chat rate limit that any "
		"backend saw is exhausted.",
		"Only with shared_preload_libraries = 'qstash'.",
		&qs_guc_shared_fail_fast, true, PGC_USERSET, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable(
		"qstash.shared_cache_size",
		"Shared memory for responses reused by all backends.",
		"Only with shared_preload_libraries = 'qstash'; 0 shares no "
		"responses.",
		&qs_guc_shared_cache_size, 8 * 1024 * 1024, 0, 1024 * 1024 * 1024,
		PGC_POSTMASTER, GUC_UNIT_BYTE, NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
	/* every backend then sees server and mapping changes (options.c) */
	(void) qs_conn_generation();
}

bool
qs_shared_on(void)
{
	return shared != NULL;
}

void
qs_shared_bump_generation(void)
{
	if (shared)
		pg_atomic_fetch_add_u64(&shared->generation, 1);
}

/* -- rate limits --------------------------------------------------------- */

static QsSharedLimit *
find_limit(Oid serverid, uint64 fp, QsApi api, const char *kind, bool create)
{
	QsSharedLimit *free_slot = NULL;
	QsSharedLimit *oldest = NULL;

	for (int i = 0; i < QS_SHARED_LIMITS; i++)
	{
		QsSharedLimit *l = &shared->limits[i];

		if (!l->used)
		{
			if (free_slot == NULL)
				free_slot = l;
			continue;
		}
		if (l->dbid == MyDatabaseId && l->serverid == serverid &&
			l->fingerprint == fp && l->api == (int) api &&
			strcmp(l->kind, kind) == 0)
			return l;
		if (oldest == NULL || l->observed_at < oldest->observed_at)
			oldest = l;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL)
		free_slot = oldest;
	memset(free_slot, 0, sizeof(QsSharedLimit));
	free_slot->used = true;
	free_slot->dbid = MyDatabaseId;
	free_slot->serverid = serverid;
	free_slot->fingerprint = fp;
	free_slot->api = (int) api;
	strlcpy(free_slot->kind, kind, sizeof(free_slot->kind));
	return free_slot;
}

static void
store_raw(char *dst, const char *src)
{
	if (src == NULL)
		dst[0] = '\0';
	else
		strlcpy(dst, src, QS_RAW_LEN);
}

static void
observe_family(const QsConn *conn, QsApi api, const QsRateLimitFamily *f,
			   const QsHttpResponse *resp)
{
	char *l = qs_http_header(resp, f->limit);
	char *r = qs_http_header(resp, f->remaining);
	char *t = qs_http_header(resp, f->reset);
	QsSharedLimit *s;

	if (l == NULL && r == NULL && t == NULL)
	{
		/*
		 * A success without this family's headers: a limit that refuses
		 * every request until its reset is not exhausted any more (a plan
		 * upgrade, a reset earlier than announced).  Its remaining becomes
		 * unknown, so no backend is refused on its account.
		 */
		if (!f->until_reset || resp->status < 200 || resp->status >= 300)
			return;
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		s = find_limit(conn->serverid, conn->fingerprint, api, f->kind, false);
		if (s != NULL && strcmp(s->remaining, "0") == 0)
		{
			s->remaining[0] = '\0';
			s->observed_at = GetCurrentTimestamp();
		}
		LWLockRelease(shared->lock);
		return;
	}
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	s = find_limit(conn->serverid, conn->fingerprint, api, f->kind, true);
	store_raw(s->limit, l);
	store_raw(s->remaining, r);
	store_raw(s->reset, t);
	s->observed_at = GetCurrentTimestamp();
	LWLockRelease(shared->lock);
}

void
qs_shared_observe(const QsConn *conn, QsApi api, const QsHttpResponse *resp)
{
	if (shared == NULL)
		return;
	for (int i = 0; i < QS_RL_FAMILIES; i++)
		observe_family(conn, api, &qs_ratelimit_families[i], resp);
}

/* The newest figures per (server, API, kind), whatever the credentials. */
List *
qs_shared_observed(void)
{
	List *out = NIL;

	if (shared == NULL)
		return NIL;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < QS_SHARED_LIMITS; i++)
	{
		QsSharedLimit *l = &shared->limits[i];
		QsObservedLimit *o = NULL;
		ListCell *lc;

		if (!l->used || l->observed_at == 0 || l->dbid != MyDatabaseId)
			continue;
		foreach (lc, out)
		{
			QsObservedLimit *e = (QsObservedLimit *) lfirst(lc);

			if (e->serverid == l->serverid && e->api == (QsApi) l->api &&
				strcmp(e->kind, l->kind) == 0)
				o = e;
		}
		if (o != NULL && o->observed_at >= l->observed_at)
			continue;
		if (o == NULL)
		{
			o = palloc0(sizeof(QsObservedLimit));
			out = lappend(out, o);
		}
		o->serverid = l->serverid;
		o->api = (QsApi) l->api;
		o->kind = pstrdup(l->kind);
		o->limit = l->limit[0] ? pstrdup(l->limit) : NULL;
		o->remaining = l->remaining[0] ? pstrdup(l->remaining) : NULL;
		o->reset = l->reset[0] ? pstrdup(l->reset) : NULL;
		o->observed_at = l->observed_at;
	}
	LWLockRelease(shared->lock);
	return out;
}

/*
 * Forget the rate-limit state recorded for the servers the current role
 * may use (qstash_cache_reset()): the next request of any backend goes to
 * the API, which decides.  The privilege check reads the catalogs, so it
 * is made outside the lock, on a copy of the servers' OIDs.
 */
void
qs_shared_forget_limits(void)
{
	Oid servers[QS_SHARED_LIMITS];
	bool forget[QS_SHARED_LIMITS];
	int n = 0;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < QS_SHARED_LIMITS; i++)
		if (shared->limits[i].used && shared->limits[i].dbid == MyDatabaseId)
			servers[n++] = shared->limits[i].serverid;
	LWLockRelease(shared->lock);
	for (int i = 0; i < n; i++)
		forget[i] =
			GetForeignServerExtended(servers[i], FSV_MISSING_OK) == NULL ||
			qs_may_use_server(servers[i]);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < QS_SHARED_LIMITS; i++)
	{
		QsSharedLimit *l = &shared->limits[i];

		if (!l->used || l->dbid != MyDatabaseId)
			continue;
		for (int j = 0; j < n; j++)
		{
			if (forget[j] && servers[j] == l->serverid)
			{
				l->used = false;
				break;
			}
		}
	}
	LWLockRelease(shared->lock);
}

/*
 * A daily or chat limit of these credentials that some backend saw
 * exhausted, with its reset still ahead: the 429 the API would send, as a
 * response for qs_report_failure().  false when there is none.
 */
static bool
known_exhausted(const QsConn *conn, QsApi api, QsHttpResponse *fake)
{
	TimestampTz now = GetCurrentTimestamp();

	for (int k = 0; k < QS_RL_FAMILIES; k++)
	{
		const QsRateLimitFamily *f = &qs_ratelimit_families[k];
		char limit[QS_RAW_LEN];
		char reset[QS_RAW_LEN];
		bool exhausted = false;
		TimestampTz at;
		QsSharedLimit *l;

		if (!f->until_reset)
			continue;
		LWLockAcquire(shared->lock, LW_SHARED);
		l = find_limit(conn->serverid, conn->fingerprint, api, f->kind, false);
		if (l != NULL && strcmp(l->remaining, "0") == 0)
		{
			exhausted = true;
			memcpy(limit, l->limit, QS_RAW_LEN);
			memcpy(reset, l->reset, QS_RAW_LEN);
		}
		LWLockRelease(shared->lock);
		if (!exhausted || !qs_ratelimit_reset_time(reset, &at) || at <= now)
			continue;
		memset(fake, 0, sizeof(*fake));
		fake->transport = QS_TRANSPORT_OK;
		fake->status = 429;
		fake->body = pstrdup("");
		fake->headers =
			psprintf("HTTP/1.1 429 Too Many Requests\r\n"
					 "%s: %s\r\n%s: 0\r\n%s: %s\r\n\r\n",
					 f->limit, limit, f->remaining, f->reset, reset);
		fake->headers_len = strlen(fake->headers);
		return true;
	}
	return false;
}

/*
 * Before a request: fail at once on a limit known to be exhausted; take a
 * share of the burst budget (the limit any backend saw, per second),
 * waiting while it is spent, at most qstash.retry_max_wait_ms in all (then
 * the request goes, and the API decides).
 */
void
qs_shared_before_request(const QsConn *conn, QsApi api, const char *path)
{
	QsHttpResponse fake;
	TimestampTz deadline;

	if (shared == NULL)
		return;
	if (qs_guc_shared_fail_fast && known_exhausted(conn, api, &fake))
	{
		elog(DEBUG1,
			 "qstash: GET %s on server \"%s\": not sent, the rate "
			 "limit is exhausted (seen by a backend)",
			 path, conn->servername);
		qs_report_failure(conn, api, path, &fake);
	}
	deadline =
		GetCurrentTimestamp() + (TimestampTz) qs_guc_retry_max_wait_ms * 1000;
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz free_at = 0;
		QsSharedLimit *l;

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		/* every request is recorded, the ones before the limit is known too */
		l = find_limit(conn->serverid, conn->fingerprint, api, "burst", true);
		if (l->limit[0] != '\0')
		{
			/*
			 * At most limit requests in any window of a second (and a
			 * margin): the limit-th last one must be that old.  Limits
			 * above the ring are not held back.
			 */
			int limit = atoi(l->limit);

			if (limit > 0 && limit <= QS_BURST_RING)
			{
				TimestampTz kth =
					l->sent_at[(l->next - limit + QS_BURST_RING * 2) %
							   QS_BURST_RING];

				if (kth != 0 && now - kth < QS_BURST_WINDOW_US)
					free_at = kth + QS_BURST_WINDOW_US;
			}
		}
		if (free_at == 0 || now >= deadline)
		{
			l->sent_at[l->next] = now;
			l->next = (l->next + 1) % QS_BURST_RING;
			free_at = 0;
		}
		LWLockRelease(shared->lock);
		if (free_at == 0)
			return;
		(void) WaitLatch(
			MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
			Max((long) ((free_at - now) / 1000), 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* -- responses ----------------------------------------------------------- */

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
 */
bool
qs_shared_cache_get(const QsCacheKey *key, long *status, char **body,
					size_t *len)
{
	uint32 h;
	TimestampTz deadline;

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
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		QsSharedEntry *e;
		bool wait = false;

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		e = find_entry(key, h);
		if (e != NULL && entry_fresh(e, now))
		{
			*status = e->status;
			*len = e->body_len;
			/* palloc under the lock cannot be helped; a failure releases it */
			*body = palloc(e->body_len + 1);
			memcpy(*body, shared->arena + e->off + e->url_len, e->body_len);
			(*body)[e->body_len] = '\0';
			LWLockRelease(shared->lock);
			return true;
		}
		if (e != NULL && e->inflight && e->pid == MyProcPid)
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
		if (!wait)
			return false;
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
