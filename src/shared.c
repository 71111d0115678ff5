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
 * - Responses: the rest of the segment, given to sharedcache.c.
 *
 * One LWLock guards it all; it is never held across a request, a sleep or
 * anything that can raise an error (nothing is allocated under it).
 * Without the preload, every function here does nothing, and each backend
 * works alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "qstash.h"
#include "ratelimit.h"
#include "shared.h"
#include "sharedcache.h"

#define QS_SHARED_LIMITS 128
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

/* The segment: this, then the responses' part (sharedcache.c). */
typedef struct QsShared
{
	LWLock *lock;
	QsSharedLimit limits[QS_SHARED_LIMITS];
} QsShared;

#define QS_SHARED_CACHE_OFFSET MAXALIGN(sizeof(QsShared))

static QsShared *shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
shared_size(void)
{
	return add_size(QS_SHARED_CACHE_OFFSET, qs_shared_cache_size());
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
		memset(shared, 0, sizeof(QsShared));
		shared->lock = &(GetNamedLWLockTranche("qstash"))->lock;
	}
	qs_shared_cache_attach((char *) shared + QS_SHARED_CACHE_OFFSET,
						   shared->lock, found);
	LWLockRelease(AddinShmemInitLock);
}

void
qs_shared_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	qs_shared_cache_init();
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
}

bool
qs_shared_on(void)
{
	return shared != NULL;
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

/*
 * Apply what resp says of family f (qs_ratelimit_observation, the rule
 * the backend's own record applies too) to the shared record.  A limit
 * shown not to be exhausted any more (a plan upgrade, a reset earlier than
 * announced) gets an unknown remaining, so no backend is refused on its
 * account.
 */
static void
observe_family(const QsConn *conn, QsApi api, const QsRateLimitFamily *f,
			   const QsHttpResponse *resp)
{
	QsObservation obs;
	QsSharedLimit *s;

	qs_ratelimit_observation(resp, f, &obs);
	if (obs.what == QS_OBSERVED_NOTHING)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	s = find_limit(conn->serverid, conn->fingerprint, api, f->kind,
				   obs.what == QS_OBSERVED_FIGURES);
	if (obs.what == QS_OBSERVED_FIGURES)
	{
		store_raw(s->limit, obs.limit);
		store_raw(s->remaining, obs.remaining);
		store_raw(s->reset, obs.reset);
		s->observed_at = GetCurrentTimestamp();
	}
	else if (s != NULL && qs_ratelimit_exhausted(s->remaining))
	{
		s->remaining[0] = '\0';
		s->observed_at = GetCurrentTimestamp();
	}
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
	QsSharedLimit *copy;
	int n = 0;

	if (shared == NULL)
		return NIL;
	/* copied out under the lock, the list made after: no palloc under it */
	copy = palloc(sizeof(QsSharedLimit) * QS_SHARED_LIMITS);
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < QS_SHARED_LIMITS; i++)
	{
		QsSharedLimit *l = &shared->limits[i];

		if (l->used && l->observed_at != 0 && l->dbid == MyDatabaseId)
			copy[n++] = *l;
	}
	LWLockRelease(shared->lock);
	for (int i = 0; i < n; i++)
	{
		QsSharedLimit *l = &copy[i];
		QsObservedLimit *o = NULL;
		ListCell *lc;

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
	pfree(copy);
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
		if (l != NULL && qs_ratelimit_exhausted(l->remaining))
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
			 qs_shown_path(conn, path), conn->servername);
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
