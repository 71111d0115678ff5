/*-------------------------------------------------------------------------
 *
 * mapper.c
 *		Response -> rows: walks the shape of a response (a list, one
 *		object, a stats object, scalars), picks each column's value of a
 *		row by the catalog, has it converted (convert.c) and puts the row
 *		into the caller's sink.  It knows nothing of where the response
 *		came from or where the rows go (response.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "convert.h"
#include "errors.h"
#include "mapper.h"

/* One data point of a stats response (QS_SHAPE_STATS). */
typedef struct QsPoint
{
	const char *metric; /* key of the series */
	const char *series; /* breakdown id, or NULL */
	QsJson *value;		/* the number */
} QsPoint;

struct QsMapper
{
	const QsEndpoint *ep;
	TupleDesc tupdesc;
	QsColumnConv *atts;
	bool reveal_secrets;
	const char *objname;
	MemoryContext mcxt; /* where the mapper lives (and its signature) */
	MemoryContext rowcxt;
	Datum *values;
	bool *nulls;
	/* the endpoint's JSON keys, sorted, to spot unknown ones for "extra" */
	const char **known_keys;
	int nknown;
	/* QSC_INSTANCE, QSC_PERIOD values of the response, converted once */
	Datum *param_values;
	bool *param_nulls;
	/* error context */
	int cur_row;
	const QsColumn *cur_col;
	/* the mapping's identity (qs_mapper_signature) */
	char *sig;
	size_t siglen;
	bool sig_ready;
};

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * The type of a catalog column (its sqltype), resolved once per call: the
 * catalog holds names such as "uuid" or "text[]".
 */
static Oid
catalog_type(const QsColumn *col)
{
	Oid typid;
	int32 typmod;

	parseTypeString(col->sqltype, &typid, &typmod, false);
	return typid;
}

/*
 * Can a column declared as typid hold what the endpoint produces for col?
 * The catalog's own type (or a domain over it), or any type the catalog
 * type is assignable to (as INSERT would accept it: text for a uuid,
 * numeric for a bigint).  Values of any type other than the catalog's own
 * go through the declared type's input function, never through a fast
 * path of another type.
 */
static bool
column_type_ok(const QsColumn *col, Oid typid, Oid *expected)
{
	Oid want = catalog_type(col);

	*expected = want;
	if (typid == want || getBaseType(typid) == want)
		return true;
	return can_coerce_type(1, &want, &typid, COERCION_ASSIGNMENT);
}

/*
 * Check that every column of tupdesc is a column of the endpoint, with a
 * type the endpoint can produce.  Called when a foreign table is planned
 * (so plain EXPLAIN reports it) and when a mapper is created: nothing is
 * ever read as a type the column does not have.
 */
void
qs_mapper_check_columns(const QsEndpoint *ep, TupleDesc tupdesc,
						const char *objname)
{
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		const QsColumn *col;
		Oid expected;

		if (att->attisdropped)
			continue;
		col = qs_endpoint_column(ep, NameStr(att->attname));
		if (col == NULL)
			ereport(
				ERROR,
				(errcode(ERRCODE_FDW_INVALID_COLUMN_NAME),
				 errmsg(
					 "column \"%s\" of %s is not a column of endpoint \"%s\"",
					 NameStr(att->attname), objname, ep->name),
				 errhint("Valid columns are: %s.",
						 qs_endpoint_column_names(ep))));
		if (!column_type_ok(col, att->atttypid, &expected))
			ereport(
				ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of %s has type %s, which endpoint "
						"\"%s\" cannot produce",
						NameStr(att->attname), objname,
						format_type_be(att->atttypid), ep->name),
				 errdetail("The endpoint produces type %s for this "
						   "column.",
						   format_type_be(expected)),
				 errhint("Declare the column as %s, or as another type "
						 "that values of type %s can be assigned to.",
						 format_type_be(expected), format_type_be(expected))));
	}
}

