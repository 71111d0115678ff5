/*-------------------------------------------------------------------------
 *
 * request.c
 *		A request plan with its values (QsRequest): the evaluation of its
 *		parameters when a scan starts, the list of the requests it sends,
 *		and the one rendering of a request path.
 *
 * qs_request_steps() is the only code that decides which requests a scan
 * sends, and qs_request_path() the only code that writes a path or a query
 * string: the runner sends what they return, and EXPLAIN VERBOSE shows
 * what they return (qs_request_explain), so the two cannot drift.  Query
 * parameters come in catalog order (the order of the endpoint's filters),
 * then fromDate, toDate and the cursor.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"

#include "request.h"

/* The cursor argument that renders "&cursor={cursor}" for EXPLAIN. */
const char *const qs_request_next_cursor = "{cursor}";

/* Percent-encode UTF-8 text (RFC 3986 unreserved characters kept). */
static char *
escape_utf8(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			c == '~')
			appendStringInfoChar(&buf, (char) c);
		else
			appendStringInfo(&buf, "%%%02X", c);
	}
	return buf.data;
}

/* A value from SQL (database encoding), percent-encoded as UTF-8. */
static char *
escape_segment(const char *s)
{
	return escape_utf8(pg_server_to_any(s, strlen(s), PG_UTF8));
}

/*
 * An id as one path segment: percent-encoded, and "." or ".." with their
 * dots encoded too, so that no server or client resolves them as the
 * current or parent directory ("/v2/schedules/.." is not "/v2/").
 */
static char *
escape_path_id(const char *id)
{
	char *seg = escape_segment(id);

	if (strspn(seg, ".") == strlen(seg))
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (const char *p = seg; *p; p++)
			appendStringInfoString(&buf, "%2E");
		return buf.data;
	}
	return seg;
}

/*
 * A time bound in unix milliseconds for the API's inclusive fromDate /
 * toDate: t itself (strict: excluded) as a lower or upper bound.  Exact for
 * the times the API holds (whole milliseconds).  Returns false when no row
 * can match; *bounded is false for an infinite bound that excludes nothing.
 */
static bool
time_bound_ms(TimestampTz t, bool lower, bool strict, int64 *ms, bool *bounded)
{
	int64 us;
	int64 lo;
	int64 hi;

	*bounded = false;
	if (TIMESTAMP_IS_NOBEGIN(t))
		return lower; /* >= -infinity: everything; <= -infinity: nothing */
	if (TIMESTAMP_IS_NOEND(t))
		return !lower;
	if (pg_add_s64_overflow(t,
							(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
								SECS_PER_DAY * USECS_PER_SEC,
							&us))
		return !lower; /* beyond every time the API can hold */
	lo = us / 1000 - ((us % 1000) < 0 ? 1 : 0); /* floor */
	hi = lo + ((us % 1000) != 0 ? 1 : 0);		/* ceiling */
	if (lower)
		*ms = strict ? lo + 1 : hi;
	else
		*ms = strict ? hi - 1 : lo;
	/*
	 * The API's times are positive (0 means "not set", which is NULL in
	 * SQL): a bound before 1970 excludes nothing as a lower bound and
	 * everything as an upper one.  It is not sent.
	 */
	if (*ms <= 0)
		return lower;
	*bounded = true;
	return true;
}

/*
 * Narrow the time range of r by t as a lower or upper bound (strict: t
 * excluded).  Returns false when no row can match any more.
 */
static bool
request_add_bound(QsRequest *r, TimestampTz t, bool lower, bool strict)
{
	int64 ms = 0;
	bool bounded;

	if (!time_bound_ms(t, lower, strict, &ms, &bounded))
		return false;
	if (bounded && lower)
	{
		r->from_ms = r->has_from ? Max(r->from_ms, ms) : ms;
		r->has_from = true;
	}
	else if (bounded)
	{
		r->to_ms = r->has_to ? Min(r->to_ms, ms) : ms;
		r->has_to = true;
	}
	return !(r->has_from && r->has_to && r->from_ms > r->to_ms);
}

/* The text of a value of type typid, through the type's output function. */
static char *
datum_text(Datum d, Oid typid)
{
	Oid outfunc;
	bool varlena;

	getTypeOutputInfo(typid, &outfunc, &varlena);
	return OidOutputFunctionCall(outfunc, d);
}

/* Text values of a parameter: one, or the distinct non-null elements. */
static List *
param_values(Datum d, Oid typid, bool array)
{
	ArrayType *arr;
	Datum *elems;
	bool *nulls;
	int n;
	int16 typlen;
	bool typbyval;
	char typalign;
	List *values = NIL;

	if (!array)
		return list_make1(datum_text(d, typid));
	arr = DatumGetArrayTypeP(d);
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char *v;
		ListCell *lc;
		bool seen = false;

		if (nulls[i])
			continue;
		v = datum_text(elems[i], ARR_ELEMTYPE(arr));
		foreach (lc, values)
			seen |= strcmp((char *) lfirst(lc), v) == 0;
		if (!seen)
			values = lappend(values, v);
	}
	return values;
}

