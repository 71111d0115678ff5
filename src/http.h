/*-------------------------------------------------------------------------
 *
 * http.h
 *		The one HTTP client of pg_qstash (libcurl, one keep-alive handle per
 *		backend).
 *
 * qs_http_get() never raises an error for a failed transfer: it records
 * what happened in the response and returns, with every libcurl object
 * released.  The only errors it raises are PostgreSQL's own interrupts
 * (query cancel, statement_timeout), and it releases everything before
 * they propagate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_HTTP_H
#define QSTASH_HTTP_H

typedef enum QsTransport
{
	QS_TRANSPORT_OK = 0,		/* a complete HTTP response was received */
	QS_TRANSPORT_CONNECT,		/* DNS, refused, unreachable */
	QS_TRANSPORT_TLS,			/* certificate verification: not retried */
	QS_TRANSPORT_TLS_HANDSHAKE, /* handshake broken off: retried */
	QS_TRANSPORT_TIMEOUT,		/* connect or total timeout */
	QS_TRANSPORT_TOO_LARGE,		/* body over the size cap */
	QS_TRANSPORT_NO_MEMORY,		/* out of memory while receiving */
	QS_TRANSPORT_OTHER,			/* reset mid-body, protocol error, ... */
	QS_TRANSPORT_SETUP /* the request could not be built: not retried */
} QsTransport;

typedef struct QsHttpRequest
{
	const char *url;
	const char *username; /* HTTP Basic, or NULL */
	const char *password;
	const char *bearer; /* Bearer token, or NULL */
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_bytes;	 /* cap on the body */
	const char *ca_file; /* NULL or "" for the system store */
} QsHttpRequest;

typedef struct QsHttpResponse
{
	QsTransport transport;
	char errmsg[256]; /* libcurl's text for a transport failure */
	long status;	  /* HTTP status, 0 if none was received */
	char *body;		  /* NUL-terminated, palloc'd */
	size_t body_len;
	char *headers; /* raw header block of the final response */
	size_t headers_len;
	long new_connections; /* connections opened for this request */
	double elapsed_ms;
} QsHttpResponse;

extern void qs_http_init(void);
extern void qs_http_get(const QsHttpRequest *req, QsHttpResponse *resp);
extern char *qs_http_header(const QsHttpResponse *resp, const char *name);
extern const char *qs_http_transport_name(QsTransport t);

#endif /* QSTASH_HTTP_H */
