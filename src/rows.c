/*-------------------------------------------------------------------------
 *
 * rows.c
 *		JSON -> Datum.  PostgreSQL's own input functions do the typing
 *		(numeric, uuid, jsonb, cidr, ...); direct conversions are used
 *		only where they are exact (text, bigint, boolean, unix times).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "rows.h"

typedef struct QsAttMap
{
	const QsColumn *col; /* NULL for a dropped attribute */
	Oid typid;
	int32 typmod;
	FmgrInfo input;
	Oid ioparam;
} QsAttMap;

struct QsMapper
{
	const QsEndpoint *ep;
	TupleDesc tupdesc;
	QsAttMap *atts;
	bool reveal_secrets;
	const char *objname;
	MemoryContext rowcxt;
	Datum *values;
	bool *nulls;
	/* error context */
	int cur_row;
	const QsColumn *cur_col;
};

QsMapper *
qs_mapper_create(const QsEndpoint *ep, TupleDesc tupdesc, bool reveal_secrets,
				 const char *objname)
{
	QsMapper *m = palloc0(sizeof(QsMapper));

	m->ep = ep;
	m->tupdesc = tupdesc;
	m->reveal_secrets = reveal_secrets;
	m->objname = objname;
	m->atts = palloc0(sizeof(QsAttMap) * Max(tupdesc->natts, 1));
	m->values = palloc(sizeof(Datum) * Max(tupdesc->natts, 1));
	m->nulls = palloc(sizeof(bool) * Max(tupdesc->natts, 1));
	m->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "qstash row",
									  ALLOCSET_SMALL_SIZES);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		QsAttMap *a = &m->atts[i];
		Oid infunc;

		if (att->attisdropped)
			continue;
		a->col = qs_endpoint_column(ep, NameStr(att->attname));
		if (a->col == NULL)
			ereport(
				ERROR,
				(errcode(ERRCODE_FDW_INVALID_COLUMN_NAME),
				 errmsg(
					 "column \"%s\" of %s is not a column of endpoint \"%s\"",
					 NameStr(att->attname), objname, ep->name),
				 errhint("Valid columns are: %s.",
						 qs_endpoint_column_names(ep))));
		a->typid = att->atttypid;
		a->typmod = att->atttypmod;
		getTypeInputInfo(att->atttypid, &infunc, &a->ioparam);
		fmgr_info(infunc, &a->input);
	}
	return m;
}

static void
mapper_error_context(void *arg)
{
	QsMapper *m = (QsMapper *) arg;

	if (m->cur_col)
		errcontext("column \"%s\" of %s, row %d", m->cur_col->name, m->objname,
				   m->cur_row + 1);
}

pg_attribute_noreturn() static void wrong_type(QsMapper *m,
											   const char *expected, QsJson *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
			 errmsg("unexpected JSON type in the response of endpoint \"%s\"",
					m->ep->name),
			 errdetail("Key \"%s\" is a %s, expected %s.",
					   m->cur_col->json_key ? m->cur_col->json_key
											: m->cur_col->name,
					   qsjson_kind_name(qsjson_kind(v)), expected)));
}

static Datum
input(QsAttMap *a, const char *s)
{
	return InputFunctionCall(&a->input, (char *) s, a->ioparam, a->typmod);
}

static Datum
string_datum(QsMapper *m, QsAttMap *a, QsJson *v)
{
	size_t len;
	const char *s = qsjson_string(v, &len);

	if (memchr(s, '\0', len) != NULL)
		ereport(
			ERROR,
			(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
			 errmsg(
				 "unexpected NUL character in the response of endpoint \"%s\"",
				 m->ep->name),
			 errdetail("Text values cannot contain \\u0000.")));
	if (a->typid == TEXTOID)
		return PointerGetDatum(cstring_to_text_with_len(s, (int) len));
	return input(a, s);
}

static Datum
epoch_datum(QsAttMap *a, int64 secs)
{
	TimestampTz t = 0;
	bool ok = false;

	/* |secs| below 9e12 cannot overflow the microsecond arithmetic */
	if (secs > -(int64) 9000000000000LL && secs < (int64) 9000000000000LL)
	{
		t = (secs - ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
					 SECS_PER_DAY)) *
			USECS_PER_SEC;
		ok = IS_VALID_TIMESTAMP(t);
	}
	if (!ok)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						errmsg("unix time %lld is out of range for type "
							   "timestamp with time zone",
							   (long long) secs)));
	if (a->typid == TIMESTAMPTZOID)
		return TimestampTzGetDatum(t);
	return input(a, timestamptz_to_str(t));
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
		bool known = false;
		size_t len;
		const char *t;

		for (int i = 0; i < m->ep->ncolumns && !known; i++)
			known = m->ep->columns[i].json_key &&
					strcmp(m->ep->columns[i].json_key, key) == 0;
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

