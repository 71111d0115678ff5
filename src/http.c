/*-------------------------------------------------------------------------
 *
 * http.c
 *		The HTTP client: libcurl multi interface driven from our own wait
 *		loop, so that query cancel and statement_timeout are honoured
 *		promptly and PostgreSQL raises its own error for them.
 *
 * Rules kept here:
 * - libcurl callbacks never raise a PostgreSQL error; they record and
 *   return.  Their buffers grow with MCXT_ALLOC_NO_OOM allocations.
 * - The only error raised while libcurl objects are live is an interrupt
 *   (CHECK_FOR_INTERRUPTS), inside PG_TRY; PG_CATCH detaches the handle
 *   and frees the header list (end_transfer) before it propagates, as the
 *   normal end does.  Nothing else between building the header list and
 *   freeing it can raise an error (build_headers makes its pallocs first).
 * - The easy and multi handles are kept for the life of the backend, so
 *   the connection to the API is reused (keep-alive).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "common/base64.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "compat.h"
#include "http.h"
#include "qstash.h"

static CURLM *qs_multi = NULL;
static CURL *qs_easy = NULL;
static bool qs_curl_ready = false;

/* A receive buffer that never raises an error while it grows. */
typedef struct QsBuffer
{
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool overflow;
	bool oom;
} QsBuffer;

/* Grow buf to hold newcap bytes; false (oom set) when memory runs out. */
static bool
buffer_grow(QsBuffer *buf, size_t newcap)
{
	char *newdata = MemoryContextAllocExtended(
		CurrentMemoryContext, newcap, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);

	if (newdata == NULL)
	{
		buf->oom = true;
		return false;
	}
	if (buf->len > 0)
		memcpy(newdata, buf->data, buf->len);
	if (buf->data)
		pfree(buf->data);
	buf->data = newdata;
	buf->cap = newcap;
	return true;
}

static bool
buffer_append(QsBuffer *buf, const char *src, size_t n)
{
	if (buf->len + n > buf->max)
	{
		buf->overflow = true;
		return false;
	}
	if (buf->len + n + 1 > buf->cap &&
		!buffer_grow(buf, Max(Max(buf->cap * 2, buf->len + n + 1), 1024)))
		return false;
	memcpy(buf->data + buf->len, src, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return true;
}

/*
 * A "Content-Length" header within the size cap: the body buffer is
 * allocated once at that size, instead of doubling (and copying) its way
 * there.  A wrong length costs nothing: the buffer still grows as needed.
 */
static void
reserve_body(QsBuffer *body, const char *line, size_t n)
{
	static const char name[] = "content-length:";
	size_t i = sizeof(name) - 1;
	uint64 size = 0;
	int digits = 0;

	if (n <= i || pg_strncasecmp(line, name, i) != 0 || body->len > 0)
		return;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	for (; i < n && line[i] >= '0' && line[i] <= '9' && digits < 18; i++)
		size = size * 10 + (line[i] - '0'), digits++;
	if (digits == 0 || size > body->max || size + 1 <= body->cap)
		return;
	(void) buffer_grow(body, (size_t) size + 1);
	body->oom = false; /* not fatal: growing may still succeed */
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	size_t n = size * nmemb;

	if (!buffer_append((QsBuffer *) userdata, ptr, n))
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	return n;
}

/* What one transfer fills in while it runs (the callbacks' targets). */
typedef struct QsTransfer
{
	QsBuffer body;
	QsBuffer hdrs;
	char errbuf[CURL_ERROR_SIZE];
	CURLcode result;
	long status;
	long new_connections;
	double connect_secs;
} QsTransfer;

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	QsTransfer *x = (QsTransfer *) userdata;
	QsBuffer *buf = &x->hdrs;
	size_t n = size * nmemb;

	/* a status line starts a new header block: keep only the last one */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		buf->len = 0;
	if (!buffer_append(buf, ptr, n))
		return 0;
	reserve_body(&x->body, ptr, n);
	return n;
}

void
qs_http_init(void)
{
	if (qs_curl_ready)
		return;
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR, (errcode(ERRCODE_SYSTEM_ERROR),
						errmsg("could not initialize libcurl")));
	qs_curl_ready = true;
}

