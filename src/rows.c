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
#include "common/base64.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/bytea.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "errors.h"
#include "qstash.h"
#include "rows.h"

typedef struct QsAttMap
{
	const QsColumn *col; /* NULL for a dropped attribute */
	Oid typid;
	int32 typmod;
	FmgrInfo input; /* looked up on first use (fast paths need none) */
	Oid ioparam;
	bool input_ready;
	MemoryContext mcxt; /* where the mapper lives */
} QsAttMap;

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
	QsAttMap *atts;
	bool reveal_secrets;
	const char *objname;
	MemoryContext mcxt; /* where the mapper lives (and its signature) */
	MemoryContext rowcxt;
	Datum *values;
	bool *nulls;
	/* the endpoint's JSON keys, sorted, to spot unknown ones for "extra" */
	const char **known_keys;
	int nknown;
	/* QSC_PARAM values of the response being mapped, converted once */
	Datum *param_values;
	bool *param_nulls;
	/* error context */
	int cur_row;
	const QsColumn *cur_col;
	/* rows kept for the cache (qs_mapper_keep), and what they are for */
	QsCachedRows *keep;
	TupleTableSlot *slot;
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
	m->atts = palloc0(sizeof(QsAttMap) * Max(tupdesc->natts, 1));
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
	/* a copy: a relation's descriptor would be pinned by the slot */
	m->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(tupdesc),
									   &TTSOpsMinimalTuple);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		QsAttMap *a = &m->atts[i];

		if (att->attisdropped)
			continue;
		a->col = qs_endpoint_column(ep, NameStr(att->attname));
		a->typid = att->atttypid;
		a->typmod = att->atttypmod;
		a->mcxt = CurrentMemoryContext;
	}
	return m;
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

QS_NORETURN static void
wrong_type(QsMapper *m, const char *expected, QsJson *v)
{
	qs_unexpected_json(m->ep->name,
					   psprintf("Key \"%s\" is a %s, expected %s.",
								m->cur_col->json_key ? m->cur_col->json_key
													 : m->cur_col->name,
								qsjson_kind_name(qsjson_kind(v)), expected));
}

/*
 * JSON text is UTF-8; the database may use another encoding.  Returns s
 * itself when no conversion is needed.
 */
static const char *
to_server(const char *s, size_t len)
{
	if (GetDatabaseEncoding() == PG_UTF8)
		return s;
	return pg_any_to_server(s, (int) len, PG_UTF8);
}

static Datum
input(QsAttMap *a, const char *s)
{
	if (!a->input_ready)
	{
		Oid infunc;

		getTypeInputInfo(a->typid, &infunc, &a->ioparam);
		fmgr_info_cxt(infunc, &a->input, a->mcxt);
		a->input_ready = true;
	}
	return InputFunctionCall(&a->input, (char *) to_server(s, strlen(s)),
							 a->ioparam, a->typmod);
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
	{
		const char *c = to_server(s, len);

		return PointerGetDatum(
			cstring_to_text_with_len(c, c == s ? (int) len : (int) strlen(c)));
	}
	return input(a, s);
}

/* A unix time in seconds (per_sec 1) or milliseconds (per_sec 1000). */
static Datum
epoch_datum(QsAttMap *a, int64 value, int per_sec)
{
	int64 us_per_unit = USECS_PER_SEC / per_sec;
	/* |value| below this cannot overflow the microsecond arithmetic */
	int64 limit = INT64CONST(9200000000000000000) / us_per_unit;
	TimestampTz t = 0;
	bool ok = false;

	if (value > -limit && value < limit)
	{
		t = (value - ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
					  SECS_PER_DAY * per_sec)) *
			us_per_unit;
		ok = IS_VALID_TIMESTAMP(t);
	}
	if (!ok)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						errmsg("unix time %lld%s is out of range for type "
							   "timestamp with time zone",
							   (long long) value, per_sec == 1 ? "" : " ms")));
	if (a->typid == TIMESTAMPTZOID && a->typmod < 0)
		return TimestampTzGetDatum(t);
	return input(a, timestamptz_to_str(t));
}