/* Convert one column of one row; sets *isnull. */
static Datum
convert(QsMapper *m, QsAttMap *a, QsJson *row, const QsParams *params,
		bool *isnull)
{
	const QsColumn *c = a->col;
	QsJson *v;
	QsJsonKind k;

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
			return input(a, t);
		}
		case QSC_PARAM:
		{
			const char *p = strcmp(c->name, "qstash_id") == 0
								? params->qstash_id
								: params->period;

			if (p == NULL)
				return (Datum) 0;
			*isnull = false;
			return input(a, p);
		}
		case QSC_ELEMENT:
			v = row;
			break;
		default:
			v = qsjson_object_get(row, c->json_key);
			break;
	}

	k = qsjson_kind(v);
	if (k == QSJ_NULL)
		return (Datum) 0;
	*isnull = false;

	switch (c->conv)
	{
		case QSC_TEXT:
		case QSC_ELEMENT:
			if (k != QSJ_STRING)
				wrong_type(m, "a string", v);
			return string_datum(m, a, v);
		case QSC_BOOL:
			if (k != QSJ_BOOL)
				wrong_type(m, "a boolean", v);
			if (a->typid == BOOLOID)
				return BoolGetDatum(qsjson_bool(v));
			return input(a, qsjson_bool(v) ? "true" : "false");
		case QSC_BOOL_STRING:
		{
			bool b;
			size_t len;

			if (k == QSJ_BOOL)
				b = qsjson_bool(v);
			else if (k == QSJ_STRING && parse_bool(qsjson_string(v, &len), &b))
				;
			else
				wrong_type(m, "\"true\" or \"false\"", v);
			if (a->typid == BOOLOID)
				return BoolGetDatum(b);
			return input(a, b ? "true" : "false");
		}
		case QSC_INT8:
		case QSC_EPOCH_S:
		case QSC_EPOCH_S_ZERO_NULL:
		{
			int64 i;
			size_t len;

			if (k != QSJ_INT && k != QSJ_DOUBLE)
				wrong_type(m, "an integer", v);
			if (!qsjson_int64(v, &i))
			{
				const char *t = qsjson_text(v, &len);

				/* json.c marks integers beyond int64 with "e0": hide it */
				if (len > 2 && strcmp(t + len - 2, "e0") == 0)
					len -= 2;
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value %.*s of key \"%s\" is not an integer "
								"within the range of type bigint",
								(int) len, t, c->json_key)));
			}
			if (c->conv == QSC_INT8)
			{
				if (a->typid == INT8OID)
					return Int64GetDatum(i);
				return input(a, qsjson_text(v, &len));
			}
			if (i == 0 && c->conv == QSC_EPOCH_S_ZERO_NULL)
			{
				*isnull = true;
				return (Datum) 0;
			}
			return epoch_datum(a, i);
		}
		case QSC_NUMERIC:
		{
			size_t len;

			if (k != QSJ_INT && k != QSJ_DOUBLE)
				wrong_type(m, "a number", v);
			return input(a, qsjson_text(v, &len));
		}
		case QSC_JSONB:
		{
			size_t len;

			return input(a, qsjson_text(v, &len));
		}
		case QSC_EXTRA:
		case QSC_PARAM:
			break;
	}
	pg_unreachable();
}

static void
put_row(QsMapper *m, QsJson *row, const QsParams *params,
		Tuplestorestate *store)
{
	MemoryContext old = MemoryContextSwitchTo(m->rowcxt);

	for (int i = 0; i < m->tupdesc->natts; i++)
	{
		QsAttMap *a = &m->atts[i];

		if (a->col == NULL)
		{
			m->values[i] = (Datum) 0;
			m->nulls[i] = true;
			continue;
		}
		m->cur_col = a->col;
		m->values[i] = convert(m, a, row, params, &m->nulls[i]);
	}
	m->cur_col = NULL;
	MemoryContextSwitchTo(old);
	tuplestore_putvalues(store, m->tupdesc, m->values, m->nulls);
	MemoryContextReset(m->rowcxt);
}

void
qs_mapper_put(QsMapper *m, QsJson *doc, const QsParams *params,
			  Tuplestorestate *store)
{
	ErrorContextCallback errcb;
	static const QsParams no_params = {0};
	int n;

	if (params == NULL)
		params = &no_params;

	errcb.callback = mapper_error_context;
	errcb.arg = m;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (qsjson_kind(doc) == QSJ_OBJECT)
	{
		/* a single object (GET /user/{id}) is a one-row list */
		if (m->ep->shape != QS_SHAPE_OBJECTS)
			ereport(
				ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg(
					 "unexpected JSON type in the response of endpoint \"%s\"",
					 m->ep->name),
				 errdetail("The response is an object, expected an array.")));
		m->cur_row = 0;
		put_row(m, doc, params, store);
	}
	else if (qsjson_kind(doc) == QSJ_ARRAY)
	{
		n = qsjson_array_length(doc);
		for (int r = 0; r < n; r++)
		{
			QsJson *row = qsjson_array_get(doc, r);

			m->cur_row = r;
			if (m->ep->shape == QS_SHAPE_OBJECTS &&
				qsjson_kind(row) != QSJ_OBJECT)
				ereport(
					ERROR,
					(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
					 errmsg("unexpected JSON type in the response of endpoint "
							"\"%s\"",
							m->ep->name),
					 errdetail("Element %d is a %s, expected an object.",
							   r + 1, qsjson_kind_name(qsjson_kind(row)))));
			put_row(m, row, params, store);
		}
	}
	else
		ereport(
			ERROR,
			(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
			 errmsg("unexpected JSON type in the response of endpoint \"%s\"",
					m->ep->name),
			 errdetail("The response is a %s, expected an array.",
					   qsjson_kind_name(qsjson_kind(doc)))));

	error_context_stack = errcb.previous;
}
