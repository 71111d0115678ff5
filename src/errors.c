/*-------------------------------------------------------------------------
 *
 * errors.c
 *		One place that turns a failed request into a PostgreSQL error with
 *		its own SQLSTATE, a bounded printable DETAIL and no secrets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"

#include "compat.h"
#include "errors.h"
#include "printable.h"
#include "json.h"
#include "ratelimit.h"

#define QS_SCRUB_MAX 8192

static int
hexdigit(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * Length of the text at p that spells secret, each byte either as itself
 * or percent-encoded (%2D or %2d for '-'), or 0.
 */
static size_t
spelled_at(const char *p, const char *secret)
{
	const char *start = p;

	for (const unsigned char *s = (const unsigned char *) secret; *s; s++)
	{
		if ((unsigned char) *p == *s && *p != '%')
			p++;
		else if (p[0] == '%' && isxdigit((unsigned char) p[1]) &&
				 isxdigit((unsigned char) p[2]) &&
				 hexdigit(p[1]) * 16 + hexdigit(p[2]) == *s)
			p += 3;
		else if ((unsigned char) *p == *s)
			p++; /* a '%' in the secret itself */
		else
			return 0;
	}
	return p - start;
}

/* Mask every occurrence of secret in text, raw or percent-encoded. */
static void
mask(char *text, const char *secret)
{
	if (secret == NULL || secret[0] == '\0')
		return;
	for (char *p = text; *p; p++)
	{
		size_t n = spelled_at(p, secret);

		if (n > 0)
			memset(p, '*', n);
	}
}

/* base64 of s, with its "=" padding, and the same without it */
static List *
base64_forms(List *forms, const char *s)
{
	int len = strlen(s);
	char *b64 = palloc(pg_b64_enc_len(len) + 1);
	int blen = Max(qs_b64_encode(s, len, b64, pg_b64_enc_len(len)), 0);

	b64[blen] = '\0';
	forms = lappend(forms, b64);
	while (blen > 0 && b64[blen - 1] == '=')
		blen--;
	return lappend(forms, pnstrdup(b64, blen));
}

static int
longer_first(const ListCell *a, const ListCell *b)
{
	const char *x = lfirst(a);
	const char *y = lfirst(b);
	size_t lx = x ? strlen(x) : 0;
	size_t ly = y ? strlen(y) : 0;

	return lx < ly ? 1 : lx > ly ? -1 : 0;
}

/*
 * Remove the connection's secrets from a text (in place): every form in
 * which one is sent or could be echoed back.  The raw values of any
 * length; the Basic credentials as sent (base64 of "email:api_key", with
 * or without padding) and the pair in clear; each secret base64-encoded;
 * and each of these with any of its bytes percent-encoded.  The Authorization header values contain one of
 * these, so they are masked with them.  Longest first, so that a short
 * secret inside a longer one leaves no part of the longer one readable.
 */
void
qs_scrub_secrets(const QsConn *conn, char *text)
{
	const char *raw[3] = {conn->token, conn->api_key, conn->email};
	List *forms = NIL;
	ListCell *lc;

	if (conn->email != NULL && conn->api_key != NULL)
	{
		char *pair = psprintf("%s:%s", conn->email, conn->api_key);

		forms = base64_forms(forms, pair);
		forms = lappend(forms, pair);
	}
	for (int i = 0; i < lengthof(raw); i++)
	{
		if (raw[i] != NULL && raw[i][0] != '\0')
			forms = base64_forms(forms, raw[i]);
	}
	for (int i = 0; i < lengthof(raw); i++)
		forms = lappend(forms, (char *) raw[i]);
	/* longest first: a secret inside a longer one leaves none of it shown */
	list_sort(forms, longer_first);
	foreach (lc, forms)
		mask(text, (const char *) lfirst(lc));
}

/*
 * The text of an error body: its "error" or "message" member when it is a
 * JSON object (as the official CLI does), else the body itself.
 */
char *
qs_upstream_text(const QsConn *conn, const char *body, size_t len)
{
	char *perr;
	QsJson *doc;
	char *text = NULL;
	size_t tlen = 0;

	if (len == 0)
		return pstrdup("(empty body)");
	doc = qsjson_parse(body, len, NULL, NULL, &perr);
	if (doc != NULL && qsjson_kind(doc) == QSJ_OBJECT)
	{
		const char *keys[] = {"error", "message"};

		for (int i = 0; i < lengthof(keys) && text == NULL; i++)
		{
			QsJson *v = qsjson_object_get(doc, keys[i]);

			if (v != NULL && qsjson_kind(v) == QSJ_STRING)
			{
				const char *s = qsjson_string(v, &tlen);

				text = pnstrdup(s, tlen);
				tlen = strlen(text);
			}
		}
	}
	if (text == NULL)
		text = pnstrdup(body, len);
	/*
	 * Only the first QS_PRINTABLE_MAX printable characters are shown:
	 * what lies far beyond them needs no masking (and no scan)
	 */
	if (strlen(text) > QS_SCRUB_MAX)
		text[QS_SCRUB_MAX] = '\0';
	tlen = strlen(text);
	/* mask secrets in the whole text first: a cut could split one */
	qs_scrub_secrets(conn, text);
	return qs_printable(text, tlen);
}

void
qs_unexpected_json(const char *endpoint, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
			 errmsg("unexpected JSON type in the response of endpoint \"%s\"",
					endpoint),
			 errdetail_internal("%s", detail)));
}