/* unix milliseconds, sent as a number or as a string of digits */
static Datum
epoch_ms_datum(QsMapper *m, QsAttMap *a, QsJson *v, bool *isnull)
{
	int64 ms = 0;
	bool ok = false;

	if (qsjson_kind(v) == QSJ_INT)
		ok = qsjson_int64(v, &ms);
	else if (qsjson_kind(v) == QSJ_STRING)
	{
		size_t len;
		const char *s = qsjson_string(v, &len);
		char *end;

		errno = 0;
		ms = strtoll(s, &end, 10);
		ok = len > 0 && len < 20 && errno == 0 && end == s + len &&
			 (*s == '-' || (*s >= '0' && *s <= '9'));
	}
	else
		wrong_type(m, "unix milliseconds", v);
	if (!ok)
		wrong_type(m, "unix milliseconds within the range of bigint", v);
	if (ms == 0)
	{
		*isnull = true; /* "not set" in the API's structs */
		return (Datum) 0;
	}
	return epoch_datum(a, ms, 1000);
}

/*
 * The bytes of a body: the base64 key (json_key) when it holds a non-empty
 * string, else the plain-text key (alt_key).  Returns false when neither is
 * present.
 */
static bool
body_bytes(QsMapper *m, QsJson *row, const char **data, int *len)
{
	const QsColumn *c = m->cur_col;
	QsJson *b64 = qsjson_object_get(row, c->json_key);
	QsJson *plain = c->alt_key ? qsjson_object_get(row, c->alt_key) : NULL;
	size_t slen;
	const char *s;

	if (qsjson_kind(b64) == QSJ_STRING && (s = qsjson_string(b64, &slen))[0])
	{
		char *buf;
		int n;

		if (slen > (size_t) MaxAllocSize / 2)
			wrong_type(m, "a body of a sane size", b64);
		buf = palloc(pg_b64_dec_len((int) slen) + 1);
		n = qs_b64_decode(s, (int) slen, buf, pg_b64_dec_len((int) slen));
		if (n < 0)
			ereport(
				ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg("invalid base64 in the response of endpoint "
						"\"%s\"",
						m->ep->name),
				 errdetail("Key \"%s\" is not valid base64.", c->json_key)));
		*data = buf;
		*len = n;
		return true;
	}
	if (qsjson_kind(plain) == QSJ_STRING)
	{
		*data = qsjson_string(plain, &slen);
		*len = (int) slen;
		return true;
	}
	if (qsjson_kind(b64) == QSJ_STRING) /* "" and no plain key: empty */
	{
		*data = "";
		*len = 0;
		return true;
	}
	if (b64 != NULL && qsjson_kind(b64) != QSJ_NULL)
		wrong_type(m, "a base64 string", b64);
	if (plain != NULL && qsjson_kind(plain) != QSJ_NULL)
		wrong_type(m, "a string", plain);
	return false;
}

