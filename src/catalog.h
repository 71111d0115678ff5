/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		The endpoint catalog: every table the extension exposes, with its
 *		API path, response shape and columns.  The SQL functions, the
 *		foreign tables and IMPORT FOREIGN SCHEMA are all driven by it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_CATALOG_H
#define QSTASH_CATALOG_H

/* How a JSON value becomes a column value. */
typedef enum QsConv
{
	QSC_TEXT,			   /* JSON string, through the column type's input */
	QSC_BOOL,			   /* JSON boolean */
	QSC_BOOL_STRING,	   /* "true"/"false" sent as a string (or a boolean) */
	QSC_INT8,			   /* JSON integer within int64 */
	QSC_NUMERIC,		   /* any JSON number, exactly as sent */
	QSC_EPOCH_S,		   /* unix seconds -> timestamptz */
	QSC_EPOCH_S_ZERO_NULL, /* same, 0 means NULL */
	QSC_JSONB,			   /* any JSON value */
	QSC_EXTRA,			   /* object of the keys no column claims */
	QSC_ELEMENT,		   /* the array element itself (list of scalars) */
	QSC_TEXT_ARRAY,		   /* JSON array of strings -> text[] */
	QSC_GOTIME,			   /* Go time.Time.String() text -> timestamptz */
	QSC_METRIC,			   /* stats: the key of the series */
	QSC_SERIES,			   /* stats: the breakdown id, or NULL */
	QSC_POINT_VALUE,	   /* stats: the number of the data point */
	QSC_INSTANCE,		   /* the instance the response is for */
	QSC_PERIOD,			   /* the period the response is for */
	QSC_EPOCH_MS,		   /* unix milliseconds (number or digits) ->
							* timestamptz, 0 means NULL */
	QSC_BODY,			   /* bytes: base64 key, else the plain-text key */
	QSC_BODY_TEXT		   /* the same bytes as text when valid UTF-8 */
} QsConv;

/* Which API an endpoint belongs to (base URL and credentials differ). */
typedef enum QsApi
{
	QS_API_DEVELOPER, /* api_url, Basic email:api_key */
	QS_API_REST		  /* qstash_url, Bearer token */
} QsApi;

/* "developer" or "qstash": the API as the rate-limit view names it. */
extern const char *qs_api_name(QsApi api);

/*
 * How the rows of an endpoint are reached: which requests a scan sends
 * (request.c lists them, for the runner and for EXPLAIN alike).
 */
typedef enum QsAccess
{
	QS_ACCESS_LIST,			/* GET path */
	QS_ACCESS_KEYED,		/* GET path, or GET path_by_id once per key */
	QS_ACCESS_PER_INSTANCE, /* GET path once per instance (and period);
							 * the account's instances listed first when
							 * none are given */
	QS_ACCESS_PAGED			/* GET path?count=, then &cursor= while the API
							 * returns one: {cursor, <rows_key>: [...]} */
} QsAccess;

/* Shape of the rows in a successful response (a page's rows array). */
typedef enum QsShape
{
	QS_SHAPE_OBJECTS, /* array of objects, one row each */
	QS_SHAPE_OBJECT,  /* one object, one row */
	QS_SHAPE_SCALARS, /* array of scalars, one row each */
	QS_SHAPE_STATS	  /* stats object, one row per data point */
} QsShape;

typedef struct QsColumn
{
	const char *name;	  /* SQL column name */
	const char *sqltype;  /* type used by the functions and IMPORT */
	const char *json_key; /* key in the response object, or NULL */
	QsConv conv;
	bool secret;		 /* NULL unless reveal_secrets */
	const char *alt_key; /* another spelling of the key, read when json_key
						  * is absent; for QSC_BODY*, the plain-text key */
} QsColumn;

/*
 * What a qual on a column can set in the request.  The FDW pushes quals
 * into these; the SQL functions take them as arguments.
 */
typedef enum QsFilterKind
{
	QSF_PATH_ID,  /* col = v: GET path_by_id with v (404: no rows) */
	QSF_INSTANCE, /* qstash_id = v: per-instance path */
	QSF_PERIOD,	  /* period = v: ?period=v */
	QSF_QUERY,	  /* col = v: ?query=v (multi: repeated for IN lists) */
	QSF_ELEMENT,  /* v = ANY(col): ?query=v */
	QSF_TIME	  /* col >= / <= v: ?fromDate= / ?toDate= (unix ms) */
} QsFilterKind;

typedef struct QsFilter
{
	const char *column; /* SQL column */
	QsFilterKind kind;
	const char *query; /* query parameter (QSF_QUERY, QSF_ELEMENT) */
	bool multi;		   /* the API takes several values (OR) */
	bool exact;		   /* the API keeps exactly the rows the qual keeps */
	const char *const *valid; /* the values the API defines (NULL-ended),
							   * or NULL for any value */
} QsFilter;

typedef struct QsEndpoint
{
	const char *name; /* table option "endpoint", table name */
	QsApi api;
	QsAccess access;
	const char *path;		  /* list path (QS_ACCESS_PER_INSTANCE: with %s
							 * for the instance) */
	const char *path_by_id;	  /* QS_ACCESS_KEYED: one object, %s for the key */
	bool takes_period;		  /* ?period= parameter */
	QsShape shape;			  /* of the list path's rows (a lookup by key
							 * answers one object) */
	const char *rows_key;	  /* QS_ACCESS_PAGED: key of the rows array */
	const char *rows_key_alt; /* and its other spelling */
	const QsColumn *columns;
	int ncolumns;
	const QsFilter *filters; /* in request order: a request's parameters
							  * follow it (qs_plan_sort); fdw_private names
							  * a filter by its index here; the SQL
							  * functions match arguments to filters by
							  * name */
	int nfilters;
	double rows; /* planner estimate */
	const char *description;
} QsEndpoint;

/* Page size asked for on paged endpoints: the API's maximum. */
#define QS_PAGE_SIZE 100

extern const QsEndpoint *qs_endpoint_lookup(const char *name);
/* The endpoint that lists the account's instances (their ids: "id"). */
extern const QsEndpoint *qs_instances_endpoint(void);
extern const QsEndpoint *qs_endpoint_at(int i);
extern int qs_endpoint_count(void);
extern char *qs_endpoint_names(void);
extern const QsColumn *qs_endpoint_column(const QsEndpoint *ep,
										  const char *name);
extern char *qs_endpoint_column_names(const QsEndpoint *ep);
extern const QsFilter *qs_endpoint_equality_filter(const QsEndpoint *ep,
												   const char *column);
extern const QsFilter *qs_endpoint_filter(const QsEndpoint *ep,
										  const char *column,
										  QsFilterKind kind);

#define QS_DEFAULT_PERIOD "1h"
extern void qs_check_period(const char *period);
extern const char *qs_filter_value(const QsFilter *f, const char *value,
								   bool fold_case);

#endif /* QSTASH_CATALOG_H */