QsMapper *
qs_mapper_create(const QsEndpoint *ep, TupleDesc tupdesc, bool reveal_secrets,
				 const char *objname)
{
	QsMapper *m = palloc0(sizeof(QsMapper));

	qs_mapper_check_columns(ep, tupdesc, objname);
	m->ep = ep;
	m->tupdesc = tupdesc;
	m->reveal_secrets = reveal_secrets;
	m->objname = objname;
	m->atts = palloc0(sizeof(QsColumnConv) * Max(tupdesc->natts, 1));
	m->values = palloc(sizeof(Datum) * Max(tupdesc->natts, 1));
	m->nulls = palloc(sizeof(bool) * Max(tupdesc->natts, 1));
	m->param_values = palloc0(sizeof(Datum) * Max(tupdesc->natts, 1));
	m->known_keys = palloc(sizeof(char *) * ep->ncolumns * 2);
	for (int i = 0; i < ep->ncolumns; i++)
	{
		if (ep->columns[i].json_key)
			m->known_keys[m->nknown++] = ep->columns[i].json_key;
		if (ep->columns[i].alt_key)
			m->known_keys[m->nknown++] = ep->columns[i].alt_key;
	}
	qsort(m->known_keys, m->nknown, sizeof(char *), cmp_keys);
	m->param_nulls = palloc0(sizeof(bool) * Max(tupdesc->natts, 1));
	m->mcxt = CurrentMemoryContext;
	m->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "qstash row",
									  ALLOCSET_SMALL_SIZES);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		QsColumnConv *a = &m->atts[i];

		if (att->attisdropped)
			continue;
		qs_convert_init(a, qs_endpoint_column(ep, NameStr(att->attname)),
						ep->name, att->atttypid, att->atttypmod);
	}
	return m;
}

TupleDesc
qs_mapper_tupdesc(const QsMapper *m)
{
	return m->tupdesc;
}

/*
 * Convert only the columns in attnums (a foreign scan's query reads no
 * others): the rest stay NULL, cost nothing, and a bad value in one of them
 * fails nothing.
 */
void
qs_mapper_only(QsMapper *m, List *attnums)
{
	for (int i = 0; i < m->tupdesc->natts; i++)
	{
		if (!list_member_int(attnums, i + 1))
			m->atts[i].col = NULL;
	}
}

static void
mapper_error_context(void *arg)
{
	QsMapper *m = (QsMapper *) arg;

	if (m->cur_col)
		errcontext("column \"%s\" of %s, row %d", m->cur_col->name, m->objname,
				   m->cur_row + 1);
}

/* jsonb text of the keys of obj that no column of the endpoint claims */
static char *
extra_text(QsMapper *m, QsJson *obj)
{
	QsJsonIter *it = NULL;
	const char *key;
	QsJson *val;
	StringInfoData buf;
	bool any = false;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	while (qsjson_object_next(obj, &it, &key, &val))
	{
		bool known = bsearch(&key, m->known_keys, m->nknown, sizeof(char *),
							 cmp_keys) != NULL;
		size_t len;
		const char *t;

		if (known)
			continue;
		if (any)
			appendStringInfoChar(&buf, ',');
		escape_json(&buf, key);
		appendStringInfoChar(&buf, ':');
		t = qsjson_text(val, &len);
		appendBinaryStringInfo(&buf, t, (int) len);
		any = true;
	}
	appendStringInfoChar(&buf, '}');
	return any ? buf.data : NULL;
}

/*
 * Convert one column of one row; sets *isnull.  Columns derived from the
 * row as a whole or from the request are handled here; the others read
 * their JSON value and go to value_datum().
 */
static Datum
convert(QsMapper *m, QsColumnConv *a, QsJson *row, const QsPoint *pt,
		bool *isnull)
{
	const QsColumn *c = a->col;
	QsJson *v;

	*isnull = true;
	if (c->secret && !m->reveal_secrets)
		return (Datum) 0;

	switch (c->conv)
	{
		case QSC_EXTRA:
		{
			char *t = extra_text(m, row);

			if (t == NULL)
				return (Datum) 0;
			*isnull = false;
			return qs_convert_input(a, t);
		}
		case QSC_INSTANCE:
		case QSC_PERIOD:
		{
			int i = a - m->atts;

			*isnull = m->param_nulls[i];
			return m->param_values[i];
		}
		case QSC_METRIC:
		case QSC_SERIES:
		{
			const char *p = c->conv == QSC_METRIC ? pt->metric : pt->series;

			if (p == NULL)
				return (Datum) 0;
			*isnull = false;
			return qs_convert_input(a, p);
		}
		case QSC_BODY:
		case QSC_BODY_TEXT:
			return qs_convert_body(a, row, isnull);
		case QSC_ELEMENT:
			v = row;
			break;
		case QSC_POINT_VALUE:
			v = pt->value;
			break;
		default:
			v = qsjson_object_get(row, c->json_key);
			if (v == NULL && c->alt_key != NULL)
				v = qsjson_object_get(row, c->alt_key);
			break;
	}
	if (qsjson_kind(v) == QSJ_NULL)
		return (Datum) 0;
	*isnull = false;
	return qs_convert_value(a, v, isnull);
}