/* A body column: bytea, or text when the bytes are valid UTF-8. */
static Datum
body_datum(QsMapper *m, QsAttMap *a, QsJson *row, bool *isnull)
{
	const char *data;
	int len;

	if (!body_bytes(m, row, &data, &len))
		return (Datum) 0;
	if (m->cur_col->conv == QSC_BODY)
	{
		bytea *b = palloc(VARHDRSZ + len);

		SET_VARSIZE(b, VARHDRSZ + len);
		memcpy(VARDATA(b), data, len);
		*isnull = false;
		if (a->typid == BYTEAOID)
			return PointerGetDatum(b);
		/* another declared type reads the bytes' text form, as a cast */
		return input(a, DatumGetCString(DirectFunctionCall1(
							byteaout, PointerGetDatum(b))));
	}
	if (memchr(data, '\0', len) != NULL ||
		!pg_verify_mbstr(PG_UTF8, data, len, true))
		return (Datum) 0; /* binary: only the bytea column has it */
	*isnull = false;
	if (a->typid == TEXTOID && GetDatabaseEncoding() == PG_UTF8)
		return PointerGetDatum(cstring_to_text_with_len(data, len));
	return input(a, pnstrdup(data, len));
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

static bool
read_digits(const char **p, const char *end, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++)
	{
		if (*p >= end || **p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return true;
}

static bool
expect_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * Parse Go's time.Time.String() format:
 *   2025-10-01 11:33:05.585757103 +0000 UTC m=+0.000000001
 * 0-9 fraction digits, a numeric offset, a zone abbreviation (or the offset
 * again), and an optional monotonic-clock suffix.  The offset decides the
 * instant; the fraction is rounded to microseconds.
 */
static TimestampTz
parse_gotime(QsMapper *m, const char *s, size_t len)
{
	const char *p = s;
	const char *end = s + len;
	int y, mo, d, h, mi, sec, oh, om;
	int64 nanos = 0;
	int ndigits = 0;
	char sign;
	bool ok;
	int64 secs;
	TimestampTz t;

	ok = read_digits(&p, end, 4, &y) && expect_char(&p, end, '-') &&
		 read_digits(&p, end, 2, &mo) && expect_char(&p, end, '-') &&
		 read_digits(&p, end, 2, &d) && expect_char(&p, end, ' ') &&
		 read_digits(&p, end, 2, &h) && expect_char(&p, end, ':') &&
		 read_digits(&p, end, 2, &mi) && expect_char(&p, end, ':') &&
		 read_digits(&p, end, 2, &sec);
	if (ok && p < end && *p == '.')
	{
		p++;
		while (p < end && *p >= '0' && *p <= '9' && ndigits < 10)
		{
			nanos = nanos * 10 + (*p - '0');
			ndigits++;
			p++;
		}
		ok = ndigits >= 1 && ndigits <= 9;
		for (int i = ndigits; i < 9; i++)
			nanos *= 10;
	}
	ok =
		ok && expect_char(&p, end, ' ') && p < end && (*p == '+' || *p == '-');
	if (ok)
	{
		sign = *p++;
		ok = read_digits(&p, end, 2, &oh) && read_digits(&p, end, 2, &om);
	}
	/* optional zone abbreviation, then optional " m=+1.234" */
	if (ok && p < end && strncmp(p, " m=", Min(3, end - p)) != 0)
	{
		const char *z;

		ok = expect_char(&p, end, ' ');
		z = p;
		while (p < end && *p != ' ' &&
			   ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
				(*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
				*p == '_' || *p == '/'))
			p++;
		ok = ok && p > z;
	}
	if (ok && p < end)
	{
		ok = end - p > 4 && strncmp(p, " m=", 3) == 0 &&
			 (p[3] == '+' || p[3] == '-');
		for (p += 4; ok && p < end; p++)
			ok = (*p >= '0' && *p <= '9') || *p == '.';
	}
	ok = ok && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
		 mi <= 59 && sec <= 60 && oh <= 15 && om <= 59;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("invalid time \"%s\" in the response of endpoint "
						"\"%s\"",
						qs_printable(s, len), m->ep->name),
				 errdetail("Expected Go's time format \"2006-01-02 "
						   "15:04:05.999999999 -0700 MST\".")));

	/* the instant: calendar date and clock time minus the offset */
	if (d > day_tab[isleap(y)][mo - 1] || !IS_VALID_JULIAN(y, mo, d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("invalid date in time \"%s\" in the response of "
						"endpoint \"%s\"",
						qs_printable(s, len), m->ep->name)));
	secs =
		(int64) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * SECS_PER_DAY +
		h * SECS_PER_HOUR + mi * SECS_PER_MINUTE + sec -
		(sign == '-' ? -1 : 1) * (oh * SECS_PER_HOUR + om * SECS_PER_MINUTE);
	t = secs * USECS_PER_SEC + (nanos + 500) / 1000;
	if (!IS_VALID_TIMESTAMP(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("time \"%s\" is out of range", qs_printable(s, len))));
	return t;
}

