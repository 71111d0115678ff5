/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		HTTP 429: which limit was hit, and when it resets.
 *
 * Order as in the official SDKs: chat (x-ratelimit-limit-requests), then
 * daily (RateLimit-Limit), else burst, also when no known header is there.
 * Header names match case-insensitively; an empty value counts as absent.
 * The reset is a "unix timestamp" of unstated unit: values >= 1e11 are
 * read as milliseconds, smaller ones as seconds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "printable.h"
#include "ratelimit.h"

/*
 * A rate-limit header as it may be shown: printable ASCII, cut (the value
 * goes into DETAIL, which must convert to any client encoding).
 */
static char *
header_value(const QsHttpResponse *resp, const char *name)
{
	char *v = qs_http_header(resp, name);

	return v ? qs_printable(v, strlen(v)) : NULL;
}

void
qs_ratelimit_parse(const QsHttpResponse *resp, QsRateLimit *rl)
{
	memset(rl, 0, sizeof(*rl));
	if ((rl->limit = header_value(resp, "x-ratelimit-limit-requests")) != NULL)
	{
		rl->kind = QS_RL_CHAT;
		rl->remaining = header_value(resp, "x-ratelimit-remaining-requests");
		rl->reset = header_value(resp, "x-ratelimit-reset-requests");
		rl->limit_tokens = header_value(resp, "x-ratelimit-limit-tokens");
		rl->remaining_tokens =
			header_value(resp, "x-ratelimit-remaining-tokens");
		rl->reset_tokens = header_value(resp, "x-ratelimit-reset-tokens");
	}
	else if ((rl->limit = header_value(resp, "RateLimit-Limit")) != NULL)
	{
		rl->kind = QS_RL_DAILY;
		rl->remaining = header_value(resp, "RateLimit-Remaining");
		rl->reset = header_value(resp, "RateLimit-Reset");
	}
	else
	{
		rl->kind = QS_RL_BURST;
		rl->limit = header_value(resp, "Burst-RateLimit-Limit");
		rl->remaining = header_value(resp, "Burst-RateLimit-Remaining");
		rl->reset = header_value(resp, "Burst-RateLimit-Reset");
	}
}

const char *
qs_ratelimit_kind_name(QsRateLimitKind kind)
{
	switch (kind)
	{
		case QS_RL_BURST:
			return "burst";
		case QS_RL_DAILY:
			return "daily";
		case QS_RL_CHAT:
			return "chat";
	}
	return "burst";
}

bool
qs_ratelimit_reset_time(const char *raw, TimestampTz *out)
{
	char *end;
	long long v;
	int64 usecs;

	if (raw == NULL)
		return false;
	errno = 0;
	v = strtoll(raw, &end, 10);
	/* at most 9999-12-31 23:59:59.999 in milliseconds: no overflow below */
	if (errno != 0 || end == raw || *end != '\0' || v < 0 ||
		v > 253402300799999LL)
		return false;
	if (v >= 100000000000LL)
		usecs = (int64) v * 1000; /* milliseconds */
	else
		usecs = (int64) v * 1000000;
	*out = usecs - ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
					SECS_PER_DAY * USECS_PER_SEC);
	return true;
}

/* "2026-11-18 11:06:40+00", with milliseconds when there are any */
char *
qs_format_utc(TimestampTz t)
{
	pg_time_t secs = timestamptz_to_time_t(t);
	int usec = (int) (t - time_t_to_timestamptz(secs));
	struct pg_tm *tm;
	char buf[64];

	/* timestamptz_to_time_t truncates toward zero: floor instead */
	if (usec < 0)
	{
		usec += 1000000;
		secs -= 1;
	}
	tm = pg_gmtime(&secs);

	if (tm == NULL)
		return pstrdup("(invalid time)");
	pg_strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", tm);
	if (usec != 0)
		return psprintf("%s.%03d+00", buf, usec / 1000);
	return psprintf("%s+00", buf);
}

static void
append_reset(StringInfo buf, const char *label, const char *raw)
{
	TimestampTz t;

	if (qs_ratelimit_reset_time(raw, &t))
		appendStringInfo(buf, "%s at %s", label, qs_format_utc(t));
	else if (raw != NULL)
		appendStringInfo(buf, "%s time unknown (header value \"%s\")", label,
						 raw);
	else
		appendStringInfo(buf, "%s time unknown", label);
}

#define OR_UNKNOWN(s) ((s) ? (s) : "unknown")

