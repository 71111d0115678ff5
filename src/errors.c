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
#include "lib/stringinfo.h"

#include "errors.h"
#include "json.h"
#include "ratelimit.h"

#define QS_UPSTREAM_TEXT_MAX 200

/* Mask every occurrence of secret in text (in place). */
static void
mask(char *text, const char *secret)
{
	size_t n;
	char *p;

	if (secret == NULL || (n = strlen(secret)) == 0)
		return;
	while ((p = strstr(text, secret)) != NULL)
		memset(p, '*', n);
}

/*
 * Remove the connection's secrets from a text (in place): every form in
 * which one can be sent or echoed back.  The raw values of any length, the
 * Basic credentials as sent (base64 of "email:api_key") and the pair in
 * clear.  The Authorization header values contain one of these, so they
 * are masked with them.  Longest first, so that a short secret inside a
 * longer one leaves no part of the longer one readable.
 */
void
qs_scrub_secrets(const QsConn *conn, char *text)
{
	const char *secrets[5] = {NULL};
	int n = 0;

	if (conn->email != NULL && conn->api_key != NULL)
	{
		char *pair = psprintf("%s:%s", conn->email, conn->api_key);
		int len = strlen(pair);
		char *b64 = palloc(pg_b64_enc_len(len) + 1);
		int blen = pg_b64_encode(pair, len, b64, pg_b64_enc_len(len));

		b64[Max(blen, 0)] = '\0';
		secrets[n++] = b64;
		secrets[n++] = pair;
	}
	secrets[n++] = conn->token;
	secrets[n++] = conn->api_key;
	secrets[n++] = conn->email;
	for (int i = 0; i < n; i++)
		mask(text, secrets[i]);
}

/* printable ASCII only, cut to QS_UPSTREAM_TEXT_MAX characters */
char *
qs_printable(const char *s, size_t len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (size_t i = 0; i < len && buf.len < QS_UPSTREAM_TEXT_MAX; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		appendStringInfoChar(&buf, (c >= 0x20 && c < 0x7f) ? (char) c : '?');
	}
	if (len > (size_t) buf.len)
		appendStringInfoString(&buf, "...");
	return buf.data;
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
	doc = qsjson_parse(body, len, &perr);
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
	{
		text = pnstrdup(body, len);
		tlen = strlen(text);
	}
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

void
qs_report_failure(const QsConn *conn, const char *path,
				  const QsHttpResponse *resp)
{
	char *upstream;

	if (resp->transport != QS_TRANSPORT_OK)
	{
		int code;
		char *msg = pstrdup(resp->errmsg);

		qs_scrub_secrets(conn, msg);
		switch (resp->transport)
		{
			case QS_TRANSPORT_CONNECT:
				code = ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
				break;
			case QS_TRANSPORT_TLS:
			case QS_TRANSPORT_TLS_HANDSHAKE:
				code = ERRCODE_QS_TLS_FAILURE;
				break;
			case QS_TRANSPORT_TIMEOUT:
				code = ERRCODE_QS_TIMEOUT;
				break;
			case QS_TRANSPORT_TOO_LARGE:
				code = ERRCODE_QS_RESPONSE_TOO_LARGE;
				break;
			case QS_TRANSPORT_NO_MEMORY:
				code = ERRCODE_OUT_OF_MEMORY;
				break;
			default:
				code = ERRCODE_QS_TRANSFER_FAILURE;
				break;
		}
		ereport(ERROR, (errcode(code),
						errmsg("could not fetch \"%s\" from server \"%s\": %s",
							   path, conn->servername,
							   qs_http_transport_name(resp->transport)),
						errdetail_internal("%s", msg),
						resp->transport == QS_TRANSPORT_TOO_LARGE
							? errhint("Raise qstash.max_response_bytes if the "
									  "response is expected to be this large.")
						: resp->transport == QS_TRANSPORT_TIMEOUT
							? errhint("Raise qstash.timeout_ms or the server "
									  "option timeout_ms.")
							: 0));
	}

	if (resp->status == 429)
	{
		QsRateLimit rl;
		int code;
		TimestampTz reset;

		char *detail;

		qs_ratelimit_parse(resp, &rl);
		detail = qs_ratelimit_detail(&rl);
		qs_scrub_secrets(conn, detail);
		code = rl.kind == QS_RL_CHAT	? ERRCODE_QS_CHAT_RATE_LIMIT
			   : rl.kind == QS_RL_DAILY ? ERRCODE_QS_DAILY_RATE_LIMIT
										: ERRCODE_QS_BURST_RATE_LIMIT;
		ereport(
			ERROR,
			(errcode(code),
			 errmsg(
				 "%s rate limit of the Upstash API exceeded on server \"%s\"",
				 qs_ratelimit_kind_name(rl.kind), conn->servername),
			 errdetail_internal("%s", detail),
			 qs_ratelimit_reset_time(rl.reset, &reset)
				 ? errhint("Retry after %s.", qs_format_utc(reset))
			 : rl.kind == QS_RL_BURST
				 ? errhint("Retry in a moment; qstash.max_retries retries "
						   "burst limits automatically.")
				 : errhint("Retry later.")));
	}

	upstream = qs_upstream_text(conn, resp->body, resp->body_len);
	if (resp->status == 401)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the Upstash API rejected the credentials of the user "
						"mapping on server \"%s\"",
						conn->servername),
				 errdetail_internal("HTTP 401 for GET %s: %s", path, upstream),
				 errhint("Check the options email and api_key (or token) of "
						 "the user mapping.")));
	if (resp->status == 403)
		ereport(
			ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the Upstash API denied access to \"%s\" on server \"%s\"",
					path, conn->servername),
			 errdetail_internal("HTTP 403: %s", upstream)));
	if (resp->status >= 300 && resp->status < 400)
	{
		char *loc = qs_http_header(resp, "Location");

		if (loc)
			qs_scrub_secrets(conn, loc);
		ereport(ERROR, (errcode(ERRCODE_QS_HTTP_REDIRECT),
						errmsg("could not fetch \"%s\" from server \"%s\": "
							   "HTTP %ld redirect not followed",
							   path, conn->servername, resp->status),
						errdetail_internal("Location: %s",
										   loc ? qs_printable(loc, strlen(loc))
											   : "(none)"),
						errhint("Point the server option api_url or "
								"qstash_url at the final address.")));
	}
	if (resp->status >= 500)
		ereport(ERROR,
				(errcode(ERRCODE_QS_HTTP_SERVER_ERROR),
				 errmsg("could not fetch \"%s\" from server \"%s\": HTTP %ld",
						path, conn->servername, resp->status),
				 errdetail_internal("%s", upstream)));
	ereport(ERROR,
			(errcode(ERRCODE_QS_HTTP_CLIENT_ERROR),
			 errmsg("could not fetch \"%s\" from server \"%s\": HTTP %ld",
					path, conn->servername, resp->status),
			 errdetail_internal("%s", upstream)));
}
