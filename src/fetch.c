/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		Send one GET of a server as the current user, with bounded
 *		retries: the URL, the credentials of the API, the limits.  What is
 *		done with the body (reuse, parsing, rows) is response.c's.
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

#include "compat.h"
#include "errors.h"
#include "fetch.h"
#include "http.h"
#include "qstash.h"
#include "ratelimit.h"
#include "shared.h"

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

/*
 * The URL of a GET: the server's base URL for the API and the path.  Fails
 * when the API's credentials are missing, or the URL is too long.
 */
char *
qs_fetch_url(const QsGet *get)
{
	const QsConn *conn = get->conn;
	const char *base = qs_conn_base_url(conn, get->api);
	size_t blen = strlen(base);
	char *url;

	qs_conn_require_credentials(conn, get->api);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	url = psprintf("%.*s%s", (int) blen, base, get->path);
	if (strlen(url) > QS_MAX_URL_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("request URL for server \"%s\" is too long",
						conn->servername),
				 errdetail("The URL has %zu bytes; at most %d are sent.",
						   strlen(url), QS_MAX_URL_LENGTH),
				 errhint("A pushed-down value (an id) is probably far longer "
						 "than any real one.")));
	return url;
}

/* The HTTP request of a GET to url: credentials of the API, limits. */
static void
build_request(const QsConn *conn, QsApi api, const char *url,
			  QsHttpRequest *req)
{
	memset(req, 0, sizeof(*req));
	req->url = url;
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
 * Send a GET to url (qs_fetch_url), with retries; returns with
 * resp->status 2xx, or 404 when get->missing_ok, or fails.  The body is
 * allocated in body_cxt.
 */
void
qs_fetch(const QsGet *get, const char *url, MemoryContext body_cxt,
		 QsHttpResponse *resp)
{
	const QsConn *conn = get->conn;
	QsApi api = get->api;
	const char *path = get->path;
	bool missing_ok = get->missing_ok;
	QsFetchStats *stats = get->stats;
	QsHttpRequest req;

	build_request(conn, api, url, &req);
	for (int attempt = 0;; attempt++)
	{
		long delay;
		MemoryContext old;

		qs_shared_before_request(conn, api, path);
		/*
		 * Counted before it goes: a request a cancel interrupts may have
		 * reached the API, and spent a request of its limits (and of an
		 * archive run's budget).
		 */
		qs_requests_sent++;
		old = MemoryContextSwitchTo(body_cxt);
		qs_http_get(&req, resp);
		MemoryContextSwitchTo(old);
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
			 qs_shown_path(conn, path), conn->servername,
			 qs_http_transport_name(resp->transport), resp->status,
			 resp->body_len, resp->elapsed_ms);

		if (resp->transport == QS_TRANSPORT_OK &&
			((resp->status >= 200 && resp->status < 300) ||
			 (resp->status == 404 && missing_ok)))
			return;
		delay = retry_delay(resp, attempt);
		if (delay < 0)
			qs_report_failure(conn, api, path, resp);
		elog(DEBUG1, "qstash: retrying GET %s in %ld ms (retry %d of %d)",
			 qs_shown_path(conn, path), delay, attempt + 1,
			 qs_guc_max_retries);
		MemoryContextReset(body_cxt);
		qs_sleep(delay);
	}
}
