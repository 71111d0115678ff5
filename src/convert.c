/*-------------------------------------------------------------------------
 *
 * convert.c
 *		JSON value -> Datum of one column.  PostgreSQL's own input
 *		functions do the typing (numeric, uuid, jsonb, cidr, ...); direct
 *		conversions are used only where they are exact (text, bigint,
 *		boolean, unix times).  The mapper (mapper.c) picks the value of
 *		each column of a row; this module converts it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "convert.h"
#include "errors.h"
#include "printable.h"

void
qs_convert_init(QsColumnConv *a, const QsColumn *col, const char *endpoint,
				Oid typid, int32 typmod)
{
	memset(a, 0, sizeof(*a));
	a->col = col;
	a->endpoint = endpoint;
	a->typid = typid;
	a->typmod = typmod;
	a->mcxt = CurrentMemoryContext;
}

/* The value v of key (the column's, or its other spelling) is not expected. */
QS_NORETURN static void
wrong_key_type(QsColumnConv *a, const char *key, const char *expected,
			   QsJson *v)
{
	qs_unexpected_json(a->endpoint,
					   psprintf("Key \"%s\" is %s, expected %s.", key,
								qsjson_kind_phrase(qsjson_kind(v)), expected));
}

QS_NORETURN static void
wrong_type(QsColumnConv *a, const char *expected, QsJson *v)
{
	wrong_key_type(a, a->col->json_key ? a->col->json_key : a->col->name,
				   expected, v);
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

/* s through the column type's input function (the database encoding). */
Datum
qs_convert_input(QsColumnConv *a, const char *s)
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
string_datum(QsColumnConv *a, QsJson *v)
{
	size_t len;
	const char *s = qsjson_string(v, &len);

	if (memchr(s, '\0', len) != NULL)
		ereport(
			ERROR,
			(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
			 errmsg(
				 "unexpected NUL character in the response of endpoint \"%s\"",
				 a->endpoint),
			 errdetail("Text values cannot contain \\u0000.")));
	if (a->typid == TEXTOID)
	{
		const char *c = to_server(s, len);

		return PointerGetDatum(
			cstring_to_text_with_len(c, c == s ? (int) len : (int) strlen(c)));
	}
	return qs_convert_input(a, s);
}

/* A unix time in seconds (per_sec 1) or milliseconds (per_sec 1000). */
static Datum
epoch_datum(QsColumnConv *a, int64 value, int per_sec)
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
	return qs_convert_input(a, timestamptz_to_str(t));
}

/* unix milliseconds, sent as a number or as a string of digits */
static Datum
epoch_ms_datum(QsColumnConv *a, QsJson *v, bool *isnull)
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
		wrong_type(a, "unix milliseconds", v);
	if (!ok)
		wrong_type(a, "unix milliseconds within the range of bigint", v);
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
body_bytes(QsColumnConv *a, QsJson *row, const char **data, int *len)
{
	const QsColumn *c = a->col;
	QsJson *b64 = qsjson_object_get(row, c->json_key);
	QsJson *plain = c->alt_key ? qsjson_object_get(row, c->alt_key) : NULL;
	size_t slen;
	const char *s;

	if (qsjson_kind(b64) == QSJ_STRING && (s = qsjson_string(b64, &slen))[0])
	{
		char *buf;
		int n;

		if (slen > (size_t) MaxAllocSize / 2)
			wrong_type(a, "a body of a sane size", b64);
		buf = palloc(pg_b64_dec_len((int) slen) + 1);
		n = qs_b64_decode(s, (int) slen, buf, pg_b64_dec_len((int) slen));
		if (n < 0)
			ereport(
				ERROR,
				(errcode(ERRCODE_QS_UNEXPECTED_RESPONSE),
				 errmsg("invalid base64 in the response of endpoint "
						"\"%s\"",
						a->endpoint),
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
		wrong_type(a, "a base64 string", b64);
	if (plain != NULL && qsjson_kind(plain) != QSJ_NULL)
		wrong_key_type(a, c->alt_key, "a string", plain);
	return false;
}

/* A body column: bytea, or text when the bytes are valid UTF-8. */
Datum
qs_convert_body(QsColumnConv *a, QsJson *row, bool *isnull)
{
	const char *data;
	int len;

	if (!body_bytes(a, row, &data, &len))
		return (Datum) 0;
	if (a->col->conv == QSC_BODY)
	{
		bytea *b = palloc(VARHDRSZ + len);

		SET_VARSIZE(b, VARHDRSZ + len);
		memcpy(VARDATA(b), data, len);
		*isnull = false;
		if (a->typid == BYTEAOID)
			return PointerGetDatum(b);
		/* another declared type reads the bytes' text form, as a cast */
		return qs_convert_input(a, DatumGetCString(DirectFunctionCall1(
									   byteaout, PointerGetDatum(b))));
	}
	if (memchr(data, '\0', len) != NULL ||
		!pg_verify_mbstr(PG_UTF8, data, len, true))
		return (Datum) 0; /* binary: only the bytea column has it */
	*isnull = false;
	if (a->typid == TEXTOID && GetDatabaseEncoding() == PG_UTF8)
		return PointerGetDatum(cstring_to_text_with_len(data, len));
	return qs_convert_input(a, pnstrdup(data, len));
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
parse_gotime(QsColumnConv *a, const char *s, size_t len)
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
						qs_printable(s, len), a->endpoint),
				 errdetail("Expected Go's time format \"2006-01-02 "
						   "15:04:05.999999999 -0700 MST\".")));

	/* the instant: calendar date and clock time minus the offset */
	if (d > day_tab[isleap(y)][mo - 1] || !IS_VALID_JULIAN(y, mo, d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("invalid date in time \"%s\" in the response of "
						"endpoint \"%s\"",
						qs_printable(s, len), a->endpoint)));
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
text_array_literal(QsColumnConv *a, QsJson *arr)
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
			wrong_type(a, "an array of strings", arr);
		s = qsjson_string(e, &len);
		if (memchr(s, '\0', len) != NULL)
			wrong_type(a, "an array of strings without NUL", arr);
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
bool_datum(QsColumnConv *a, QsJson *v)
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
		wrong_type(a,
				   a->col->conv == QSC_BOOL ? "a boolean"
											: "\"true\" or \"false\"",
				   v);
	if (a->typid == BOOLOID)
		return BoolGetDatum(b);
	return qs_convert_input(a, b ? "true" : "false");
}