/* A JSON array of strings as an array literal for array_in. */
static char *
text_array_literal(QsMapper *m, QsJson *arr)
{
	StringInfoData buf;
	int n = qsjson_array_length(arr);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < n; i++)
	{
		QsJson *e = qsjson_array_get(arr, i);
		size_t len;
		const char *s;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (qsjson_kind(e) == QSJ_NULL)
		{
			appendStringInfoString(&buf, "NULL");
			continue;
		}
		if (qsjson_kind(e) != QSJ_STRING)
			wrong_type(m, "an array of strings", arr);
		s = qsjson_string(e, &len);
		if (memchr(s, '\0', len) != NULL)
			wrong_type(m, "an array of strings without NUL", arr);
		appendStringInfoChar(&buf, '"');
		for (size_t j = 0; j < len; j++)
		{
			if (s[j] == '"' || s[j] == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, s[j]);
		}
		appendStringInfoChar(&buf, '"');
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* A boolean column: JSON true/false, or "true"/"false" (BOOL_STRING). */
static Datum
bool_datum(QsMapper *m, QsAttMap *a, QsJson *v)
{
	QsJsonKind k = qsjson_kind(v);
	bool b;
	size_t len;

	if (k == QSJ_BOOL)
		b = qsjson_bool(v);
	else if (a->col->conv == QSC_BOOL_STRING && k == QSJ_STRING &&
			 parse_bool(qsjson_string(v, &len), &b))
		;
	else
		wrong_type(m,
				   a->col->conv == QSC_BOOL ? "a boolean"
											: "\"true\" or \"false\"",
				   v);
	if (a->typid == BOOLOID)
		return BoolGetDatum(b);
	return input(a, b ? "true" : "false");
}

/* An integer column: bigint, or unix seconds (0 may mean NULL). */
static Datum
integer_datum(QsMapper *m, QsAttMap *a, QsJson *v, bool *isnull)
{
	const QsColumn *c = a->col;
	QsJsonKind k = qsjson_kind(v);
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
				 errmsg("value %.*s of key \"%s\" is not an integer within "
						"the range of type bigint",
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
	return epoch_datum(a, i, 1);
}

/* A text[] column from a JSON array of strings. */
static Datum
text_array_datum(QsMapper *m, QsAttMap *a, QsJson *v)
{
	char *lit;

	if (qsjson_kind(v) != QSJ_ARRAY)
		wrong_type(m, "an array of strings", v);
	lit = text_array_literal(m, v);
	if (a->typid != TEXTARRAYOID)
	{
		/* another type reads text[]'s own text form, as a cast */
		Datum arr = OidInputFunctionCall(F_ARRAY_IN, lit, TEXTOID, -1);

		lit = OidOutputFunctionCall(F_ARRAY_OUT, arr);
	}
	return input(a, lit);
}

/* A column of a JSON value v (not null) of the row. */
static Datum
value_datum(QsMapper *m, QsAttMap *a, QsJson *v, bool *isnull)
{
	QsJsonKind k = qsjson_kind(v);
	size_t len;

	switch (a->col->conv)
	{
		case QSC_TEXT:
		case QSC_ELEMENT:
			if (k != QSJ_STRING)
				wrong_type(m, "a string", v);
			return string_datum(m, a, v);
		case QSC_BOOL:
		case QSC_BOOL_STRING:
			return bool_datum(m, a, v);
		case QSC_INT8:
		case QSC_EPOCH_S:
		case QSC_EPOCH_S_ZERO_NULL:
			return integer_datum(m, a, v, isnull);
		case QSC_GOTIME:
		{
			const char *t;

			if (k != QSJ_STRING)
				wrong_type(m, "a string", v);
			t = qsjson_string(v, &len);
			if (a->typid == TIMESTAMPTZOID && a->typmod < 0)
				return TimestampTzGetDatum(parse_gotime(m, t, len));
			return input(a, timestamptz_to_str(parse_gotime(m, t, len)));
		}
		case QSC_TEXT_ARRAY:
			return text_array_datum(m, a, v);
		case QSC_NUMERIC:
		case QSC_POINT_VALUE:
		{
			int64 i;

			if (k != QSJ_INT && k != QSJ_DOUBLE)
				wrong_type(m, "a number", v);
			/* exact, and no text round trip (the common case: counts) */
			if (a->typid == NUMERICOID && a->typmod < 0 && qsjson_int64(v, &i))
				return NumericGetDatum(int64_to_numeric(i));
			return input(a, qsjson_text(v, &len));
		}
		case QSC_JSONB:
			return input(a, qsjson_text(v, &len));
		case QSC_EPOCH_MS:
			return epoch_ms_datum(m, a, v, isnull);
		default:
			break;
	}
	pg_unreachable();
}

/*
 * Convert one column of one row; sets *isnull.  Columns derived from the
 * row as a whole or from the request are handled here; the others read
 * their JSON value and go to value_datum().
 */
static Datum
convert(QsMapper *m, QsAttMap *a, QsJson *row, const QsPoint *pt, bool *isnull)
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
			return input(a, t);
		}
		case QSC_PARAM:
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
			return input(a, p);
		}
		case QSC_BODY:
		case QSC_BODY_TEXT:
			return body_datum(m, a, row, isnull);
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
	return value_datum(m, a, v, isnull);
}

