/*-------------------------------------------------------------------------
 *
 * json.c
 *		The json-c island: parsing with limits, after the strict pre-pass
 *		(prescan.c), and accessors that hide json-c's types from the rest
 *		of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include <json-c/json.h>

#include "utils/memutils.h"

#include "json.h"
#include "prescan.h"

#define NODE(p) ((struct json_object *) (p))

/*
 * A document whose top level is an array is not built whole: its root is
 * an empty json-c array standing for it, and each element is parsed when
 * it is asked for (with one tokener, reused), the previous one freed.  A
 * 5 000-element listing then never holds more than one element's tree.
 */
typedef struct QsJsonLazy
{
	const char *buf; /* the document: borrowed, outlives the doc */
	size_t *seps;	 /* '[', each top-level ',', ']' */
	int n;			 /* elements */
	int cur;		 /* the element held, or -1 */
	struct json_object *elem;
	struct json_tokener *tok;
	QsJsonReport report;
	void *report_arg;
} QsJsonLazy;

typedef struct QsJsonDoc
{
	MemoryContextCallback cb;
	struct json_object *root;
	QsJsonLazy *lazy;		/* NULL for a document built whole */
	struct QsJsonDoc *next; /* in lazy_docs */
} QsJsonDoc;

/* The lazy documents alive (a short list: the runner maps one at a time). */
static QsJsonDoc *lazy_docs = NULL;

static void
release_doc(void *arg)
{
	QsJsonDoc *doc = (QsJsonDoc *) arg;

	if (doc->lazy)
	{
		QsJsonDoc **p = &lazy_docs;

		while (*p != NULL && *p != doc)
			p = &(*p)->next;
		if (*p == doc)
			*p = doc->next;
		if (doc->lazy->elem)
			json_object_put(doc->lazy->elem);
		if (doc->lazy->tok)
			json_tokener_free(doc->lazy->tok);
		doc->lazy->elem = NULL;
		doc->lazy->tok = NULL;
	}
	if (doc->root)
		json_object_put(doc->root);
	doc->root = NULL;
}

static QsJsonLazy *
lazy_of(const QsJson *node)
{
	for (QsJsonDoc *d = lazy_docs; d != NULL; d = d->next)
		if ((const QsJson *) d->root == node)
			return d->lazy;
	return NULL;
}

static inline bool
json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Run json-c's tokener over one complete value; *end is where it ends.
 * Returns the error, json_tokener_success for a value (*value NULL for
 * JSON null).
 */
static enum json_tokener_error
run_tokener(struct json_tokener *tok, const char *buf, size_t len, size_t *end,
			struct json_object **value)
{
	struct json_object *root;
	enum json_tokener_error jerr;

	json_tokener_reset(tok);
	root = json_tokener_parse_ex(tok, buf, (int) len);
	jerr = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && root == NULL)
	{
		/* a number or literal at the very end: the terminator completes it */
		root = json_tokener_parse_ex(tok, "", 1);
		/* success with no object: the value is JSON null */
		if (json_tokener_get_error(tok) == json_tokener_success)
		{
			jerr = json_tokener_success;
			*end = len;
		}
	}
	if (jerr != json_tokener_success && root != NULL)
	{
		json_object_put(root);
		root = NULL;
	}
	/* only white space may follow the value */
	while (jerr == json_tokener_success && *end < len && json_ws(buf[*end]))
		(*end)++;
	*value = root;
	return jerr;
}

static struct json_tokener *
new_tokener(void)
{
	struct json_tokener *tok = json_tokener_new_ex(QS_JSON_MAX_DEPTH);

	if (tok != NULL)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
										JSON_TOKENER_VALIDATE_UTF8);
	return tok;
}

/* The error text of a failed run_tokener() (offset: of buf in the document). */
static char *
tokener_error(enum json_tokener_error jerr, size_t end, size_t offset)
{
	if (jerr == json_tokener_continue)
		return pstrdup("the document ends early (truncated JSON)");
	return psprintf("invalid JSON at byte %zu: %s", end + offset,
					json_tokener_error_desc(jerr));
}

