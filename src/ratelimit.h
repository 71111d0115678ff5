/*-------------------------------------------------------------------------
 *
 * ratelimit.h
 *		Classification of HTTP 429 responses, as the official SDKs do it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_RATELIMIT_H
#define QSTASH_RATELIMIT_H

#include "datatype/timestamp.h"
#include "catalog.h"
#include "http.h"
#include "nodes/pg_list.h"

typedef enum QsRateLimitKind
{
	QS_RL_BURST, /* Burst-RateLimit-*, or no known header */
	QS_RL_DAILY, /* RateLimit-* */
	QS_RL_CHAT	 /* x-ratelimit-* */
} QsRateLimitKind;

typedef struct QsRateLimit
{
	QsRateLimitKind kind;
	char *limit; /* raw header values, NULL when absent */
	char *remaining;
	char *reset;
	char *limit_tokens; /* chat only */
	char *remaining_tokens;
	char *reset_tokens;
} QsRateLimit;

extern void qs_ratelimit_parse(const QsHttpResponse *resp, QsRateLimit *rl);
extern bool qs_ratelimit_reset_time(const char *raw, TimestampTz *out);
extern const char *qs_ratelimit_kind_name(QsRateLimitKind kind);
extern char *qs_ratelimit_detail(const QsRateLimit *rl);
extern char *qs_format_utc(TimestampTz t);

/* The header families a response may carry, one per kind of the view. */
typedef struct QsRateLimitFamily
{
	const char *kind; /* burst, daily, chat_requests, chat_tokens */
	const char *limit;
	const char *remaining;
	const char *reset;
	bool until_reset; /* exhausted, it refuses every request until reset */
} QsRateLimitFamily;

#define QS_RL_FAMILIES 4
extern const QsRateLimitFamily qs_ratelimit_families[QS_RL_FAMILIES];

/*
 * What one response says of one family of limits: its figures, or (a
 * success without them, for a limit that refuses every request until its
 * reset) that the limit is not exhausted, or nothing.  The one rule both
 * the backend's record (the view) and the shared one apply.
 */
typedef enum QsObservationKind
{
	QS_OBSERVED_NOTHING,
	QS_OBSERVED_FIGURES, /* limit, remaining, reset: raw, NULL if absent */
	QS_OBSERVED_NOT_EXHAUSTED /* a remaining 0 recorded before is unknown */
} QsObservationKind;

typedef struct QsObservation
{
	QsObservationKind what;
	char *limit;
	char *remaining;
	char *reset;
} QsObservation;

extern void qs_ratelimit_observation(const QsHttpResponse *resp,
									 const QsRateLimitFamily *f,
									 QsObservation *obs);
extern bool qs_ratelimit_exhausted(const char *remaining);

/*
 * The last rate-limit figures seen per (server, API, kind), for the view.
 * The developer API and the QStash API have limits of their own.
 */
extern void qs_ratelimit_observe(Oid serverid, QsApi api,
								 const QsHttpResponse *resp);

typedef struct QsObservedLimit
{
	Oid serverid;
	QsApi api;
	const char *kind; /* burst, daily, chat_requests, chat_tokens */
	char *limit;	  /* raw header values, or NULL */
	char *remaining;
	char *reset;
	TimestampTz observed_at;
} QsObservedLimit;

extern List *qs_ratelimit_observed(void);

#endif /* QSTASH_RATELIMIT_H */
