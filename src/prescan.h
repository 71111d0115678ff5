/*-------------------------------------------------------------------------
 *
 * prescan.h
 *		The strict pre-pass over a JSON document, before json-c parses it:
 *		it refuses what json-c accepts and JSON does not (invalid UTF-8,
 *		NaN, duplicate keys, lone surrogates), marks huge integers so that
 *		they keep their text, and finds where the elements of a top-level
 *		array are separated (json.c then reads them one at a time).
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_PRESCAN_H
#define QSTASH_PRESCAN_H

/* The deepest nesting parsed (json-c refuses deeper documents). */
#define QS_JSON_MAX_DEPTH 64

/* Where the elements of a document that is one top-level array are. */
typedef struct QsJsonSeps
{
	size_t *at; /* '[', each top-level ',', ']' (palloc'd), or NULL */
	int n;		/* offsets in at; under 2 when the document is not one
				 * top-level array */
} QsJsonSeps;

/*
 * Returns the document rewritten (huge integers marked with "e0"), or NULL
 * when it needs no rewriting; sets *error (palloc'd, printable) for a
 * document that must be refused.  With seps, also finds the elements of a
 * top-level array (only in a document that is not rewritten).
 */
extern char *qs_prescan(const char *buf, size_t len, QsJsonSeps *seps,
						size_t *newlen, char **error);

#endif /* QSTASH_PRESCAN_H */