/* Put the values of one parameter into r; false when no row can match. */
static bool
apply_param(QsRequest *r, const QsPlanParam *p, Datum d, bool fold_case)
{
	List *values;

	if (p->filter->kind == QSF_TIME)
		return request_add_bound(r, DatumGetTimestampTz(d),
								 qs_plan_op_is_lower(p->op),
								 p->op == QS_OP_GT || p->op == QS_OP_LT);
	values = param_values(d, exprType((Node *) p->value), p->op == QS_OP_IN);
	if (p->filter->kind != QSF_PERIOD)
	{
		/*
		 * No id, name or state of the API is empty, and an empty query
		 * value would be ignored (the whole listing sent): the empty value
		 * matches no row, as the empty path id does.
		 */
		ListCell *lc;

		foreach (lc, values)
			if (((char *) lfirst(lc))[0] == '\0')
				values = foreach_delete_current(values, lc);
	}
	if (values == NIL)
		return false; /* IN of nothing but NULLs or empty values */
	switch (p->filter->kind)
	{
		case QSF_PATH_ID:
			r->ids = values;
			break;
		case QSF_INSTANCE:
			r->qstash_ids = values;
			break;
		case QSF_PERIOD:
		{
			ListCell *lc;

			foreach (lc, values)
				qs_check_period((const char *) lfirst(lc));
			r->periods = values;
			break;
		}
		case QSF_QUERY:
		case QSF_ELEMENT:
		{
			QsFilterValues *fv = palloc(sizeof(QsFilterValues));
			ListCell *lc;

			/* a value outside the API's set fails before any request */
			foreach (lc, values)
				lfirst(lc) = (void *) qs_filter_value(
					p->filter, (const char *) lfirst(lc), fold_case);

			fv->filter = p->filter;
			fv->values = values;
			r->filters = lappend(r->filters, fv);
			break;
		}
		case QSF_TIME:
			break;
	}
	return true;
}

/*
 * Evaluate the parameters of a plan: exprstates are their initialized
 * expressions (a foreign scan), or NIL when every value is a Const (the
 * SQL functions).  A NULL value matches no row.  Sends nothing.
 */
QsRequest *
qs_request_resolve(const QsRequestPlan *plan, List *exprstates,
				   ExprContext *econtext)
{
	QsRequest *r = palloc0(sizeof(QsRequest));
	ListCell *lp;
	int i = 0;

	r->ep = plan->ep;
	r->has_limit = plan->has_limit;
	r->limit = plan->limit;
	foreach (lp, plan->params)
	{
		const QsPlanParam *p = (const QsPlanParam *) lfirst(lp);
		Datum d;
		bool isnull;

		if (exprstates != NIL)
			d = ExecEvalExpr((ExprState *) list_nth(exprstates, i), econtext,
							 &isnull);
		else
		{
			d = castNode(Const, p->value)->constvalue;
			isnull = castNode(Const, p->value)->constisnull;
		}
		i++;
		if (isnull || !apply_param(r, p, d, plan->fold_case))
			r->empty = true;
	}
	if (r->ep->takes_period && r->periods == NIL)
		r->periods = list_make1(QS_DEFAULT_PERIOD);
	return r;
}

/* Rows to ask for in the next page, after rows_so_far rows. */
int64
qs_request_page_size(const QsRequest *r, int64 rows_so_far)
{
	if (r->has_limit && r->limit - rows_so_far < QS_PAGE_SIZE)
		return r->limit - rows_so_far;
	return QS_PAGE_SIZE;
}

/* "&name=value&...": the query parameters of a paged listing */
static void
append_listing_query(StringInfo buf, const QsRequest *r)
{
	ListCell *lc;
	ListCell *lv;

	foreach (lc, r->filters)
	{
		QsFilterValues *fv = (QsFilterValues *) lfirst(lc);

		foreach (lv, fv->values)
			appendStringInfo(buf, "&%s=%s", fv->filter->query,
							 escape_segment((const char *) lfirst(lv)));
	}
	if (r->has_from)
		appendStringInfo(buf, "&fromDate=" INT64_FORMAT, r->from_ms);
	if (r->has_to)
		appendStringInfo(buf, "&toDate=" INT64_FORMAT, r->to_ms);
}

/*
 * The path and query string of one GET of r: the response t of a fan-out,
 * count rows and the page after cursor (NULL: the first page) of a paged
 * listing.  The one place that writes a request.
 */
