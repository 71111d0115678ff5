/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		The endpoint catalog.  Adding an endpoint is adding an entry here
 *		(and its SQL function in the extension script).
 *
 * The users columns are the union of the fields of the original API page
 * and of the current OpenAPI spec (shared/reference), in the API's order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "catalog.h"

static const QsColumn users_columns[] = {
	{"id", "uuid", "id", QSC_TEXT, false},
	{"customer_id", "text", "customer_id", QSC_TEXT, false},
	{"region", "text", "region", QSC_TEXT, false},
	{"type", "text", "type", QSC_TEXT, false},
	{"state", "text", "state", QSC_TEXT, false},
	{"modifying_state", "text", "modifying_state", QSC_TEXT, false},
	{"active", "boolean", "active", QSC_BOOL, false},
	{"password", "text", "password", QSC_TEXT, true},
	{"token", "text", "token", QSC_TEXT, true},
	{"read_only_token", "text", "read_only_token", QSC_TEXT, true},
	{"read_only_password", "text", "read_only_password", QSC_TEXT, true},
	{"reserved_type", "text", "reserved_type", QSC_TEXT, false},
	{"reserved_price", "numeric", "reserved_price", QSC_NUMERIC, false},
	{"budget", "bigint", "budget", QSC_INT8, false},
	{"prod_pack_enabled", "boolean", "prod_pack_enabled", QSC_BOOL, false},
	{"prometheus_enabled", "boolean", "prometheus_enabled", QSC_BOOL_STRING,
	 false},
	{"enterprise", "jsonb", "enterprise", QSC_JSONB, false},
	{"max_message_size", "bigint", "max_message_size", QSC_INT8, false},
	{"max_requests_per_day", "bigint", "max_requests_per_day", QSC_INT8,
	 false},
	{"max_requests_per_day_hard", "bigint", "max_requests_per_day_hard",
	 QSC_INT8, false},
	{"max_requests_per_second", "bigint", "max_requests_per_second", QSC_INT8,
	 false},
	{"max_endpoints_per_topic", "bigint", "max_endpoints_per_topic", QSC_INT8,
	 false},
	{"max_topics", "bigint", "max_topics", QSC_INT8, false},
	{"max_schedules", "bigint", "max_schedules", QSC_INT8, false},
	{"max_queues", "bigint", "max_queues", QSC_INT8, false},
	{"max_dlq_size", "bigint", "max_dlq_size", QSC_INT8, false},
	{"max_dlq_retention_time_milis", "bigint", "max_dlq_retention_time_milis",
	 QSC_INT8, false},
	{"max_retries", "bigint", "max_retries", QSC_INT8, false},
	{"max_events_size", "bigint", "max_events_size", QSC_INT8, false},
	{"max_delay", "bigint", "max_delay", QSC_INT8, false},
	{"max_parallelism", "bigint", "max_parallelism", QSC_INT8, false},
	{"max_global_parallelism", "bigint", "max_global_parallelism", QSC_INT8,
	 false},
	{"max_bandwidth_per_second", "bigint", "max_bandwidth_per_second",
	 QSC_INT8, false},
	{"max_completion_tokens_per_day", "bigint",
	 "max_completion_tokens_per_day", QSC_INT8, false},
	{"max_completion_tokens_per_minute", "bigint",
	 "max_completion_tokens_per_minute", QSC_INT8, false},
	{"max_completions_per_day", "bigint", "max_completions_per_day", QSC_INT8,
	 false},
	{"max_completions_per_minute", "bigint", "max_completions_per_minute",
	 QSC_INT8, false},
	{"retention", "bigint", "retention", QSC_INT8, false},
	{"timeout", "bigint", "timeout", QSC_INT8, false},
	{"rate_limit", "bigint", "rate_limit", QSC_INT8, false},
	{"created_by", "text", "created_by", QSC_TEXT, false},
	{"creation_time", "timestamptz", "creation_time", QSC_EPOCH_S, false},
	{"last_plan_upgrade_time", "timestamptz", "last_plan_upgrade_time",
	 QSC_EPOCH_S, false},
	{"deletion_time", "timestamptz", "deletion_time", QSC_EPOCH_S_ZERO_NULL,
	 false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

/* GET /v2/qstash/stats/{id}: long format, one row per data point */
static const QsColumn stats_columns[] = {
	{"qstash_id", "uuid", NULL, QSC_PARAM, false},
	{"period", "text", NULL, QSC_PARAM, false},
	{"metric", "text", NULL, QSC_METRIC, false},
	{"series", "text", NULL, QSC_SERIES, false},
	{"ts", "timestamptz", "x", QSC_GOTIME, false},
	{"value", "numeric", NULL, QSC_POINT_VALUE, false},
};

/* the same response, one row per instance */
static const QsColumn stats_summary_columns[] = {
	{"qstash_id", "uuid", NULL, QSC_PARAM, false},
	{"period", "text", NULL, QSC_PARAM, false},
	{"dlq_message_count", "bigint", "dlq_message_count", QSC_INT8, false},
	{"total_monthly_billing", "numeric", "total_monthly_billing", QSC_NUMERIC,
	 false},
	{"days", "text[]", "days", QSC_TEXT_ARRAY, false},
};

static const QsColumn ipv4_columns[] = {
	{"cidr", "cidr", NULL, QSC_ELEMENT, false},
};

#define NCOLS(a) ((int) lengthof(a))

static const QsEndpoint endpoints[] = {
	{
		.name = "users",
		.api = QS_API_DEVELOPER,
		.path = "/v2/qstash/users",
		.path_by_id = "/v2/qstash/user/%s",
		.shape = QS_SHAPE_OBJECTS,
		.columns = users_columns,
		.ncolumns = NCOLS(users_columns),
		.rows = 2,
		.description = "QStash instances of the account, one per region",
	},
	{
		.name = "stats",
		.api = QS_API_DEVELOPER,
		.path = "/v2/qstash/stats/%s",
		.per_instance = true,
		.takes_period = true,
		.shape = QS_SHAPE_STATS,
		.columns = stats_columns,
		.ncolumns = NCOLS(stats_columns),
		.rows = 2 * 600,
		.description = "usage statistics, one row per data point",
	},
	{
		.name = "stats_summary",
		.api = QS_API_DEVELOPER,
		.path = "/v2/qstash/stats/%s",
		.per_instance = true,
		.takes_period = true,
		.shape = QS_SHAPE_OBJECTS,
		.columns = stats_summary_columns,
		.ncolumns = NCOLS(stats_summary_columns),
		.rows = 2,
		.description = "usage summary, one row per instance",
	},
	{
		.name = "ipv4",
		.api = QS_API_DEVELOPER,
		.path = "/v2/qstash/ipv4",
		.shape = QS_SHAPE_SCALARS,
		.columns = ipv4_columns,
		.ncolumns = NCOLS(ipv4_columns),
		.rows = 10,
		.description = "address blocks QStash sends requests from",
	},
};

int
qs_endpoint_count(void)
{
	return lengthof(endpoints);
}

const QsEndpoint *
qs_endpoint_at(int i)
{
	Assert(i >= 0 && i < qs_endpoint_count());
	return &endpoints[i];
}

const QsEndpoint *
qs_endpoint_lookup(const char *name)
{
	for (int i = 0; i < qs_endpoint_count(); i++)
	{
		if (strcmp(endpoints[i].name, name) == 0)
			return &endpoints[i];
	}
	return NULL;
}

/* "users, ipv4": for hints */
char *
qs_endpoint_names(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < qs_endpoint_count(); i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", endpoints[i].name);
	return buf.data;
}

const QsColumn *
qs_endpoint_column(const QsEndpoint *ep, const char *name)
{
	for (int i = 0; i < ep->ncolumns; i++)
	{
		if (strcmp(ep->columns[i].name, name) == 0)
			return &ep->columns[i];
	}
	return NULL;
}

char *
qs_endpoint_column_names(const QsEndpoint *ep)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < ep->ncolumns; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", ep->columns[i].name);
	return buf.data;
}

static const char *const periods[] = {"1h", "3h", "12h", "1d",
									  "3d", "7d", "30d"};

/* A period the stats endpoint accepts, or ERROR before any request. */
void
qs_check_period(const char *period)
{
	for (int i = 0; i < lengthof(periods); i++)
	{
		if (strcmp(periods[i], period) == 0)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid period \"%s\"", period),
			 errhint("Valid periods are: 1h, 3h, 12h, 1d, 3d, 7d, 30d.")));
}