const char *
qs_http_transport_name(QsTransport t)
{
	switch (t)
	{
		case QS_TRANSPORT_OK:
			return "ok";
		case QS_TRANSPORT_CONNECT:
			return "connection failure";
		case QS_TRANSPORT_TLS:
			return "TLS failure";
		case QS_TRANSPORT_TLS_HANDSHAKE:
			return "TLS handshake failure";
		case QS_TRANSPORT_TIMEOUT:
			return "timeout";
		case QS_TRANSPORT_TOO_LARGE:
			return "response too large";
		case QS_TRANSPORT_NO_MEMORY:
			return "out of memory";
		case QS_TRANSPORT_OTHER:
			return "transfer failure";
		case QS_TRANSPORT_SETUP:
			return "request setup failure";
	}
	return "transfer failure";
}

static QsTransport
classify_curl(CURLcode rc, const QsBuffer *body, const QsBuffer *hdrs)
{
	if (body->overflow)
		return QS_TRANSPORT_TOO_LARGE;
	if (body->oom || hdrs->oom || hdrs->overflow)
		return body->oom || hdrs->oom ? QS_TRANSPORT_NO_MEMORY
									  : QS_TRANSPORT_OTHER;
	switch (rc)
	{
		case CURLE_OK:
			return QS_TRANSPORT_OK;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
			return QS_TRANSPORT_CONNECT;
		case CURLE_OPERATION_TIMEDOUT:
			return QS_TRANSPORT_TIMEOUT;
		case CURLE_SSL_CONNECT_ERROR:
			/* the handshake broke off: may pass on a new connection */
			return QS_TRANSPORT_TLS_HANDSHAKE;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_USE_SSL_FAILED:
			return QS_TRANSPORT_TLS;
		case CURLE_FILESIZE_EXCEEDED:
			return QS_TRANSPORT_TOO_LARGE;
		case CURLE_OUT_OF_MEMORY:
			return QS_TRANSPORT_NO_MEMORY;
		default:
			return QS_TRANSPORT_OTHER;
	}
}

/*
 * libcurl's messages carry measured times ("... after 12 ms: ..."); drop
 * them so that the same failure always reads the same.
 */
static void
strip_timing(char *msg)
{
	char *p = strstr(msg, " after ");
	char *q;

	if (p == NULL)
		return;
	q = p + 7;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q > p + 7 && strncmp(q, " ms", 3) == 0)
		memmove(p, q + 3, strlen(q + 3) + 1);
}

/* A transfer that could not start: SETUP failure with a message. */
static void
setup_failure(QsHttpResponse *resp, const char *msg)
{
	resp->transport = QS_TRANSPORT_SETUP;
	strlcpy(resp->errmsg, msg, sizeof(resp->errmsg));
}

