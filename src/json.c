/*-------------------------------------------------------------------------
 *
 * json.c
 *		The json-c island: parsing with limits, and accessors that hide
 *		json-c's types from the rest of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include <json-c/json.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "json.h"

#define QS_JSON_MAX_DEPTH 64

#define NODE(p) ((struct json_object *) (p))

typedef struct QsJsonDoc
{
	MemoryContextCallback cb;
	struct json_object *root;
} QsJsonDoc;

static void
release_doc(void *arg)
{
	QsJsonDoc *doc = (QsJsonDoc *) arg;

	if (doc->root)
		json_object_put(doc->root);
	doc->root = NULL;
}

/*
 * json-c saturates integers outside [INT64_MIN, UINT64_MAX] silently.  Give
 * such literals an exponent ("e0") so json-c keeps them as doubles with
 * their original text, which numeric input reads exactly and bigint input
 * rejects.  Returns NULL when nothing needed rewriting (the common case).
 */
static char *
widen_huge_integers(const char *buf, size_t len, size_t *newlen)
{
	StringInfoData out;
	bool in_string = false;
	bool rewritten = false;
	size_t copied = 0;
	size_t i = 0;

	while (i < len)
	{
		char c = buf[i];

		if (in_string)
		{
			if (c == '\\')
				i += 2;
			else
			{
				if (c == '"')
					in_string = false;
				i++;
			}
			continue;
		}
		if (c == '"')
		{
			in_string = true;
			i++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9'))
		{
			size_t dstart;
			size_t ndigits;
			bool neg = (c == '-');

			if (neg)
				i++;
			dstart = i;
			while (i < len && buf[i] >= '0' && buf[i] <= '9')
				i++;
			ndigits = i - dstart;
			if (i < len && (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E'))
			{
				/* a double: json-c keeps its text; skip the rest of it */
				while (i < len && strchr("0123456789.eE+-", buf[i]) != NULL)
					i++;
				continue;
			}
			if (ndigits >= 19)
			{
				const char *lim =
					neg ? "9223372036854775808" : "18446744073709551615";
				bool huge;

				if (ndigits != strlen(lim))
					huge = ndigits > strlen(lim);
				else
					huge = strncmp(buf + dstart, lim, ndigits) > 0;
				if (huge)
				{
					if (!rewritten)
					{
						initStringInfo(&out);
						rewritten = true;
					}
					appendBinaryStringInfo(&out, buf + copied, i - copied);
					appendStringInfoString(&out, "e0");
					copied = i;
				}
			}
			continue;
		}
		i++;
	}
	if (!rewritten)
		return NULL;
	appendBinaryStringInfo(&out, buf + copied, len - copied);
	*newlen = out.len;
	return out.data;
}

QsJson *
qsjson_parse(const char *buf, size_t len, char **error)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t end;
	char *wide;
	size_t widelen = 0;
	QsJsonDoc *doc;

	*error = NULL;
	if (len > INT_MAX)
	{
		*error = pstrdup("the document is too large to parse");
		return NULL;
	}
	wide = widen_huge_integers(buf, len, &widelen);
	if (wide)
	{
		buf = wide;
		len = widelen;
	}

	/* allocate before json-c allocates, so no error can leak its tree */
	doc = MemoryContextAllocZero(CurrentMemoryContext, sizeof(QsJsonDoc));

	tok = json_tokener_new_ex(QS_JSON_MAX_DEPTH);
	if (tok == NULL)
	{
		*error = pstrdup("out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok,
						   JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int) len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue)
	{
		if (root)
			json_object_put(root);
		root = NULL;
		*error = pstrdup("the document ends early (truncated JSON)");
	}
	else if (jerr != json_tokener_success)
	{
		if (root)
			json_object_put(root);
		root = NULL;
		*error = psprintf("invalid JSON at byte %zu: %s", end,
						  json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	if (root == NULL)
	{
		if (*error == NULL)
			*error = pstrdup("empty document");
		return NULL;
	}

	/* only white space may follow the document */
	while (end < len && (buf[end] == ' ' || buf[end] == '\t' ||
						 buf[end] == '\r' || buf[end] == '\n'))
		end++;
	if (end < len)
	{
		json_object_put(root);
		*error = psprintf(
			"unexpected data after the JSON document at byte %zu", end);
		return NULL;
	}

	doc->root = root;
	doc->cb.func = release_doc;
	doc->cb.arg = doc;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &doc->cb);
	if (wide)
		pfree(wide);
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

int
qsjson_array_length(const QsJson *node)
{
	return (int) json_object_array_length(NODE(node));
}

QsJson *
qsjson_array_get(const QsJson *node, int i)
{
	return (QsJson *) json_object_array_get_idx(NODE(node), i);
}

QsJson *
qsjson_object_get(const QsJson *node, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(NODE(node), key, &v))
		return NULL;
	return (QsJson *) v;
}

bool
qsjson_object_next(const QsJson *node, QsJsonIter **iter, const char **key,
				   QsJson **value)
{
	struct lh_entry *e;

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