/* A copy of tuple into store (through the mapper's slot). */
static void
store_tuple(QsMapper *m, MinimalTuple tuple, Tuplestorestate *store)
{
	ExecStoreMinimalTuple(tuple, m->slot, false);
	tuplestore_puttupleslot(store, m->slot);
	ExecClearTuple(m->slot);
}

/* The row in m->values goes to the cache's rows and to store. */
static void
keep_row(QsMapper *m, Tuplestorestate *store)
{
	QsCachedRows *k = m->keep;
	MemoryContext old = MemoryContextSwitchTo(k->cxt);

	if (k->nrows == k->cap)
	{
		k->cap = k->cap ? k->cap * 2 : 64;
		k->tuples =
			k->tuples ? repalloc_huge(k->tuples, sizeof(MinimalTuple) * k->cap)
					  : palloc(sizeof(MinimalTuple) * k->cap);
	}
	k->tuples[k->nrows] =
		qs_form_minimal_tuple(m->tupdesc, m->values, m->nulls);
	MemoryContextSwitchTo(old);
	store_tuple(m, k->tuples[k->nrows++], store);
}

static void
put_row(QsMapper *m, QsJson *row, const QsPoint *pt, Tuplestorestate *store)
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
		m->values[i] = convert(m, a, row, pt, &m->nulls[i]);
	}
	m->cur_col = NULL;
	MemoryContextSwitchTo(old);
	if (m->keep != NULL)
		keep_row(m, store);
	else
		tuplestore_putvalues(store, m->tupdesc, m->values, m->nulls);
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
put_stats(QsMapper *m, QsJson *doc, Tuplestorestate *store)
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
					put_row(m, dp, &pt, store);
					m->cur_row++;
				}
			}
			else if (qsjson_object_get(e, "x") != NULL)
			{
				QsJsonIter *mit = NULL;
				const char *mkey;
				QsJson *mval;

				pt.value = qsjson_object_get(e, "y");
				put_row(m, e, &pt, store);
				m->cur_row++;
				while (qsjson_object_next(e, &mit, &mkey, &mval))
				{
					QsJsonKind k = qsjson_kind(mval);

					if (strcmp(mkey, "x") == 0 || strcmp(mkey, "y") == 0 ||
						(k != QSJ_INT && k != QSJ_DOUBLE))
						continue;
					pt.series = mkey;
					pt.value = mval;
					put_row(m, e, &pt, store);
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
			  Tuplestorestate *store)
{
	ErrorContextCallback errcb;
	static const QsPoint no_point = {0};
	int64 stored = 0;
	bool want_object;

	/* one object for a lookup by id or a one-object endpoint, else a list */
	want_object =
		m->ep->one_object || (target->id != NULL && m->ep->path_by_id != NULL);

	/* request parameters are the same for every row: convert them once */
	for (int i = 0; i < m->tupdesc->natts; i++)
	{
		QsAttMap *a = &m->atts[i];
		const char *p;

		if (a->col == NULL || a->col->conv != QSC_PARAM)
			continue;
		p = strcmp(a->col->name, "qstash_id") == 0 ? target->qstash_id
												   : target->period;
		m->param_nulls[i] = (p == NULL);
		m->param_values[i] = p ? input(a, p) : (Datum) 0;
	}

	errcb.callback = mapper_error_context;
	errcb.arg = m;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (m->ep->shape == QS_SHAPE_STATS)
		stored = put_stats(m, doc, store);
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
			put_row(m, doc, &no_point, store);
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
			if (m->ep->shape != QS_SHAPE_SCALARS &&
				qsjson_kind(row) != QSJ_OBJECT)
				unexpected_shape(
					m, psprintf("Element %d is a %s, expected an object.",
								r + 1, qsjson_kind_name(qsjson_kind(row))));
			put_row(m, row, &no_point, store);
		}
		stored = n;
	}

	error_context_stack = errcb.previous;
	return stored;
}