char *
qs_ratelimit_detail(const QsRateLimit *rl)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (rl->kind == QS_RL_CHAT)
	{
		appendStringInfo(&buf, "Requests: limit %s, remaining %s, ",
						 OR_UNKNOWN(rl->limit), OR_UNKNOWN(rl->remaining));
		append_reset(&buf, "reset", rl->reset);
		appendStringInfo(&buf, ". Tokens: limit %s, remaining %s, ",
						 OR_UNKNOWN(rl->limit_tokens),
						 OR_UNKNOWN(rl->remaining_tokens));
		append_reset(&buf, "reset", rl->reset_tokens);
		appendStringInfoChar(&buf, '.');
	}
	else
	{
		appendStringInfo(&buf, "Limit %s, remaining %s, ",
						 OR_UNKNOWN(rl->limit), OR_UNKNOWN(rl->remaining));
		append_reset(&buf, "reset", rl->reset);
		appendStringInfoChar(&buf, '.');
	}
	return buf.data;
}

const QsRateLimitFamily qs_ratelimit_families[QS_RL_FAMILIES] = {
	{"burst", "Burst-RateLimit-Limit", "Burst-RateLimit-Remaining",
	 "Burst-RateLimit-Reset", false},
	{"daily", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	 true},
	{"chat_requests", "x-ratelimit-limit-requests",
	 "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", true},
	{"chat_tokens", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
	 "x-ratelimit-reset-tokens", false}};

static MemoryContext observed_cxt = NULL;
static List *observed = NIL;

static QsObservedLimit *
find_observed(Oid serverid, QsApi api, const char *kind)
{
	ListCell *lc;

	foreach (lc, observed)
	{
		QsObservedLimit *e = (QsObservedLimit *) lfirst(lc);

		if (e->serverid == serverid && e->api == api &&
			strcmp(e->kind, kind) == 0)
			return e;
	}
	return NULL;
}

static void
remember(Oid serverid, QsApi api, const char *kind, char *limit,
		 char *remaining, char *reset)
{
	MemoryContext old;
	QsObservedLimit *o;

	if (observed_cxt == NULL)
		observed_cxt = AllocSetContextCreate(
			TopMemoryContext, "qstash rate limits", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(observed_cxt);
	o = find_observed(serverid, api, kind);
	if (o == NULL)
	{
		o = palloc0(sizeof(QsObservedLimit));
		o->serverid = serverid;
		o->api = api;
		o->kind = kind;
		observed = lappend(observed, o);
	}
	else
	{
		/* replace the figures of the last observation */
		if (o->limit)
			pfree(o->limit);
		if (o->remaining)
			pfree(o->remaining);
		if (o->reset)
			pfree(o->reset);
	}
	o->limit = limit ? pstrdup(limit) : NULL;
	o->remaining = remaining ? pstrdup(remaining) : NULL;
	o->reset = reset ? pstrdup(reset) : NULL;
	o->observed_at = GetCurrentTimestamp();
	MemoryContextSwitchTo(old);
}

/*
 * What resp says of the limits of family f, whatever its status: QStash
 * sends Burst-RateLimit-* on successful responses too.  A successful
 * response without the headers of a limit that refuses every request until
 * its reset (daily, chat requests) proves that limit is not exhausted.
 */
void
qs_ratelimit_observation(const QsHttpResponse *resp,
						 const QsRateLimitFamily *f, QsObservation *obs)
{
	obs->limit = qs_http_header(resp, f->limit);
	obs->remaining = qs_http_header(resp, f->remaining);
	obs->reset = qs_http_header(resp, f->reset);
	if (obs->limit != NULL || obs->remaining != NULL || obs->reset != NULL)
		obs->what = QS_OBSERVED_FIGURES;
	else if (f->until_reset && resp->status >= 200 && resp->status < 300)
		obs->what = QS_OBSERVED_NOT_EXHAUSTED;
	else
		obs->what = QS_OBSERVED_NOTHING;
}

/* Is a recorded remaining (raw, NULL or "" when unknown) the exhausted 0? */
bool
qs_ratelimit_exhausted(const char *remaining)
{
	return remaining != NULL && strcmp(remaining, "0") == 0;
}

/* Record what a response says of every family, for the view. */
void
qs_ratelimit_observe(Oid serverid, QsApi api, const QsHttpResponse *resp)
{
	for (int i = 0; i < QS_RL_FAMILIES; i++)
	{
		const QsRateLimitFamily *f = &qs_ratelimit_families[i];
		QsObservation obs;
		QsObservedLimit *o;

		qs_ratelimit_observation(resp, f, &obs);
		if (obs.what == QS_OBSERVED_FIGURES)
			remember(serverid, api, f->kind, obs.limit, obs.remaining,
					 obs.reset);
		else if (obs.what == QS_OBSERVED_NOT_EXHAUSTED &&
				 (o = find_observed(serverid, api, f->kind)) != NULL &&
				 qs_ratelimit_exhausted(o->remaining))
		{
			pfree(o->remaining);
			o->remaining = NULL;
			o->observed_at = GetCurrentTimestamp();
		}
	}
}

List *
qs_ratelimit_observed(void)
{
	return observed;
}