/* The SQLSTATE of a transport failure. */
static int
transport_code(QsTransport t)
{
	switch (t)
	{
		case QS_TRANSPORT_CONNECT:
			return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
		case QS_TRANSPORT_TLS:
		case QS_TRANSPORT_TLS_HANDSHAKE:
			return ERRCODE_QS_TLS_FAILURE;
		case QS_TRANSPORT_TIMEOUT:
			return ERRCODE_QS_TIMEOUT;
		case QS_TRANSPORT_TOO_LARGE:
			return ERRCODE_QS_RESPONSE_TOO_LARGE;
		case QS_TRANSPORT_NO_MEMORY:
			return ERRCODE_OUT_OF_MEMORY;
		default:
			return ERRCODE_QS_TRANSFER_FAILURE;
	}
}

QS_NORETURN static void
report_transport(const QsConn *conn, const char *path,
				 const QsHttpResponse *resp)
{
	char *msg = pstrdup(resp->errmsg);

	qs_scrub_secrets(conn, msg);
	ereport(ERROR,
			(errcode(transport_code(resp->transport)),
			 errmsg("could not fetch \"%s\" from server \"%s\": %s", path,
					conn->servername, qs_http_transport_name(resp->transport)),
			 errdetail_internal("%s", msg),
			 resp->transport == QS_TRANSPORT_TOO_LARGE
				 ? errhint("A superuser, or a role granted SET on it, may "
						   "raise qstash.max_response_bytes if the response "
						   "is expected to be this large.")
			 : resp->transport == QS_TRANSPORT_TIMEOUT
				 ? errhint("Raise qstash.timeout_ms or the server option "
						   "timeout_ms.")
				 : 0));
}

QS_NORETURN static void
report_rate_limit(const QsConn *conn, const QsHttpResponse *resp)
{
	QsRateLimit rl;
	TimestampTz reset;
	char *detail;

	qs_ratelimit_parse(resp, &rl);
	detail = qs_ratelimit_detail(&rl);
	qs_scrub_secrets(conn, detail);
	ereport(ERROR,
			(errcode(rl.kind == QS_RL_CHAT	  ? ERRCODE_QS_CHAT_RATE_LIMIT
					 : rl.kind == QS_RL_DAILY ? ERRCODE_QS_DAILY_RATE_LIMIT
											  : ERRCODE_QS_BURST_RATE_LIMIT),
			 errmsg("%s rate limit of the Upstash API exceeded on server "
					"\"%s\"",
					qs_ratelimit_kind_name(rl.kind), conn->servername),
			 errdetail_internal("%s", detail),
			 qs_ratelimit_reset_time(rl.reset, &reset)
				 ? errhint("Retry after %s.", qs_format_utc(reset))
			 : rl.kind == QS_RL_BURST
				 ? errhint("Retry in a moment; qstash.max_retries retries "
						   "burst limits automatically.")
				 : errhint("Retry later.")));
}

QS_NORETURN static void
report_redirect(const QsConn *conn, const char *path,
				const QsHttpResponse *resp)
{
	char *loc = qs_http_header(resp, "Location");

	if (loc)
		qs_scrub_secrets(conn, loc);
	ereport(
		ERROR,
		(errcode(ERRCODE_QS_HTTP_REDIRECT),
		 errmsg("could not fetch \"%s\" from server \"%s\": HTTP %ld "
				"redirect not followed",
				path, conn->servername, resp->status),
		 errdetail_internal("Location: %s",
							loc ? qs_printable(loc, strlen(loc)) : "(none)"),
		 errhint("Point the server option api_url or qstash_url at the "
				 "final address.")));
}

/*
 * A request path as errors and the DEBUG lines show it: a copy with every
 * form of the mapping's credentials masked (a path carries what the API
 * sent back too, a cursor, and what a query named, an id).
 */
char *
qs_shown_path(const QsConn *conn, const char *path)
{
	char *shown = pstrdup(path);

	qs_scrub_secrets(conn, shown);
	return shown;
}

/* Raise the error for a response that is not a usable 2xx. */
void
qs_report_failure(const QsConn *conn, QsApi api, const char *path,
				  const QsHttpResponse *resp)
{
	char *upstream;

	path = qs_shown_path(conn, path);
	if (resp->transport != QS_TRANSPORT_OK)
		report_transport(conn, path, resp);
	if (resp->status == 429)
		report_rate_limit(conn, resp);
	if (resp->status >= 300 && resp->status < 400)
		report_redirect(conn, path, resp);

	upstream = qs_upstream_text(conn, resp->body, resp->body_len);
	if (resp->status == 401)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the Upstash API rejected the credentials of the user "
						"mapping on server \"%s\"",
						conn->servername),
				 errdetail_internal("HTTP 401 for GET %s: %s", path, upstream),
				 api == QS_API_DEVELOPER
					 ? errhint("Check the options email and api_key of the "
							   "user mapping: the developer API takes the "
							   "account's email and a developer API key.")
					 : errhint("Check the option token of the user mapping: "
							   "the QStash REST API takes the QStash token "
							   "of the region qstash_url names.")));
	if (resp->status == 403)
		ereport(
			ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the Upstash API denied access to \"%s\" on server \"%s\"",
					path, conn->servername),
			 errdetail_internal("HTTP 403: %s", upstream)));
	ereport(ERROR,
			(errcode(resp->status >= 500 ? ERRCODE_QS_HTTP_SERVER_ERROR
										 : ERRCODE_QS_HTTP_CLIENT_ERROR),
			 errmsg("could not fetch \"%s\" from server \"%s\": HTTP %ld",
					path, conn->servername, resp->status),
			 errdetail_internal("%s", upstream)));
}
