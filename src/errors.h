/*-------------------------------------------------------------------------
 *
 * errors.h
 *		SQLSTATEs of pg_qstash and the mapping of failed requests to errors.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_ERRORS_H
#define QSTASH_ERRORS_H

#include "compat.h"
#include "http.h"
#include "conn.h"

/* class QS: QStash / HTTP failures (see README, "Errors") */
#define ERRCODE_QS_BURST_RATE_LIMIT MAKE_SQLSTATE('Q', 'S', '0', '0', '1')
#define ERRCODE_QS_DAILY_RATE_LIMIT MAKE_SQLSTATE('Q', 'S', '0', '0', '2')
#define ERRCODE_QS_CHAT_RATE_LIMIT MAKE_SQLSTATE('Q', 'S', '0', '0', '3')
#define ERRCODE_QS_HTTP_CLIENT_ERROR MAKE_SQLSTATE('Q', 'S', '0', '1', '0')
#define ERRCODE_QS_HTTP_REDIRECT MAKE_SQLSTATE('Q', 'S', '0', '1', '1')
#define ERRCODE_QS_HTTP_SERVER_ERROR MAKE_SQLSTATE('Q', 'S', '0', '2', '0')
#define ERRCODE_QS_TLS_FAILURE MAKE_SQLSTATE('Q', 'S', '0', '3', '1')
#define ERRCODE_QS_TIMEOUT MAKE_SQLSTATE('Q', 'S', '0', '3', '2')
#define ERRCODE_QS_TRANSFER_FAILURE MAKE_SQLSTATE('Q', 'S', '0', '3', '3')
#define ERRCODE_QS_RESPONSE_TOO_LARGE MAKE_SQLSTATE('Q', 'S', '0', '4', '0')
#define ERRCODE_QS_MALFORMED_RESPONSE MAKE_SQLSTATE('Q', 'S', '0', '4', '1')
#define ERRCODE_QS_UNEXPECTED_RESPONSE MAKE_SQLSTATE('Q', 'S', '0', '4', '2')

/* Raise the error for a response that is not a usable 2xx.  Never returns. */
QS_NORETURN extern void qs_report_failure(const QsConn *conn, QsApi api,
										  const char *path,
										  const QsHttpResponse *resp);

/* A response of the wrong JSON shape (QS042); detail is a full sentence. */
QS_NORETURN extern void qs_unexpected_json(const char *endpoint,
										   const char *detail);

/* The upstream error text of a body: printable, cut, secrets removed. */
extern char *qs_upstream_text(const QsConn *conn, const char *body,
							  size_t len);

/* Remove the connection's secrets from a text (in place). */
extern void qs_scrub_secrets(const QsConn *conn, char *text);
extern char *qs_shown_path(const QsConn *conn, const char *path);

#endif /* QSTASH_ERRORS_H */
