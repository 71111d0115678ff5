/*-------------------------------------------------------------------------
 *
 * json.h
 *		Opaque access to parsed JSON.  json-c is used only in json.c:
 *		its json_object type clashes with PostgreSQL's utils/builtins.h.
 *
 * A parsed document belongs to a memory context: a reset callback on that
 * context releases the json-c tree, so an error anywhere frees it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_JSON_H
#define QSTASH_JSON_H

typedef struct QsJson QsJson; /* a node of a parsed document */

typedef enum QsJsonKind
{
	QSJ_NULL,
	QSJ_BOOL,
	QSJ_INT,
	QSJ_DOUBLE,
	QSJ_STRING,
	QSJ_ARRAY,
	QSJ_OBJECT
} QsJsonKind;

/*
 * Reports an element of a lazily read array that does not parse (message
 * in error); must not return (it raises an ERROR).
 */
typedef void (*QsJsonReport)(void *arg, const char *error);

/*
 * Parse; on failure returns NULL and sets *error (palloc'd, printable).
 * With report non-NULL, a top-level array is parsed one element at a time
 * as qsjson_array_get() reaches it, and buf must outlive the document.
 */
extern QsJson *qsjson_parse(const char *buf, size_t len, QsJsonReport report,
							void *arg, char **error);

extern QsJsonKind qsjson_kind(const QsJson *node);
extern const char *qsjson_kind_name(QsJsonKind kind);
extern const char *qsjson_kind_phrase(QsJsonKind kind);
extern int qsjson_array_length(const QsJson *node);
extern QsJson *qsjson_array_get(const QsJson *node, int i);
extern QsJson *qsjson_object_get(const QsJson *node, const char *key);

/* Object iteration: call with *iter = NULL first; returns false at end. */
typedef struct QsJsonIter QsJsonIter;
extern bool qsjson_object_next(const QsJson *node, QsJsonIter **iter,
							   const char **key, QsJson **value);

extern const char *qsjson_string(const QsJson *node, size_t *len);
extern bool qsjson_bool(const QsJson *node);
extern bool qsjson_int64(const QsJson *node, int64 *out);

/* The value as compact JSON text; numbers keep the text they were sent as. */
extern const char *qsjson_text(const QsJson *node, size_t *len);

#endif /* QSTASH_JSON_H */