/*
 * Run json-c over the whole document.  Returns NULL, with *error set, when
 * it is not one complete JSON value, or is null.
 */
static struct json_object *
tokenize(const char *buf, size_t len, char **error)
{
	struct json_tokener *tok = new_tokener();
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t end;

	if (tok == NULL)
	{
		*error = pstrdup("out of memory");
		return NULL;
	}
	jerr = run_tokener(tok, buf, len, &end, &root);
	json_tokener_free(tok);
	if (jerr != json_tokener_success)
		*error = tokener_error(jerr, end, 0);
	else if (end < len)
	{
		json_object_put(root);
		root = NULL;
		*error = psprintf(
			"unexpected data after the JSON document at byte %zu", end);
	}
	else if (root == NULL)
		*error = pstrdup("the document is null, neither an object nor an "
						 "array");
	return root;
}

/*
 * Can the document be read element by element?  A top-level array that is
 * the whole document (white space around it), not rewritten by the
 * pre-pass (its offsets would be off).
 */
static bool
lazy_possible(const QsJsonSeps *seps, const char *buf, size_t len,
			  bool rewritten)
{
	size_t last;

	if (rewritten || seps->n < 2)
		return false;
	for (size_t i = 0; i < seps->at[0]; i++)
		if (!json_ws(buf[i]))
			return false;
	last = seps->at[seps->n - 1];
	for (size_t i = last + 1; i < len; i++)
		if (!json_ws(buf[i]))
			return false;
	return true;
}

/* The document as a lazy array (see QsJsonLazy). */
static QsJsonDoc *
make_lazy(QsJsonSeps *seps, const char *buf, QsJsonReport report, void *arg)
{
	QsJsonDoc *doc = palloc0(sizeof(QsJsonDoc));
	QsJsonLazy *lz = palloc0(sizeof(QsJsonLazy));
	bool empty = true;

	lz->buf = buf;
	lz->seps = seps->at;
	lz->n = seps->n - 1;
	lz->cur = -1;
	lz->report = report;
	lz->report_arg = arg;
	/* "[ ]" is one span of white space: no element */
	for (size_t i = seps->at[0] + 1; i < seps->at[1] && empty; i++)
		empty = json_ws(buf[i]);
	if (lz->n == 1 && empty)
		lz->n = 0;
	doc->lazy = lz;
	doc->cb.func = release_doc;
	doc->cb.arg = doc;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &doc->cb);
	/* json-c allocates after the callback is in place: nothing can leak */
	doc->root = json_object_new_array();
	lz->tok = new_tokener();
	if (doc->root == NULL || lz->tok == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"),
				 errdetail("Could not allocate a JSON parser.")));
	doc->next = lazy_docs;
	lazy_docs = doc;
	return doc;
}

/* Parse element i of a lazy array, freeing the one held before. */
static struct json_object *
lazy_element(QsJsonLazy *lz, int i)
{
	size_t start;
	size_t len;
	size_t end;
	enum json_tokener_error jerr;
	struct json_object *v;
	char *error = NULL;

	if (i == lz->cur)
		return lz->elem;
	if (lz->elem)
		json_object_put(lz->elem);
	lz->elem = NULL;
	lz->cur = -1;
	start = lz->seps[i] + 1;
	len = lz->seps[i + 1] - start;
	/* leading white space: json-c's offsets then stay the document's */
	while (len > 0 && json_ws(lz->buf[start]))
		start++, len--;
	jerr = run_tokener(lz->tok, lz->buf + start, len, &end, &v);
	if (jerr != json_tokener_success)
		error = len == 0 ? psprintf("invalid JSON at byte %zu: an array "
									"element is missing",
									start)
						 : tokener_error(jerr, end, start);
	else if (end < len)
	{
		json_object_put(v);
		error = psprintf("invalid JSON at byte %zu: unexpected character",
						 start + end);
	}
	if (error != NULL)
		lz->report(lz->report_arg, error); /* does not return */
	lz->elem = v;
	lz->cur = i;
	return v;
}

