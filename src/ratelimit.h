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
#include "http.h"

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

#endif /* QSTASH_RATELIMIT_H */