/* Free a header list, wiping the credentials it holds first. */
static void
free_headers(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

static bool
has_control_chars(const char *s)
{
	for (; *s; s++)
	{
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

/*
 * The Authorization header line for both schemes (Basic base64(user:
 * password), or Bearer), palloc'd; NULL when the request sends none.  Made
 * before any libcurl object exists, so that an error raised by palloc
 * leaves no malloc'd list behind.
 */
static char *
auth_line(const QsHttpRequest *req)
{
	char *plain;
	char *enc;
	char *line;
	int plen;
	int elen;

	if (req->username == NULL)
		return req->bearer ? psprintf("Authorization: Bearer %s", req->bearer)
						   : NULL;
	plain =
		psprintf("%s:%s", req->username, req->password ? req->password : "");
	plen = strlen(plain);
	elen = pg_b64_enc_len(plen);
	enc = palloc(elen + 1);
	elen = qs_b64_encode(plain, plen, enc, elen);
	enc[Max(elen, 0)] = '\0';
	line = psprintf("Authorization: Basic %s", enc);
	explicit_bzero(plain, plen);
	explicit_bzero(enc, strlen(enc));
	pfree(plain);
	pfree(enc);
	return line;
}

/*
 * The request headers: Accept, and Authorization (auth_line), so that no
 * credential is left in libcurl's handle after the request: the list is
 * wiped and freed by free_headers().  Returns NULL, with resp filled in,
 * when the headers cannot be built; a credential with a control character
 * (which could start a header of its own) is never sent.  Nothing between
 * the first curl_slist_append and the return can raise an error.
 */
static struct curl_slist *
build_headers(const QsHttpRequest *req, QsHttpResponse *resp)
{
	struct curl_slist *l;
	char *auth;

	if ((req->username && has_control_chars(req->username)) ||
		(req->password && has_control_chars(req->password)) ||
		(req->bearer && has_control_chars(req->bearer)))
	{
		setup_failure(resp, "A credential contains a control character.");
		return NULL;
	}
	auth = auth_line(req);
	l = curl_slist_append(NULL, "Accept: application/json");
	if (l != NULL && auth != NULL)
	{
		struct curl_slist *l2 = curl_slist_append(l, auth);

		if (l2 == NULL)
		{
			free_headers(l);
			l = NULL;
		}
	}
	if (auth != NULL)
	{
		/* scrub our copy of the credentials before giving the memory back */
		explicit_bzero(auth, strlen(auth));
		pfree(auth);
	}
	if (l == NULL)
		setup_failure(resp, "could not build request headers");
	return l;
}

#define SETOPT(opt, val)                                                      \
	do                                                                        \
	{                                                                         \
		if (rc == CURLE_OK)                                                   \
			rc = curl_easy_setopt(qs_easy, opt, val);                         \
	} while (0)

/* Set every option of the (reset) handle for one GET. */
static CURLcode
configure_handle(const QsHttpRequest *req, struct curl_slist *headers,
				 QsTransfer *x)
{
	CURLcode rc = CURLE_OK;

	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_HTTPGET, 1L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file && req->ca_file[0] != '\0')
		SETOPT(CURLOPT_CAINFO, req->ca_file);
	SETOPT(CURLOPT_USERAGENT, QSTASH_USER_AGENT);
	SETOPT(CURLOPT_TIMEOUT_MS, req->timeout_ms);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_bytes);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(CURLOPT_TCP_NODELAY, 1L);
	SETOPT(CURLOPT_HTTPHEADER, headers);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, &x->body);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	/* dot segments in ids are data, never resolved by libcurl */
	SETOPT(CURLOPT_PATH_AS_IS, 1L);
	return rc;
}