static void
put_row(QsMapper *m, QsJson *row, const QsPoint *pt, QsRowSink *sink)
{
	MemoryContext old = MemoryContextSwitchTo(m->rowcxt);

	for (int i = 0; i < m->tupdesc->natts; i++)
	{
		QsColumnConv *a = &m->atts[i];

		if (a->col == NULL)
		{
			m->values[i] = (Datum) 0;
			m->nulls[i] = true;
			continue;
		}
		m->cur_col = a->col;
		m->values[i] = convert(m, a, row, pt, &m->nulls[i]);
	}
	m->cur_col = NULL;
	MemoryContextSwitchTo(old);
	sink->put(sink, m->values, m->nulls);
	MemoryContextReset(m->rowcxt);
}

QS_NORETURN static void
unexpected_shape(QsMapper *m, const char *detail)
{
	qs_unexpected_json(m->ep->name, detail);
}

/*
 * Stats: every key whose value is an array of series-shaped objects gives
 * rows, known or not.  {x, y, k...} is a point of the series named by the
 * key (series NULL) plus one point per other number k (series k);
 * {id, data_points: [{x, y}]} is a series broken down by id.  Other keys
 * (days, dlq_message_count, ...) are not series and are skipped.
 */
static int64
put_stats(QsMapper *m, QsJson *doc, QsRowSink *sink)
{
	QsJsonIter *it = NULL;
	const char *key;
	QsJson *arr;

	if (qsjson_kind(doc) != QSJ_OBJECT)
		unexpected_shape(m, psprintf("The response is %s, expected an object.",
									 qsjson_kind_phrase(qsjson_kind(doc))));
	m->cur_row = 0;
	while (qsjson_object_next(doc, &it, &key, &arr))
	{
		int n;

		if (qsjson_kind(arr) != QSJ_ARRAY)
			continue;
		n = qsjson_array_length(arr);
		for (int i = 0; i < n; i++)
		{
			QsJson *e = qsjson_array_get(arr, i);
			QsJson *dps;
			QsPoint pt = {key, NULL, NULL};

			if (qsjson_kind(e) != QSJ_OBJECT)
				break; /* not a series (days) */
			dps = qsjson_object_get(e, "data_points");
			if (qsjson_kind(dps) == QSJ_ARRAY)
			{
				QsJson *id = qsjson_object_get(e, "id");
				size_t len;
				int np = qsjson_array_length(dps);

				if (qsjson_kind(id) == QSJ_STRING)
					pt.series = qsjson_string(id, &len);
				for (int j = 0; j < np; j++)
				{
					QsJson *dp = qsjson_array_get(dps, j);

					if (qsjson_kind(dp) != QSJ_OBJECT)
						unexpected_shape(
							m, psprintf(
								   "A data point of \"%s\" is not an object.",
								   key));
					pt.value = qsjson_object_get(dp, "y");
					put_row(m, dp, &pt, sink);
					m->cur_row++;
				}
			}
			else if (qsjson_object_get(e, "x") != NULL)
			{
				QsJsonIter *mit = NULL;
				const char *mkey;
				QsJson *mval;

				pt.value = qsjson_object_get(e, "y");
				put_row(m, e, &pt, sink);
				m->cur_row++;
				while (qsjson_object_next(e, &mit, &mkey, &mval))
				{
					QsJsonKind k = qsjson_kind(mval);

					if (strcmp(mkey, "x") == 0 || strcmp(mkey, "y") == 0 ||
						(k != QSJ_INT && k != QSJ_DOUBLE))
						continue;
					pt.series = mkey;
					pt.value = mval;
					put_row(m, e, &pt, sink);
					m->cur_row++;
				}
			}
		}
	}
	return m->cur_row;
}

/*
 * Map a response (or, for paged endpoints, the rows array of one page)
 * into the tuplestore: at most max_rows rows when max_rows >= 0.  Returns
 * the number of rows stored.
 */
