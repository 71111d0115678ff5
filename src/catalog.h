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
	QSC_PARAM			   /* a request parameter, not from the body */
} QsConv;

/* Which API an endpoint belongs to (base URL and credentials differ). */
typedef enum QsApi
{
	QS_API_DEVELOPER, /* api_url, Basic email:api_key */
	QS_API_REST		  /* qstash_url, Bearer token */
} QsApi;

/* Shape of a successful response body. */
typedef enum QsShape
{
	QS_SHAPE_OBJECTS, /* array of objects, one row each */
	QS_SHAPE_SCALARS, /* array of scalars, one row each */
	QS_SHAPE_STATS	  /* stats object, one row per data point */
} QsShape;

typedef struct QsColumn
{
	const char *name;	  /* SQL column name */
	const char *sqltype;  /* type used by the functions and IMPORT */
	const char *json_key; /* key in the response object, or NULL */
	QsConv conv;
	bool secret; /* NULL unless reveal_secrets */
} QsColumn;

typedef struct QsEndpoint
{
	const char *name; /* table option "endpoint", table name */
	QsApi api;
	const char *path;		/* list path */
	const char *path_by_id; /* one-object path with %s for the id, or NULL */
	bool per_instance; /* path has %s for a qstash id; fan out when none */
	bool takes_period; /* ?period= parameter */
	QsShape shape;
	const QsColumn *columns;
	int ncolumns;
	double rows; /* planner estimate */
	const char *description;
} QsEndpoint;

extern const QsEndpoint *qs_endpoint_lookup(const char *name);
extern const QsEndpoint *qs_endpoint_at(int i);
extern int qs_endpoint_count(void);
extern char *qs_endpoint_names(void);
extern const QsColumn *qs_endpoint_column(const QsEndpoint *ep,
										  const char *name);
extern char *qs_endpoint_column_names(const QsEndpoint *ep);

#define QS_DEFAULT_PERIOD "1h"
extern void qs_check_period(const char *period);

#endif /* QSTASH_CATALOG_H */
