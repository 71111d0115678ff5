/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		GET one path of a server as the current user, with bounded retries,
 *		and return the parsed body.
 *
 * Retries (GET only): transport failures and 5xx, with full-jitter
 * exponential backoff; a burst 429 whose reset is within
 * qstash.retry_max_wait_ms waits for the reset.  Daily and chat 429s are
 * never retried.  Every sleep is a WaitLatch, so cancel and
 * statement_timeout interrupt it at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cache.h"
#include "compat.h"
#include "errors.h"
#include "http.h"
#include "qstash.h"
#include "ratelimit.h"
#include "shared.h"
#include "fetch.h"

#define QS_BACKOFF_BASE_MS 100
#define QS_MAX_URL_LENGTH 8192
#define QS_BACKOFF_CAP_MS 5000

int64 qs_requests_sent = 0;

/* Sleep ms milliseconds, interruptibly. */
static void
qs_sleep(long ms)
{
	TimestampTz end = GetCurrentTimestamp() + ms * 1000;

	for (;;)
	{
		long left;

		CHECK_FOR_INTERRUPTS();
		left = (long) ((end - GetCurrentTimestamp()) / 1000);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* How long to wait before retry number attempt+1, or -1 for no retry. */
static long
retry_delay(const QsHttpResponse *resp, int attempt)
{
	if (attempt >= qs_guc_max_retries)
		return -1;
	if (resp->transport != QS_TRANSPORT_OK)
	{
		/* a certificate that failed verification will fail again */
		if (resp->transport == QS_TRANSPORT_TOO_LARGE ||
			resp->transport == QS_TRANSPORT_NO_MEMORY ||
			resp->transport == QS_TRANSPORT_TLS ||
			resp->transport == QS_TRANSPORT_SETUP)
			return -1;
	}
	else if (resp->status == 429)
	{
		QsRateLimit rl;
		TimestampTz reset;
		long wait_ms;

		qs_ratelimit_parse(resp, &rl);
		if (rl.kind != QS_RL_BURST ||
			!qs_ratelimit_reset_time(rl.reset, &reset))
			return -1;
		wait_ms = (long) ((reset - GetCurrentTimestamp()) / 1000);
		if (wait_ms > qs_guc_retry_max_wait_ms)
			return -1;
		return Max(wait_ms, 0) + 10;
	}
	else if (resp->status < 500)
		return -1;

	/* full jitter: uniform in [0, min(cap, base * 2^attempt)] */
	{
		double ceiling = Min((double) QS_BACKOFF_CAP_MS,
							 QS_BACKOFF_BASE_MS * pow(2.0, attempt));

		return (long) (pg_prng_double(&pg_global_prng_state) * ceiling);
	}
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
 * Parse a body.  A top-level array is read element by element as the
 * mapper reaches them (json.c); body must live as long as the document.
 */
static QsJson *
parse_body(const QsConn *conn, const char *path, const char *body, size_t len,
		   bool lazy)
{
	char *perr;
	QsBodyOrigin *o = palloc(sizeof(QsBodyOrigin));
	QsJson *doc;

	o->servername = pstrdup(conn->servername);
	o->path = pstrdup(path);
	doc = qsjson_parse(body, len, lazy ? report_malformed : NULL, o, &perr);
	if (doc == NULL)
		report_malformed(o, perr);
	return doc;
}

/* The HTTP request for path: full URL, credentials of the API, limits. */
static void
build_request(const QsConn *conn, QsApi api, const char *path,
			  QsHttpRequest *req)
{
	const char *base = qs_conn_base_url(conn, api);
	size_t blen = strlen(base);

	qs_conn_require_credentials(conn, api);
	memset(req, 0, sizeof(*req));
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	req->url = psprintf("%.*s%s", (int) blen, base, path);
	if (strlen(req->url) > QS_MAX_URL_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("request URL for server \"%s\" is too long",
						conn->servername),
				 errdetail("The URL has %zu bytes; at most %d are sent.",
						   strlen(req->url), QS_MAX_URL_LENGTH),
				 errhint("A pushed-down value (an id) is probably far longer "
						 "than any real one.")));
	if (api == QS_API_DEVELOPER)
	{
		req->username = conn->email;
		req->password = conn->api_key;
	}
	else
		req->bearer = conn->token;
	req->timeout_ms = conn->timeout_ms;
	req->connect_timeout_ms = conn->connect_timeout_ms;
	req->max_bytes = (size_t) qs_guc_max_response_bytes;
	req->ca_file = qs_guc_ca_file;
}

/*
 * Send the request, with retries; returns with resp->status 2xx, or 404
 * when missing_ok.  The body is allocated in *body_cxt.
 */
static void
send_request(const QsConn *conn, QsApi api, const char *path,
			 const QsHttpRequest *req, bool missing_ok, QsFetchStats *stats,
			 MemoryContext body_cxt, QsHttpResponse *resp)
{
	for (int attempt = 0;; attempt++)
	{
		long delay;
		MemoryContext old;

		qs_shared_before_request(conn, api, path);
		old = MemoryContextSwitchTo(body_cxt);
		qs_http_get(req, resp);
		MemoryContextSwitchTo(old);
		qs_requests_sent++;
		if (resp->transport == QS_TRANSPORT_OK)
		{
			qs_ratelimit_observe(conn->serverid, api, resp);
			qs_shared_observe(conn, api, resp);
		}
		if (stats)
		{
			stats->requests++;
			stats->retries += attempt > 0 ? 1 : 0;
			stats->connections += (int) resp->new_connections;
			stats->bytes += (int64) resp->body_len;
		}
		elog(DEBUG1,
			 "qstash: GET %s on server \"%s\": %s, HTTP %ld, %zu bytes, "
			 "%.1f ms",
			 path, conn->servername, qs_http_transport_name(resp->transport),
			 resp->status, resp->body_len, resp->elapsed_ms);

		if (resp->transport == QS_TRANSPORT_OK &&
			((resp->status >= 200 && resp->status < 300) ||
			 (resp->status == 404 && missing_ok)))
			return;
		delay = retry_delay(resp, attempt);
		if (delay < 0)
			qs_report_failure(conn, api, path, resp);
		elog(DEBUG1, "qstash: retrying GET %s in %ld ms (retry %d of %d)",
			 path, delay, attempt + 1, qs_guc_max_retries);
		MemoryContextReset(body_cxt);
		qs_sleep(delay);
	}
}

/*
 * The response from another backend (shared memory, with the preload),
 * copied into resp->body_cxt.  On a miss this backend fetches it for all
 * (shared.c), and qs_fetch_keep() shares it.
 */
static bool
shared_hit(const QsConn *conn, const char *path, bool missing_ok,
		   QsResponse *resp)
{
	MemoryContext old = MemoryContextSwitchTo(resp->body_cxt);
	char *body;
	size_t len;
	bool hit = qs_shared_cache_get(&resp->key, &resp->status, &body, &len);

	MemoryContextSwitchTo(old);
	if (hit && resp->status == 404 && !missing_ok)
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
		 path, conn->servername, resp->status);
	resp->body = body;
	resp->len = len;
	return true;
}

/*
 * One response of path: rows an identical mapping made of it (signature
 * sig; they hold at least max_rows rows) if the cache has them; else its
 * body, from the cache or fetched, parsed (resp->doc; NULL when the object
 * is missing, HTTP 404 with missing_ok; with lazy, a top-level array is
 * parsed element by element as it is read).  Pass the result to
 * qs_fetch_keep() once mapped.
 */
void
qs_fetch_response(const QsConn *conn, QsApi api, const char *path,
				  bool missing_ok, bool lazy, const char *sig, size_t siglen,
				  int64 max_rows, QsFetchStats *stats, QsResponse *resp)
{
	QsHttpRequest req;
	QsHttpResponse http;
	QsCacheHit hit;

	memset(resp, 0, sizeof(*resp));
	build_request(conn, api, path, &req);
	resp->key.serverid = conn->serverid;
	resp->key.umid = conn->umid;
	resp->key.userid = conn->userid;
	resp->key.fingerprint = conn->fingerprint;
	resp->key.url = req.url;
	/*
	 * A kept 404 (an id the API does not know, for a lookup that may miss)
	 * never answers a request that expects the object: that one is sent,
	 * and fails or succeeds on its own.
	 */
	if (qs_cache_get(&resp->key, sig, siglen, max_rows, &hit) &&
		(hit.status != 404 || missing_ok))
	{
		if (stats)
			stats->cache_hits++;
		elog(DEBUG1, "qstash: GET %s on server \"%s\": reused (HTTP %ld%s)",
			 path, conn->servername, hit.status, hit.rows ? ", rows" : "");
		resp->status = hit.status;
		resp->rows = hit.rows;
		if (hit.rows == NULL && hit.status != 404)
			resp->doc = parse_body(conn, path, hit.body, hit.len, lazy);
		return;
	}

	resp->body_cxt = AllocSetContextCreate(
		CurrentMemoryContext, "qstash response body", ALLOCSET_SMALL_SIZES);
	if (shared_hit(conn, path, missing_ok, resp))
	{
		if (stats)
			stats->cache_hits++;
	}
	else
	{
		send_request(conn, api, path, &req, missing_ok, stats, resp->body_cxt,
					 &http);
		resp->status = http.status;
		resp->body = http.body;
		resp->len = http.body_len;
		resp->to_share = true;
	}
	if (resp->status != 404)
		resp->doc = parse_body(conn, path, resp->body, resp->len, lazy);
}

/*
 * Keep a response that parsed and mapped (a body that does not parse is
 * never kept), with the rows mapped from it (or NULL).
 */
void
qs_fetch_keep(QsResponse *resp, QsCachedRows *rows)
{
	if (resp->to_share)
		qs_shared_cache_put(&resp->key, resp->status, resp->body,
							resp->status == 404 ? 0 : resp->len);
	qs_cache_put(&resp->key, resp->status, resp->body_cxt, resp->body,
				 resp->status == 404 ? 0 : resp->len, rows);
	resp->body_cxt = NULL;
}

QsJson *
qs_fetch(const QsConn *conn, QsApi api, const char *path, bool missing_ok,
		 QsFetchStats *stats)
{
	QsResponse resp;

	/* parsed whole: a body is kept only once all of it parsed */
	qs_fetch_response(conn, api, path, missing_ok, false, NULL, 0, -1, stats,
					  &resp);
	qs_fetch_keep(&resp, NULL);
	return resp.doc;
}