int64
qs_mapper_put(QsMapper *m, QsJson *doc, const QsTarget *target, int64 max_rows,
			  QsRowSink *sink)
{
	ErrorContextCallback errcb;
	static const QsPoint no_point = {0};
	int64 stored = 0;
	bool want_object = target->shape == QS_SHAPE_OBJECT;

	/* request parameters are the same for every row: convert them once */
	for (int i = 0; i < m->tupdesc->natts; i++)
	{
		QsColumnConv *a = &m->atts[i];
		const char *p;

		if (a->col == NULL ||
			(a->col->conv != QSC_INSTANCE && a->col->conv != QSC_PERIOD))
			continue;
		p = a->col->conv == QSC_INSTANCE ? target->qstash_id : target->period;
		m->param_nulls[i] = (p == NULL);
		m->param_values[i] = p ? qs_convert_input(a, p) : (Datum) 0;
	}

	errcb.callback = mapper_error_context;
	errcb.arg = m;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (target->shape == QS_SHAPE_STATS)
		stored = put_stats(m, doc, sink);
	else if (qsjson_kind(doc) != (want_object ? QSJ_OBJECT : QSJ_ARRAY))
		unexpected_shape(m, psprintf("The response is %s, expected %s.",
									 qsjson_kind_phrase(qsjson_kind(doc)),
									 want_object ? "an object" : "an array"));
	else if (want_object)
	{
		/* a single object (GET /user/{id}, stats_summary) is one row */
		m->cur_row = 0;
		if (max_rows != 0)
		{
			put_row(m, doc, &no_point, sink);
			stored = 1;
		}
	}
	else
	{
		int n = qsjson_array_length(doc);

		if (max_rows >= 0 && n > max_rows)
			n = (int) max_rows;
		for (int r = 0; r < n; r++)
		{
			QsJson *row = qsjson_array_get(doc, r);

			m->cur_row = r;
			if (target->shape != QS_SHAPE_SCALARS &&
				qsjson_kind(row) != QSJ_OBJECT)
				unexpected_shape(
					m, psprintf("Element %d is %s, expected an object.", r + 1,
								qsjson_kind_phrase(qsjson_kind(row))));
			put_row(m, row, &no_point, sink);
		}
		stored = n;
	}

	error_context_stack = errcb.previous;
	return stored;
}

/*
 * Does a value of this type depend only on its text and the settings in
 * the signature?  Not a domain (its constraints may change), not regclass
 * and friends (search_path), not money (lc_monetary), not an extension's
 * type.
 */
static bool
reproducible_type(Oid typid)
{
	Oid elem = get_element_type(typid);

	if (OidIsValid(elem))
		typid = elem;
	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case BOOLOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case BYTEAOID:
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case INTERVALOID:
		case INETOID:
		case CIDROID:
			return true;
		default:
			return false;
	}
}

/*
 * The identity of a mapping: what its rows depend on besides the response
 * (the endpoint, each column's source and type, whether secrets are shown,
 * and the settings that conversions read: TimeZone, DateStyle,
 * IntervalStyle; bytea_output for a body declared text).  Two mappings
 * with equal signatures make equal rows of one response.  NULL when a
 * column's type is not reproducible_type().
 */
const char *
qs_mapper_signature(QsMapper *m, size_t *len)
{
	int32 settings[] = {DateStyle,	  DateOrder,		 IntervalStyle,
						bytea_output, m->reveal_secrets, m->tupdesc->natts};
	const void *ptrs[] = {m->ep, session_timezone};

	if (!m->sig_ready)
	{
		StringInfoData sig;
		MemoryContext old;

		m->sig_ready = true;
		for (int i = 0; i < m->tupdesc->natts; i++)
		{
			QsColumnConv *a = &m->atts[i];

			if (a->col != NULL && !reproducible_type(a->typid))
				return NULL;
		}
		/* the mapper's lifetime: it is rewritten for every response */
		old = MemoryContextSwitchTo(m->mcxt);
		initStringInfo(&sig);
		MemoryContextSwitchTo(old);
		appendBinaryStringInfo(&sig, (char *) settings, sizeof(settings));
		appendBinaryStringInfo(&sig, (char *) ptrs, sizeof(ptrs));
		for (int i = 0; i < m->tupdesc->natts; i++)
		{
			QsColumnConv *a = &m->atts[i];

			appendBinaryStringInfo(&sig, (char *) &a->col, sizeof(a->col));
			appendBinaryStringInfo(&sig, (char *) &a->typid, sizeof(Oid));
			appendBinaryStringInfo(&sig, (char *) &a->typmod, sizeof(int32));
		}
		m->sig = sig.data;
		m->siglen = sig.len;
	}
	if (m->sig == NULL)
		return NULL;
	/* the settings as they are now (a cursor may outlive a SET) */
	memcpy(m->sig, settings, sizeof(settings));
	memcpy(m->sig + sizeof(settings), ptrs, sizeof(ptrs));
	*len = m->siglen;
	return m->sig;
}
