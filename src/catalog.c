/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		The endpoint catalog.  Adding an endpoint is adding an entry here
 *		(path, access, shape, columns, filters), its SQL function in
 *		src/sql/functions.sql and that function's line in functions.c
 *		(QS_ENDPOINT_FUNCTION); the requests, EXPLAIN and IMPORT FOREIGN
 *		SCHEMA follow from the entry.
 *
 * The users columns are the union of the fields of QStashUser in the
 * developer API's OpenAPI spec (upstash/docs, devops/developer-api/
 * openapi.yml) and of those its earlier revisions documented, which the API
 * may still send (password, read_only_password, the completion limits,
 * retention, rate_limit): identity and state, credentials, plan, limits,
 * then times.  Keys no column claims go to "extra".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "catalog.h"
#include "printable.h"

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
	 QSC_EPOCH_S_ZERO_NULL, false},
	{"deletion_time", "timestamptz", "deletion_time", QSC_EPOCH_S_ZERO_NULL,
	 false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

/* GET /v2/qstash/stats/{id}: long format, one row per data point */
static const QsColumn stats_columns[] = {
	{"qstash_id", "uuid", NULL, QSC_INSTANCE, false},
	{"period", "text", NULL, QSC_PERIOD, false},
	{"metric", "text", NULL, QSC_METRIC, false},
	{"series", "text", NULL, QSC_SERIES, false},
	{"ts", "timestamptz", "x", QSC_GOTIME, false},
	{"value", "numeric", NULL, QSC_POINT_VALUE, false},
};

/* the same response, one row per instance */
static const QsColumn stats_summary_columns[] = {
	{"qstash_id", "uuid", NULL, QSC_INSTANCE, false},
	{"period", "text", NULL, QSC_PERIOD, false},
	{"dlq_message_count", "bigint", "dlq_message_count", QSC_INT8, false},
	{"total_monthly_billing", "numeric", "total_monthly_billing", QSC_NUMERIC,
	 false},
	{"days", "text[]", "days", QSC_TEXT_ARRAY, false},
};

static const QsColumn ipv4_columns[] = {
	{"cidr", "cidr", NULL, QSC_ELEMENT, false},
};

/*
 * QStash REST API.  Columns are the JSON keys in snake_case; unix-ms times
 * are timestamptz; bodies are bytea plus a text column when UTF-8; header
 * maps are jsonb as sent.  Alternative spellings the SDKs read are in
 * alt_key.
 */

/*
 * Columns the message log and the dead letter queue share, in the same
 * order: where a message goes, and what it is labelled and limited by.
 */
#define MESSAGE_ROUTE_COLUMNS                                                 \
	{"url", "text", "url", QSC_TEXT, false},                                  \
		{"topic_name", "text", "topicName", QSC_TEXT, false},                 \
		{"endpoint_name", "text", "endpointName", QSC_TEXT, false},           \
		{"schedule_id", "text", "scheduleId", QSC_TEXT, false},               \
		{"queue_name", "text", "queueName", QSC_TEXT, false},                 \
		{"method", "text", "method", QSC_TEXT, false},                        \
	{                                                                         \
		"header", "jsonb", "header", QSC_JSONB, false                         \
	}
#define MESSAGE_TAIL_COLUMNS                                                  \
	{"label", "text", "label", QSC_TEXT, false},                              \
		{"labels", "text[]", "labels", QSC_TEXT_ARRAY, false},                \
		{"flow_control_key", "text", "flowControlKey", QSC_TEXT, false},      \
		{"parallelism", "bigint", "parallelism", QSC_INT8, false},            \
		{"rate", "bigint", "rate", QSC_INT8, false},                          \
		{"period", "bigint", "period", QSC_INT8, false},                      \
	{                                                                         \
		"extra", "jsonb", NULL, QSC_EXTRA, false                              \
	}

/*
 * The filters on where a message goes, of the message log (one value
 * each) and of the dead letter queue (several values each, OR-ed).
 */
#define ROUTE_FILTERS(multi)                                                  \
	{"url", QSF_QUERY, "url", (multi), true},                                 \
		{"topic_name", QSF_QUERY, "topicName", (multi), true},                \
		{"queue_name", QSF_QUERY, "queueName", (multi), true},                \
	{                                                                         \
		"schedule_id", QSF_QUERY, "scheduleId", (multi), true                 \
	}

/* GET /v2/events: one row per log entry (spec: LogEntry) */
static const QsColumn logs_columns[] = {
	{"time", "timestamptz", "time", QSC_EPOCH_MS, false},
	{"message_id", "text", "messageId", QSC_TEXT, false},
	{"state", "text", "state", QSC_TEXT, false},
	{"error", "text", "error", QSC_TEXT, false},
	MESSAGE_ROUTE_COLUMNS,
	{"body", "bytea", "body", QSC_BODY, false},
	{"body_text", "text", "body", QSC_BODY_TEXT, false},
	{"next_delivery_time", "timestamptz", "nextDeliveryTime", QSC_EPOCH_MS,
	 false},
	{"response_status", "integer", "responseStatus", QSC_INT8, false},
	{"response_headers", "jsonb", "responseHeaders", QSC_JSONB, false,
	 "responseHeader"},
	{"response_body", "bytea", "responseBody", QSC_BODY, false},
	{"response_body_text", "text", "responseBody", QSC_BODY_TEXT, false},
	{"timeout", "bigint", "timeout", QSC_INT8, false},
	{"max_retries", "bigint", "maxRetries", QSC_INT8, false},
	{"retry_delay_expression", "text", "retryDelayExpression", QSC_TEXT, false,
	 "retryDelayExpr"},
	{"callback", "text", "callback", QSC_TEXT, false},
	{"callback_headers", "jsonb", "callbackHeaders", QSC_JSONB, false},
	{"failure_callback", "text", "failureCallback", QSC_TEXT, false},
	{"failure_callback_headers", "jsonb", "failureCallbackHeaders", QSC_JSONB,
	 false},
	MESSAGE_TAIL_COLUMNS,
};

/*
 * The states the log filter takes (the spec's list, and FAILED, which its
 * table describes).  state is exact: IN_PROGRESS, the API's filter-only
 * alias of ACTIVE, RETRY and ERROR, is a state no row carries, so state =
 * 'IN_PROGRESS' keeps no row in SQL whatever the API returns.
 */
static const char *const log_states[] = {
	"CREATED",	   "ACTIVE",	"RETRY",  "ERROR",
	"IN_PROGRESS", "DELIVERED", "FAILED", "CANCEL_REQUESTED",
	"CANCELLED",   NULL};

static const QsFilter logs_filters[] = {
	{"state", QSF_QUERY, "state", false, true, log_states},
	{"message_id", QSF_QUERY, "messageId", false, true},
	ROUTE_FILTERS(false),
	{"label", QSF_QUERY, "label", true, false},
	{"labels", QSF_ELEMENT, "label", true, true},
	{"time", QSF_TIME},
};

/* GET /v2/dlq: one row per message in the dead letter queue */
static const QsColumn dlq_columns[] = {
	{"dlq_id", "text", "dlqId", QSC_TEXT, false},
	{"message_id", "text", "messageId", QSC_TEXT, false},
	{"created_at", "timestamptz", "createdAt", QSC_EPOCH_MS, false},
	MESSAGE_ROUTE_COLUMNS,
	{"body", "bytea", "bodyBase64", QSC_BODY, false, "body"},
	{"body_text", "text", "bodyBase64", QSC_BODY_TEXT, false, "body"},
	{"not_before", "timestamptz", "notBefore", QSC_EPOCH_MS, false},
	{"response_status", "integer", "responseStatus", QSC_INT8, false},
	{"response_header", "jsonb", "responseHeader", QSC_JSONB, false,
	 "responseHeaders"},
	{"response_body", "bytea", "responseBodyBase64", QSC_BODY, false,
	 "responseBody"},
	{"response_body_text", "text", "responseBodyBase64", QSC_BODY_TEXT, false,
	 "responseBody"},
	{"max_retries", "bigint", "maxRetries", QSC_INT8, false},
	{"retry_delay_expression", "text", "retryDelayExpression", QSC_TEXT, false,
	 "retryDelayExpr"},
	{"callback", "text", "callback", QSC_TEXT, false},
	{"callback_header", "jsonb", "callbackHeader", QSC_JSONB, false},
	{"failure_callback", "text", "failureCallback", QSC_TEXT, false},
	{"failure_callback_header", "jsonb", "failureCallbackHeader", QSC_JSONB,
	 false},
	{"caller_ip", "text", "callerIP", QSC_TEXT, false, "callerIp"},
	MESSAGE_TAIL_COLUMNS,
};

/* dlqIds makes the API ignore the other filters: not exact */
static const QsFilter dlq_filters[] = {
	{"message_id", QSF_QUERY, "messageId", false, true},
	ROUTE_FILTERS(true),
	{"label", QSF_QUERY, "label", true, false},
	{"response_status", QSF_QUERY, "responseStatus", true, true},
	{"dlq_id", QSF_QUERY, "dlqIds", true, false},
	{"caller_ip", QSF_QUERY, "callerIp", true, true},
	{"labels", QSF_ELEMENT, "label", true, true},
	{"created_at", QSF_TIME},
};

/* GET /v2/schedules (spec: Schedule, plus the keys the SDKs read) */
static const QsColumn schedules_columns[] = {
	{"schedule_id", "text", "scheduleId", QSC_TEXT, false},
	{"cron", "text", "cron", QSC_TEXT, false},
	{"destination", "text", "destination", QSC_TEXT, false},
	{"method", "text", "method", QSC_TEXT, false},
	{"is_paused", "boolean", "isPaused", QSC_BOOL, false},
	{"created_at", "timestamptz", "createdAt", QSC_EPOCH_MS, false},
	{"last_schedule_time", "timestamptz", "lastScheduleTime", QSC_EPOCH_MS,
	 false},
	{"next_schedule_time", "timestamptz", "nextScheduleTime", QSC_EPOCH_MS,
	 false},
	{"last_schedule_states", "jsonb", "lastScheduleStates", QSC_JSONB, false},
	{"header", "jsonb", "header", QSC_JSONB, false},
	{"body", "bytea", "bodyBase64", QSC_BODY, false, "body"},
	{"body_text", "text", "bodyBase64", QSC_BODY_TEXT, false, "body"},
	{"retries", "bigint", "retries", QSC_INT8, false},
	{"delay", "bigint", "delay", QSC_INT8, false},
	{"timeout", "bigint", "timeout", QSC_INT8, false},
	{"retry_delay_expression", "text", "retryDelayExpression", QSC_TEXT,
	 false},
	{"callback", "text", "callback", QSC_TEXT, false},
	{"callback_header", "jsonb", "callbackHeader", QSC_JSONB, false},
	{"failure_callback", "text", "failureCallback", QSC_TEXT, false},
	{"failure_callback_header", "jsonb", "failureCallbackHeader", QSC_JSONB,
	 false},
	{"caller_ip", "text", "callerIp", QSC_TEXT, false, "callerIP"},
	{"queue_name", "text", "queueName", QSC_TEXT, false},
	{"flow_control_key", "text", "flowControlKey", QSC_TEXT, false},
	{"parallelism", "bigint", "parallelism", QSC_INT8, false},
	{"rate", "bigint", "rate", QSC_INT8, false},
	{"period", "bigint", "period", QSC_INT8, false},
	{"label", "text", "label", QSC_TEXT, false},
	{"labels", "text[]", "labels", QSC_TEXT_ARRAY, false},
	{"error", "text", "error", QSC_TEXT, false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

static const QsFilter schedules_filters[] = {
	{"schedule_id", QSF_PATH_ID},
};

/* GET /v2/queues (spec: Queue) */
static const QsColumn queues_columns[] = {
	{"name", "text", "name", QSC_TEXT, false},
	{"created_at", "timestamptz", "createdAt", QSC_EPOCH_MS, false},
	{"updated_at", "timestamptz", "updatedAt", QSC_EPOCH_MS, false},
	{"parallelism", "bigint", "parallelism", QSC_INT8, false},
	{"paused", "boolean", "paused", QSC_BOOL, false},
	{"lag", "bigint", "lag", QSC_INT8, false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

static const QsFilter name_filters[] = {
	{"name", QSF_PATH_ID},
};

/* GET /v2/topics (spec: URLGroup) */
static const QsColumn url_groups_columns[] = {
	{"name", "text", "name", QSC_TEXT, false},
	{"created_at", "timestamptz", "createdAt", QSC_EPOCH_MS, false},
	{"updated_at", "timestamptz", "updatedAt", QSC_EPOCH_MS, false},
	{"endpoints", "jsonb", "endpoints", QSC_JSONB, false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

/* GET /v2/flowControl (spec: FlowControlKey) */
static const QsColumn flow_control_columns[] = {
	{"flow_control_key", "text", "flowControlKey", QSC_TEXT, false},
	{"wait_list_size", "bigint", "waitListSize", QSC_INT8, false},
	{"parallelism_max", "bigint", "parallelismMax", QSC_INT8, false},
	{"parallelism_count", "bigint", "parallelismCount", QSC_INT8, false},
	{"rate_max", "bigint", "rateMax", QSC_INT8, false},
	{"rate_count", "bigint", "rateCount", QSC_INT8, false},
	{"rate_period", "bigint", "ratePeriod", QSC_INT8, false},
	{"rate_period_start", "timestamptz", "ratePeriodStart",
	 QSC_EPOCH_S_ZERO_NULL, false},
	{"is_pinned_parallelism", "boolean", "isPinnedParallelism", QSC_BOOL,
	 false},
	{"is_pinned_rate", "boolean", "isPinnedRate", QSC_BOOL, false},
	{"is_paused", "boolean", "isPaused", QSC_BOOL, false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

static const QsFilter flow_control_filters[] = {
	{"flow_control_key", QSF_PATH_ID},
};

/* GET /v2/globalParallelism: one row */
static const QsColumn global_parallelism_columns[] = {
	{"parallelism_max", "bigint", "parallelismMax", QSC_INT8, false},
	{"parallelism_count", "bigint", "parallelismCount", QSC_INT8, false},
	{"extra", "jsonb", NULL, QSC_EXTRA, false},
};

static const QsFilter users_filters[] = {
	{"id", QSF_PATH_ID},
};

static const QsFilter stats_filters[] = {
	{"qstash_id", QSF_INSTANCE},
	{"period", QSF_PERIOD},
};

#define NCOLS(a) ((int) lengthof(a))

#define COLUMNS(c) .columns = (c), .ncolumns = NCOLS(c)
#define FILTERS(f) .filters = (f), .nfilters = NCOLS(f)

/* A REST API listing paged by cursor, its rows under key (or alt). */
#define PAGED_LIST(n, p, key, alt, cols, filt, nrows, desc)                   \
	{                                                                         \
		.name = (n), .api = QS_API_REST, .access = QS_ACCESS_PAGED,           \
		.path = (p), .shape = QS_SHAPE_OBJECTS, .rows_key = (key),            \
		.rows_key_alt = (alt), COLUMNS(cols), FILTERS(filt), .rows = (nrows), \
		.description = (desc)                                                 \
	}

/* A REST API list with lookups by key: GET path and GET path/{key}. */
#define KEYED_LIST(n, p, cols, filt, desc)                                    \
	{                                                                         \
		.name = (n), .api = QS_API_REST, .access = QS_ACCESS_KEYED,           \
		.path = (p), .path_by_id = p "/%s", .shape = QS_SHAPE_OBJECTS,        \
		COLUMNS(cols), FILTERS(filt), .rows = 10, .description = (desc)       \
	}

static const QsEndpoint endpoints[] = {
	{
		.name = "users",
		.api = QS_API_DEVELOPER,
		.access = QS_ACCESS_KEYED,
		.path = "/v2/qstash/users",
		.path_by_id = "/v2/qstash/user/%s",
		.shape = QS_SHAPE_OBJECTS,
		COLUMNS(users_columns),
		FILTERS(users_filters),
		.rows = 2,
		.description = "QStash instances of the account, one per region",
	},
	{
		.name = "stats",
		.api = QS_API_DEVELOPER,
		.access = QS_ACCESS_PER_INSTANCE,
		.path = "/v2/qstash/stats/%s",
		.takes_period = true,
		.shape = QS_SHAPE_STATS,
		COLUMNS(stats_columns),
		FILTERS(stats_filters),
		.rows = 2 * 600,
		.description = "usage statistics, one row per data point",
	},
	{
		.name = "stats_summary",
		.api = QS_API_DEVELOPER,
		.access = QS_ACCESS_PER_INSTANCE,
		.path = "/v2/qstash/stats/%s",
		.takes_period = true,
		.shape = QS_SHAPE_OBJECT,
		COLUMNS(stats_summary_columns),
		FILTERS(stats_filters),
		.rows = 2,
		.description = "usage summary, one row per instance",
	},
	{
		.name = "ipv4",
		.api = QS_API_DEVELOPER,
		.access = QS_ACCESS_LIST,
		.path = "/v2/qstash/ipv4",
		.shape = QS_SHAPE_SCALARS,
		COLUMNS(ipv4_columns),
		.rows = 10,
		.description = "address blocks QStash sends requests from",
	},
	PAGED_LIST("logs", "/v2/events", "events", "logs", logs_columns,
			   logs_filters, 1000, "message log (events), newest first"),
	PAGED_LIST("dlq", "/v2/dlq", "messages", NULL, dlq_columns, dlq_filters,
			   100, "messages in the dead letter queue"),
	KEYED_LIST("schedules", "/v2/schedules", schedules_columns,
			   schedules_filters, "schedules"),
	KEYED_LIST("queues", "/v2/queues", queues_columns, name_filters, "queues"),
	KEYED_LIST("url_groups", "/v2/topics", url_groups_columns, name_filters,
			   "URL groups (topics) with their endpoints"),
	KEYED_LIST("flow_control", "/v2/flowControl", flow_control_columns,
			   flow_control_filters, "flow-control keys"),
	{
		.name = "global_parallelism",
		.api = QS_API_REST,
		.access = QS_ACCESS_LIST,
		.path = "/v2/globalParallelism",
		.shape = QS_SHAPE_OBJECT,
		COLUMNS(global_parallelism_columns),
		.rows = 1,
		.description = "global parallelism across flow-control keys",
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

const QsEndpoint *
qs_instances_endpoint(void)
{
	return qs_endpoint_lookup("users");
}

const char *
qs_api_name(QsApi api)
{
	return api == QS_API_DEVELOPER ? "developer" : "qstash";
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

/*
 * What col = v sets: a query parameter, a path id, the instance, or the
 * period.  A qual of a foreign table and an argument of a function both
 * go through here.
 */
const QsFilter *
qs_endpoint_equality_filter(const QsEndpoint *ep, const char *column)
{
	static const QsFilterKind kinds[] = {QSF_QUERY, QSF_PATH_ID, QSF_INSTANCE,
										 QSF_PERIOD};
	const QsFilter *f = NULL;

	for (int i = 0; i < lengthof(kinds) && f == NULL; i++)
		f = qs_endpoint_filter(ep, column, kinds[i]);
	return f;
}

/* The filter of a column of this kind, or NULL. */
const QsFilter *
qs_endpoint_filter(const QsEndpoint *ep, const char *column, QsFilterKind kind)
{
	for (int i = 0; i < ep->nfilters; i++)
	{
		if (ep->filters[i].kind == kind &&
			strcmp(ep->filters[i].column, column) == 0)
			return &ep->filters[i];
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
	ereport(
		ERROR,
		(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		 errmsg("invalid period \"%s\"", qs_printable(period, strlen(period))),
		 errhint("Valid periods are: 1h, 3h, 12h, 1d, 3d, 7d, 30d.")));
}

/*
 * A value of a filter whose values the API defines: the value as the API
 * spells it, or ERROR (22023, the valid values in the hint) before any
 * request, never a listing that is silently empty.  With fold_case (the
 * SQL functions) the value matches case-insensitively; a foreign table
 * also checks its qual locally and exactly, so there a value that differs
 * only in case is an error that names the right spelling.
 */
const char *
qs_filter_value(const QsFilter *f, const char *value, bool fold_case)
{
	StringInfoData valid;

	if (f->valid == NULL)
		return value;
	/*
	 * IN_PROGRESS asks the API for ACTIVE, RETRY and ERROR entries; no entry
	 * carries it, so a foreign table's local check of the qual would drop
	 * every row the API sends
	 */
	if (!fold_case && strcmp(value, "IN_PROGRESS") == 0)
		ereport(
			ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s \"IN_PROGRESS\" matches no row of a foreign table",
					f->column),
			 errdetail("The API's IN_PROGRESS selects the states ACTIVE, "
					   "RETRY and ERROR; no entry carries IN_PROGRESS, and "
					   "the qual is also checked on each row."),
			 errhint("Write %s IN ('ACTIVE', 'RETRY', 'ERROR').", f->column)));
	for (int i = 0; f->valid[i] != NULL; i++)
	{
		if (strcmp(f->valid[i], value) == 0)
			return value;
	}
	for (int i = 0; f->valid[i] != NULL; i++)
	{
		if (pg_strcasecmp(f->valid[i], value) != 0)
			continue;
		if (fold_case)
			return f->valid[i];
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", f->column,
						qs_printable(value, strlen(value))),
				 errdetail("The API spells its values in upper case, and the "
						   "qual on %s is also checked exactly.",
						   f->column),
				 errhint("Write %s = '%s'.", f->column, f->valid[i])));
	}
	initStringInfo(&valid);
	for (int i = 0; f->valid[i] != NULL; i++)
		appendStringInfo(&valid, "%s%s", i ? ", " : "", f->valid[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s \"%s\"", f->column,
					qs_printable(value, strlen(value))),
			 errhint("Valid values of %s are: %s.", f->column, valid.data)));
	return NULL; /* keep the compiler quiet */
}