char *
qs_request_path(const QsRequest *r, const QsTarget *t, int64 count,
				const char *cursor)
{
	const QsEndpoint *ep = r->ep;
	StringInfoData buf;

	initStringInfo(&buf);
	if (ep->access == QS_ACCESS_PER_INSTANCE)
		appendStringInfo(&buf, ep->path,
						 t->qstash_id ? escape_path_id(t->qstash_id)
									  : "{qstash_id}");
	else if (t->id != NULL)
		appendStringInfo(&buf, ep->path_by_id, escape_path_id(t->id));
	else
		appendStringInfoString(&buf, ep->path);
	if (ep->takes_period)
		appendStringInfo(&buf, "?period=%s", escape_segment(t->period));
	if (ep->access == QS_ACCESS_PAGED)
	{
		appendStringInfo(&buf, "?count=" INT64_FORMAT, count);
		append_listing_query(&buf, r);
		if (cursor == qs_request_next_cursor)
			appendStringInfoString(&buf, "&cursor={cursor}");
		else if (cursor != NULL)
			appendStringInfo(&buf, "&cursor=%s", escape_utf8(cursor));
	}
	return buf.data;
}

static QsStep *
make_step(QsStepKind kind, const QsTarget *t, bool missing_ok)
{
	QsStep *s = palloc0(sizeof(QsStep));

	s->kind = kind;
	if (t != NULL)
		s->target = *t;
	s->missing_ok = missing_ok;
	return s;
}

/*
 * The requests of r, in the order they are sent; NIL when none is (no row
 * can match).  A key or instance the caller gives may be unknown to the
 * API (HTTP 404: no rows); no object has the empty key, so it is not sent.
 */
List *
qs_request_steps(const QsRequest *r)
{
	const QsEndpoint *ep = r->ep;
	QsTarget t = {.shape = ep->shape};
	List *steps = NIL;
	ListCell *l1;
	ListCell *l2;

	if (r->empty)
		return NIL;
	switch (ep->access)
	{
		case QS_ACCESS_PAGED:
			return list_make1(make_step(QS_STEP_PAGES, &t, false));
		case QS_ACCESS_LIST:
			return list_make1(make_step(QS_STEP_GET, &t, false));
		case QS_ACCESS_KEYED:
			if (r->ids == NIL)
				return list_make1(make_step(QS_STEP_GET, &t, false));
			t.shape = QS_SHAPE_OBJECT;
			foreach (l1, r->ids)
			{
				t.id = (const char *) lfirst(l1);
				if (t.id[0] != '\0')
					steps = lappend(steps, make_step(QS_STEP_GET, &t, true));
			}
			return steps;
		case QS_ACCESS_PER_INSTANCE:
			if (r->qstash_ids == NIL)
				steps = list_make1(make_step(QS_STEP_INSTANCES, NULL, false));
			foreach (l1, r->periods)
			{
				t.period = (const char *) lfirst(l1);
				if (r->qstash_ids == NIL)
					steps = lappend(
						steps, make_step(QS_STEP_EACH_INSTANCE, &t, false));
				foreach (l2, r->qstash_ids)
				{
					t.qstash_id = (const char *) lfirst(l2);
					if (t.qstash_id[0] != '\0')
						steps =
							lappend(steps, make_step(QS_STEP_GET, &t, true));
				}
			}
			return steps;
	}
	/* no default above: an access added to QsAccess is a -Wswitch warning */
	elog(ERROR, "endpoint \"%s\": access %d has no steps", r->ep->name,
		 (int) r->ep->access);
	return NIL;
}

/*
 * The path of a step other than QS_STEP_PAGES (whose pages the runner
 * renders with qs_request_path).  QS_STEP_EACH_INSTANCE: with
 * "{qstash_id}" for the instances.
 */
char *
qs_request_step_path(const QsRequest *r, const QsStep *s)
{
	Assert(s->kind != QS_STEP_PAGES);
	if (s->kind == QS_STEP_INSTANCES)
		return pstrdup(qs_instances_endpoint()->path);
	return qs_request_path(r, &s->target, 0, NULL);
}

/* The requests of r as EXPLAIN VERBOSE shows them: qs_request_steps(). */
List *
qs_request_explain(const QsRequest *r)
{
	List *steps = qs_request_steps(r);
	List *out = NIL;
	ListCell *lc;
	if (steps == NIL)
		return list_make1("none: no row can match");
	foreach (lc, steps)
	{
		const QsStep *s = (const QsStep *) lfirst(lc);

		switch (s->kind)
		{
			case QS_STEP_PAGES:
				out = lappend(
					out, psprintf("GET %s",
								  qs_request_path(r, &s->target,
												  qs_request_page_size(r, 0),
												  NULL)));
				out = lappend(
					out, psprintf("then GET %s while the API returns a "
								  "cursor",
								  qs_request_path(r, &s->target, QS_PAGE_SIZE,
												  qs_request_next_cursor)));
				break;
			case QS_STEP_EACH_INSTANCE:
				out = lappend(out, psprintf("GET %s for each instance",
											qs_request_step_path(r, s)));
				break;
			case QS_STEP_GET:
			case QS_STEP_INSTANCES:
				out = lappend(out,
							  psprintf("GET %s", qs_request_step_path(r, s)));
				break;
		}
	}
	return out;
}