/*
 * Can rows of this type be kept?  Only types whose input reads nothing
 * but its text and the settings in the signature: not a domain (its
 * constraints may change), not regclass and friends (search_path), not
 * money (lc_monetary), not an extension's type.
 */
static bool
keepable_type(Oid typid)
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
 * What the rows of a mapping depend on besides the response: the
 * endpoint, each column's source and type, whether secrets are shown,
 * and the settings that conversions read (TimeZone, DateStyle,
 * IntervalStyle; bytea_output for a body declared text).  NULL (rows are
 * then not kept) when a column's type is not keepable_type().
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
			QsAttMap *a = &m->atts[i];

			if (a->col != NULL && !keepable_type(a->typid))
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
			QsAttMap *a = &m->atts[i];

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

/*
 * Keep the rows that qs_mapper_put() stores from now on (at most limit,
 * -1 for all), until qs_mapper_keep_end(): a set for the cache, in a
 * context of its own under the current one.  NULL when the mapping has no
 * signature, or qstash.cache_ttl is 0.
 */
QsCachedRows *
qs_mapper_keep(QsMapper *m, int64 limit)
{
	size_t len;
	const char *sig = qs_mapper_signature(m, &len);
	MemoryContext cxt;
	QsCachedRows *k;

	m->keep = NULL;
	/*
	 * Within one statement (cache_ttl 0) rows are not kept: a scan keeps its
	 * own, and the body serves a second mapping; forming every row twice
	 * would cost more than it saves.
	 */
	if (sig == NULL || qs_guc_cache_ttl <= 0)
		return NULL;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "qstash cached rows",
								ALLOCSET_DEFAULT_SIZES);
	k = MemoryContextAllocZero(cxt, sizeof(QsCachedRows));
	k->cxt = cxt;
	k->sig = MemoryContextAlloc(cxt, len);
	memcpy(k->sig, sig, len);
	k->siglen = len;
	k->limit = limit;
	m->keep = k;
	return k;
}

void
qs_mapper_keep_end(QsMapper *m)
{
	m->keep = NULL;
}

/* Store the first max_rows (-1: all) of rows kept by an identical mapping. */
int64
qs_mapper_put_kept(QsMapper *m, const QsCachedRows *rows, int64 max_rows,
				   Tuplestorestate *store)
{
	int64 n = rows->nrows;

	if (max_rows >= 0 && n > max_rows)
		n = max_rows;
	for (int64 i = 0; i < n; i++)
		store_tuple(m, rows->tuples[i], store);
	return n;
}