/* Detach the handle, drop its pointers into the transfer, free the list. */
static void
end_transfer(bool attached, struct curl_slist *headers)
{
	if (attached)
		curl_multi_remove_handle(qs_multi, qs_easy);
	curl_easy_setopt(qs_easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(qs_easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(qs_easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(qs_easy, CURLOPT_HEADERDATA, NULL);
	free_headers(headers);
}

/*
 * Drive the transfer from our own wait loop.  The only error raised here
 * is an interrupt (CHECK_FOR_INTERRUPTS); end_transfer() detaches the
 * handle, drops its pointers into x and frees the header list (wiping it)
 * before it propagates, and after a normal end.
 */
static void
run_transfer(struct curl_slist *headers, QsTransfer *x)
{
	volatile bool attached = false;

	PG_TRY();
	{
		int running = 1;
		CURLMcode mc = curl_multi_add_handle(qs_multi, qs_easy);

		if (mc == CURLM_OK)
			attached = true;
		while (mc == CURLM_OK)
		{
			int numfds;

			mc = curl_multi_perform(qs_multi, &running);
			if (mc != CURLM_OK || running == 0)
				break;

			/*
			 * Sleep until a socket is ready or 100 ms pass.  A signal
			 * (cancel, statement_timeout) interrupts the poll, so the check
			 * below runs at once.
			 */
			mc = curl_multi_wait(qs_multi, NULL, 0, 100, &numfds);
			CHECK_FOR_INTERRUPTS();
		}
		if (mc != CURLM_OK)
		{
			x->result = CURLE_FAILED_INIT;
			snprintf(x->errbuf, sizeof(x->errbuf), "%s",
					 curl_multi_strerror(mc));
		}
		else
		{
			CURLMsg *msg;
			int left;

			x->result = CURLE_GOT_NOTHING;
			while ((msg = curl_multi_info_read(qs_multi, &left)) != NULL)
			{
				if (msg->msg == CURLMSG_DONE && msg->easy_handle == qs_easy)
					x->result = msg->data.result;
			}
		}
		curl_easy_getinfo(qs_easy, CURLINFO_RESPONSE_CODE, &x->status);
		curl_easy_getinfo(qs_easy, CURLINFO_NUM_CONNECTS, &x->new_connections);
		curl_easy_getinfo(qs_easy, CURLINFO_PRETRANSFER_TIME,
						  &x->connect_secs);
	}
	PG_CATCH();
	{
		end_transfer(attached, headers);
		PG_RE_THROW();
	}
	PG_END_TRY();
	end_transfer(attached, headers);
}

/* Fill resp from a finished transfer. */
static void
finish_response(const QsHttpRequest *req, QsTransfer *x, QsHttpResponse *resp)
{
	resp->status = x->status;
	resp->new_connections = x->new_connections;
	resp->transport = classify_curl(x->result, &x->body, &x->hdrs);
	if (resp->transport == QS_TRANSPORT_TOO_LARGE)
		snprintf(
			resp->errmsg, sizeof(resp->errmsg),
			"The response body exceeds qstash.max_response_bytes (%zu bytes).",
			req->max_bytes);
	else if (resp->transport == QS_TRANSPORT_TIMEOUT)
	{
		if (x->connect_secs == 0.0)
			snprintf(resp->errmsg, sizeof(resp->errmsg),
					 "No connection within %ld ms.", req->connect_timeout_ms);
		else
			snprintf(resp->errmsg, sizeof(resp->errmsg),
					 "No complete response within %ld ms.", req->timeout_ms);
	}
	else if (resp->transport != QS_TRANSPORT_OK)
	{
		strlcpy(resp->errmsg,
				x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result),
				sizeof(resp->errmsg));
		strip_timing(resp->errmsg);
	}
	if (x->body.data != NULL)
	{
		pfree(resp->body);
		resp->body = x->body.data;
		resp->body_len = x->body.len;
	}
	if (x->hdrs.data != NULL)
	{
		pfree(resp->headers);
		resp->headers = x->hdrs.data;
		resp->headers_len = x->hdrs.len;
	}
}

/*
 * Perform one GET.  Fills *resp; see http.h for the error contract.
 */
void
qs_http_get(const QsHttpRequest *req, QsHttpResponse *resp)
{
	QsTransfer x = {0};
	struct curl_slist *headers;
	CURLcode rc;
	instr_time start;
	instr_time duration;

	memset(resp, 0, sizeof(*resp));
	/* callers may pfree these whatever happens */
	resp->body = palloc0(1);
	resp->headers = palloc0(1);
	x.body.max = req->max_bytes;
	x.hdrs.max = 1024 * 1024; /* headers are small; 1 MB is absurd already */

	if (qs_multi == NULL)
		qs_multi = curl_multi_init();
	if (qs_easy == NULL)
		qs_easy = curl_easy_init();
	if (qs_multi == NULL || qs_easy == NULL)
	{
		setup_failure(resp, "could not create a libcurl handle");
		return;
	}
	curl_easy_reset(qs_easy);
	if ((headers = build_headers(req, resp)) == NULL)
		return;
	if ((rc = configure_handle(req, headers, &x)) != CURLE_OK)
	{
		end_transfer(false, headers);
		setup_failure(resp, psprintf("could not configure the request: %s",
									 curl_easy_strerror(rc)));
		return;
	}

	INSTR_TIME_SET_CURRENT(start);
	run_transfer(headers, &x);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	resp->elapsed_ms = INSTR_TIME_GET_MILLISEC(duration);
	finish_response(req, &x, resp);
}

/*
 * Value of a response header, compared case-insensitively, trimmed, or NULL
 * when it is absent or empty (an empty value counts as absent, as in the
 * official SDKs).  The result is palloc'd.
 */
char *
qs_http_header(const QsHttpResponse *resp, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = resp->headers;
	const char *end = resp->headers + resp->headers_len;

	while (p < end)
	{
		const char *eol = memchr(p, '\n', end - p);
		const char *lend = eol ? eol : end;

		if ((size_t) (lend - p) > nlen && p[nlen] == ':' &&
			pg_strncasecmp(p, name, nlen) == 0)
		{
			const char *v = p + nlen + 1;
			const char *ve = lend;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v &&
				   (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve > v)
				return pnstrdup(v, ve - v);
			return NULL;
		}
		p = lend + 1;
	}
	return NULL;
}