/*
 * The huge integers the pre-pass marked with "e0" get their text back as
 * sent: a column declared text or json, or "extra", shows the number, not
 * the mark.  Only run on a document that was rewritten.
 */
static void
unmark_huge(struct json_object *o, int depth)
{
	if (depth > QS_JSON_MAX_DEPTH)
		return;
	switch (json_object_get_type(o))
	{
		case json_type_double:
		{
			const char *t = json_object_get_string(o);
			size_t n = t ? strlen(t) : 0;
			size_t i = (n > 2 && t[0] == '-') ? 1 : 0;

			/* at least 19 digits (what the pre-pass marks), then "e0" */
			if (n < 21 + i || strcmp(t + n - 2, "e0") != 0)
				return;
			for (; i < n - 2; i++)
				if (t[i] < '0' || t[i] > '9')
					return;
			{
				char *sent =
					strndup(t, n - 2); /* json-c frees it with free() */

				if (sent != NULL)
					json_object_set_serializer(
						o, json_object_userdata_to_json_string, sent,
						json_object_free_userdata);
				return;
			}
		}
		case json_type_array:
			for (size_t k = 0; k < json_object_array_length(o); k++)
				unmark_huge(json_object_array_get_idx(o, k), depth + 1);
			return;
		case json_type_object:
		{
			json_object_object_foreach(o, key, val)
			{
				(void) key;
				if (val != NULL)
					unmark_huge(val, depth + 1);
			}
			return;
		}
		default:
			return;
	}
}

/*
 * Parse a document.  With a report function, a top-level array is read
 * element by element as the caller asks for them (qsjson_array_get): an
 * element that does not parse is reported through it then, and buf must
 * outlive the document.
 */
QsJson *
qsjson_parse(const char *buf, size_t len, QsJsonReport report, void *arg,
			 char **error)
{
	struct json_object *root;
	char *wide;
	size_t widelen = 0;
	QsJsonDoc *doc;
	QsJsonSeps seps = {0};

	*error = NULL;
	if (len == 0)
	{
		*error = pstrdup("empty document");
		return NULL;
	}
	if (len > INT_MAX)
	{
		*error = pstrdup("the document is too large to parse");
		return NULL;
	}
	wide =
		qs_prescan(buf, len, report != NULL ? &seps : NULL, &widelen, error);
	if (*error != NULL)
		return NULL;
	if (lazy_possible(&seps, buf, len, wide != NULL))
		return (QsJson *) make_lazy(&seps, buf, report, arg)->root;
	if (seps.at)
		pfree(seps.at);
	if (wide)
	{
		buf = wide;
		len = widelen;
	}

	/* allocate before json-c allocates, so no error can leak its tree */
	doc = MemoryContextAllocZero(CurrentMemoryContext, sizeof(QsJsonDoc));
	root = tokenize(buf, len, error);
	if (wide)
	{
		pfree(wide);
		if (root != NULL)
			unmark_huge(root, 0);
	}
	if (root == NULL)
		return NULL;
	doc->root = root;
	doc->cb.func = release_doc;
	doc->cb.arg = doc;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &doc->cb);
	return (QsJson *) root;
}

QsJsonKind
qsjson_kind(const QsJson *node)
{
	if (node == NULL)
		return QSJ_NULL;
	switch (json_object_get_type(NODE(node)))
	{
		case json_type_null:
			return QSJ_NULL;
		case json_type_boolean:
			return QSJ_BOOL;
		case json_type_int:
			return QSJ_INT;
		case json_type_double:
			return QSJ_DOUBLE;
		case json_type_string:
			return QSJ_STRING;
		case json_type_array:
			return QSJ_ARRAY;
		case json_type_object:
			return QSJ_OBJECT;
	}
	return QSJ_NULL;
}