/* An integer column: bigint, or unix seconds (0 may mean NULL). */
static Datum
integer_datum(QsColumnConv *a, QsJson *v, bool *isnull)
{
	const QsColumn *c = a->col;
	QsJsonKind k = qsjson_kind(v);
	int64 i;
	size_t len;

	if (k != QSJ_INT && k != QSJ_DOUBLE)
		wrong_type(a, "an integer", v);
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
		return qs_convert_input(a, qsjson_text(v, &len));
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
text_array_datum(QsColumnConv *a, QsJson *v)
{
	char *lit;

	if (qsjson_kind(v) != QSJ_ARRAY)
		wrong_type(a, "an array of strings", v);
	lit = text_array_literal(a, v);
	if (a->typid != TEXTARRAYOID)
	{
		/* another type reads text[]'s own text form, as a cast */
		Datum arr = OidInputFunctionCall(F_ARRAY_IN, lit, TEXTOID, -1);

		lit = OidOutputFunctionCall(F_ARRAY_OUT, arr);
	}
	return qs_convert_input(a, lit);
}

/* A column of a JSON value v (not null) of the row. */
Datum
qs_convert_value(QsColumnConv *a, QsJson *v, bool *isnull)
{
	QsJsonKind k = qsjson_kind(v);
	size_t len;

	switch (a->col->conv)
	{
		case QSC_TEXT:
		case QSC_ELEMENT:
			if (k != QSJ_STRING)
				wrong_type(a, "a string", v);
			return string_datum(a, v);
		case QSC_BOOL:
		case QSC_BOOL_STRING:
			return bool_datum(a, v);
		case QSC_INT8:
		case QSC_EPOCH_S:
		case QSC_EPOCH_S_ZERO_NULL:
			return integer_datum(a, v, isnull);
		case QSC_GOTIME:
		{
			const char *t;

			if (k != QSJ_STRING)
				wrong_type(a, "a string", v);
			t = qsjson_string(v, &len);
			if (a->typid == TIMESTAMPTZOID && a->typmod < 0)
				return TimestampTzGetDatum(parse_gotime(a, t, len));
			return qs_convert_input(
				a, timestamptz_to_str(parse_gotime(a, t, len)));
		}
		case QSC_TEXT_ARRAY:
			return text_array_datum(a, v);
		case QSC_NUMERIC:
		case QSC_POINT_VALUE:
		{
			int64 i;

			if (k != QSJ_INT && k != QSJ_DOUBLE)
				wrong_type(a, "a number", v);
			/* exact, and no text round trip (the common case: counts) */
			if (a->typid == NUMERICOID && a->typmod < 0 && qsjson_int64(v, &i))
				return NumericGetDatum(int64_to_numeric(i));
			return qs_convert_input(a, qsjson_text(v, &len));
		}
		case QSC_JSONB:
			return qs_convert_input(a, qsjson_text(v, &len));
		case QSC_EPOCH_MS:
			return epoch_ms_datum(a, v, isnull);
		case QSC_EXTRA:
		case QSC_METRIC:
		case QSC_SERIES:
		case QSC_INSTANCE:
		case QSC_PERIOD:
		case QSC_BODY:
		case QSC_BODY_TEXT:
			/* the mapper's own (mapper.c), never a JSON value's */
			break;
	}
	/* no default above: a conversion added to QsConv is a -Wswitch warning */
	elog(ERROR, "column \"%s\" of endpoint \"%s\": conversion %d has no value",
		 a->col->name, a->endpoint, (int) a->col->conv);
	return (Datum) 0;
}