const char *
qsjson_kind_name(QsJsonKind kind)
{
	switch (kind)
	{
		case QSJ_NULL:
			return "null";
		case QSJ_BOOL:
			return "boolean";
		case QSJ_INT:
		case QSJ_DOUBLE:
			return "number";
		case QSJ_STRING:
			return "string";
		case QSJ_ARRAY:
			return "array";
		case QSJ_OBJECT:
			return "object";
	}
	return "unknown";
}

/* "an object", "a string", ...: the kind with its article, for messages */
const char *
qsjson_kind_phrase(QsJsonKind kind)
{
	switch (kind)
	{
		case QSJ_NULL:
			return "null";
		case QSJ_ARRAY:
			return "an array";
		case QSJ_OBJECT:
			return "an object";
		case QSJ_BOOL:
			return "a boolean";
		default:
			return psprintf("a %s", qsjson_kind_name(kind));
	}
}

/*
 * The accessors accept a node of any kind (json-c asserts on the wrong
 * one, which would abort the backend): an array of length 0, an object
 * with no members.
 */
int
qsjson_array_length(const QsJson *node)
{
	QsJsonLazy *lz;

	if (qsjson_kind(node) != QSJ_ARRAY)
		return 0;
	if (lazy_docs != NULL && (lz = lazy_of(node)) != NULL)
		return lz->n;
	return (int) json_object_array_length(NODE(node));
}

/*
 * Element i.  Of a lazy array (see qsjson_parse), valid until the next
 * element of that array is asked for.
 */
QsJson *
qsjson_array_get(const QsJson *node, int i)
{
	QsJsonLazy *lz;

	if (qsjson_kind(node) != QSJ_ARRAY)
		return NULL;
	if (lazy_docs != NULL && (lz = lazy_of(node)) != NULL)
		return i >= 0 && i < lz->n ? (QsJson *) lazy_element(lz, i) : NULL;
	return (QsJson *) json_object_array_get_idx(NODE(node), i);
}

QsJson *
qsjson_object_get(const QsJson *node, const char *key)
{
	struct json_object *v = NULL;

	if (qsjson_kind(node) != QSJ_OBJECT ||
		!json_object_object_get_ex(NODE(node), key, &v))
		return NULL;
	return (QsJson *) v;
}

bool
qsjson_object_next(const QsJson *node, QsJsonIter **iter, const char **key,
				   QsJson **value)
{
	struct lh_entry *e;

	if (qsjson_kind(node) != QSJ_OBJECT)
		return false;
	if (*iter == NULL)
		e = json_object_get_object(NODE(node))->head;
	else
		e = ((struct lh_entry *) *iter)->next;
	if (e == NULL)
		return false;
	*iter = (QsJsonIter *) e;
	*key = (const char *) lh_entry_k(e);
	*value = (QsJson *) lh_entry_v(e);
	return true;
}

const char *
qsjson_string(const QsJson *node, size_t *len)
{
	*len = (size_t) json_object_get_string_len(NODE(node));
	return json_object_get_string(NODE(node));
}

bool
qsjson_bool(const QsJson *node)
{
	return json_object_get_boolean(NODE(node)) != 0;
}

/* true when the value is an integer that fits int64 */
bool
qsjson_int64(const QsJson *node, int64 *out)
{
	struct json_object *o = NODE(node);

	if (json_object_get_type(o) != json_type_int)
		return false;
	/* values above INT64_MAX are held as uint64 */
	if (json_object_get_int64(o) == INT64_MAX &&
		json_object_get_uint64(o) > (uint64) INT64_MAX)
		return false;
	*out = json_object_get_int64(o);
	return true;
}

const char *
qsjson_text(const QsJson *node, size_t *len)
{
	const char *s;

	if (node == NULL)
	{
		*len = 4;
		return "null";
	}
	s = json_object_to_json_string_length(
		NODE(node), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		len);
	return s;
}
