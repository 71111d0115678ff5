/*-------------------------------------------------------------------------
 *
 * prescan.c
 *		The strict pre-pass over a JSON document, before json-c parses it
 *		(json.c).  No json-c here: one scan over the bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "prescan.h"
#include "printable.h"

/*
 * The strict pre-pass.  json-c (0.16) accepts what JSON does not: NaN and
 * Infinity, a lone UTF-16 surrogate (replaced by U+FFFD), and duplicate
 * keys (the last silently wins).  It also saturates integers outside
 * [INT64_MIN, UINT64_MAX].  One scan over the bytes, before json-c, refuses
 * the first three and gives huge integer literals an exponent ("e0"), so
 * that json-c keeps them as doubles with their original text, which
 * numeric input reads exactly and bigint input rejects.  The grammar itself
 * is left to json-c: this scan only tracks strings, containers and keys.
 */
typedef struct QsKeyRef
{
	const char *key; /* into the buffer, or a decoded copy */
	int len;
	uint32 hash;
} QsKeyRef;

typedef struct QsPrescan
{
	const char *buf;
	size_t len;
	size_t pos;
	char *error;
	/* huge integers rewritten */
	StringInfoData out;
	bool rewritten;
	size_t copied;
	/* keys of the open objects, innermost last; frames[d] is the index of
	 * the first key of container d, or -1 for an array */
	QsKeyRef *keys;
	int nkeys;
	int keycap;
	int frames[QS_JSON_MAX_DEPTH + 1];
	int depth;
	bool expect_key;
	/* a top-level array: where its elements are separated (QsJsonLazy) */
	bool want_seps;
	size_t *seps;
	int nseps;
	int sepcap;
	bool top_closed;
} QsPrescan;

static void
add_sep(QsPrescan *ps)
{
	if (!ps->want_seps)
		return;
	if (ps->nseps == ps->sepcap)
	{
		ps->sepcap = ps->sepcap ? ps->sepcap * 2 : 256;
		ps->seps = ps->seps
					   ? repalloc_huge(ps->seps, sizeof(size_t) * ps->sepcap)
					   : palloc(sizeof(size_t) * ps->sepcap);
	}
	ps->seps[ps->nseps++] = ps->pos;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of the \uXXXX at p (p[0] == '\\'), or -1. */
static int
escape_unit(const char *p, const char *end)
{
	int v = 0;

	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++)
	{
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A key with escapes, decoded (valid escapes only: checked by the scan). */
static char *
decode_key(const char *p, int len, int *outlen)
{
	const char *end = p + len;
	StringInfoData buf;

	initStringInfo(&buf);
	while (p < end)
	{
		if (*p != '\\' || p + 1 >= end)
		{
			appendStringInfoChar(&buf, *p++);
			continue;
		}
		if (p[1] == 'u' && escape_unit(p, end) >= 0)
		{
			pg_wchar cp = escape_unit(p, end);
			unsigned char utf8[8];

			p += 6;
			if (cp >= 0xD800 && cp <= 0xDBFF && escape_unit(p, end) >= 0)
			{
				cp = 0x10000 + ((cp - 0xD800) << 10) +
					 (escape_unit(p, end) - 0xDC00);
				p += 6;
			}
			unicode_to_utf8(cp, utf8);
			appendBinaryStringInfo(&buf, (char *) utf8, pg_utf_mblen(utf8));
			continue;
		}
		{
			/* the one-letter escapes; \" \\ \/ stand for themselves */
			static const char from[] = "bfnrt";
			static const char to[] = "\b\f\n\r\t";
			const char *e = strchr(from, p[1]);

			appendStringInfoChar(&buf, e && p[1] ? to[e - from] : p[1]);
		}
		p += 2;
	}
	*outlen = buf.len;
	return buf.data;
}

static int
cmp_keyref(const void *a, const void *b)
{
	const QsKeyRef *x = (const QsKeyRef *) a;
	const QsKeyRef *y = (const QsKeyRef *) b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len - y->len;
	return memcmp(x->key, y->key, x->len);
}

/* The object whose keys start at index first closes: any key twice? */
static void
check_duplicate_keys(QsPrescan *ps, int first)
{
	int n = ps->nkeys - first;
	QsKeyRef *k = ps->keys + first;

	if (n < 2)
		return;
	qsort(k, n, sizeof(QsKeyRef), cmp_keyref);
	for (int i = 1; i < n; i++)
	{
		if (cmp_keyref(&k[i - 1], &k[i]) == 0)
		{
			ps->error = psprintf("duplicate key \"%s\" in an object ending at "
								 "byte %zu",
								 qs_printable(k[i].key, k[i].len), ps->pos);
			return;
		}
	}
}

static void
add_key(QsPrescan *ps, const char *start, size_t len, bool escaped)
{
	QsKeyRef *k;
	int klen = (int) len;

	if (ps->nkeys == ps->keycap)
	{
		ps->keycap = ps->keycap ? ps->keycap * 2 : 64;
		ps->keys = ps->keys
					   ? repalloc_huge(ps->keys, sizeof(QsKeyRef) * ps->keycap)
					   : palloc(sizeof(QsKeyRef) * ps->keycap);
	}
	k = &ps->keys[ps->nkeys++];
	k->key = escaped ? decode_key(start, klen, &klen) : start;
	k->len = klen;
	k->hash = hash_bytes((const unsigned char *) k->key, klen);
}

/* A string from its opening quote; ps->pos ends after the closing one. */
static void
scan_string(QsPrescan *ps)
{
	const char *buf = ps->buf;
	const char *end = buf + ps->len;
	size_t start = ++ps->pos;
	bool escaped = false;
	bool nul = false;

	while (ps->pos < ps->len && buf[ps->pos] != '"')
	{
		int unit;

		if (buf[ps->pos] != '\\')
		{
			ps->pos++;
			continue;
		}
		escaped = true;
		unit = escape_unit(buf + ps->pos, end);
		if (unit >= 0xD800 && unit <= 0xDBFF)
		{
			int low = escape_unit(buf + ps->pos + 6, end);

			if (low < 0xDC00 || low > 0xDFFF)
			{
				ps->error = psprintf("unpaired UTF-16 surrogate \\u%04X at "
									 "byte %zu",
									 unit, ps->pos);
				return;
			}
			ps->pos += 12;
		}
		else if (unit >= 0xDC00 && unit <= 0xDFFF)
		{
			ps->error = psprintf("unpaired UTF-16 surrogate \\u%04X at byte "
								 "%zu",
								 unit, ps->pos);
			return;
		}
		else
		{
			nul |= (unit == 0);
			ps->pos += unit >= 0 ? 6 : 2;
		}
	}
	if (ps->pos >= ps->len)
		return; /* unterminated: json-c says so */
	if (ps->expect_key && nul)
	{
		/* json-c would cut the key at the NUL: "a\u0000b" would be "a" */
		ps->error = psprintf("a key contains \\u0000 (byte %zu)", start);
		return;
	}
	if (ps->expect_key)
	{
		add_key(ps, buf + start, ps->pos - start, escaped);
		ps->expect_key = false;
	}
	ps->pos++;
}

/* A number; integers beyond int64/uint64 get "e0" appended. */
static void
scan_number(QsPrescan *ps)
{
	const char *buf = ps->buf;
	size_t dstart;
	size_t ndigits;
	bool neg = (buf[ps->pos] == '-');

	if (neg)
		ps->pos++;
	dstart = ps->pos;
	while (ps->pos < ps->len && buf[ps->pos] >= '0' && buf[ps->pos] <= '9')
		ps->pos++;
	ndigits = ps->pos - dstart;
	if (ps->pos < ps->len &&
		(buf[ps->pos] == '.' || buf[ps->pos] == 'e' || buf[ps->pos] == 'E'))
	{
		/* a double: json-c keeps its text; skip the rest of it */
		while (ps->pos < ps->len &&
			   strchr("0123456789.eE+-", buf[ps->pos]) != NULL)
			ps->pos++;
		return;
	}
	if (ndigits >= 19)
	{
		const char *lim = neg ? "9223372036854775808" : "18446744073709551615";
		bool huge;

		if (ndigits != strlen(lim))
			huge = ndigits > strlen(lim);
		else
			huge = strncmp(buf + dstart, lim, ndigits) > 0;
		if (huge)
		{
			if (!ps->rewritten)
			{
				initStringInfo(&ps->out);
				ps->rewritten = true;
			}
			appendBinaryStringInfo(&ps->out, buf + ps->copied,
								   ps->pos - ps->copied);
			appendStringInfoString(&ps->out, "e0");
			ps->copied = ps->pos;
		}
	}
}

/*
 * Returns the rewritten document (NULL when nothing needed rewriting, the
 * common case); sets *error for a document that must be refused.  With
 * ps->want_seps, records where a top-level array's elements are separated.
 */
static char *
scan(QsPrescan *ps, const char *buf, size_t len, size_t *newlen, char **error)
{
	int valid;

	/*
	 * json-c's UTF-8 check lets overlong forms, surrogates and code points
	 * above U+10FFFF through; PostgreSQL's does not.
	 */
	valid = pg_encoding_verifymbstr(PG_UTF8, buf, (int) len);
	if (valid < (int) len)
	{
		*error = psprintf("invalid UTF-8 at byte %d", valid);
		return NULL;
	}
	ps->buf = buf;
	ps->len = len;
	while (ps->pos < len && ps->error == NULL)
	{
		char c = buf[ps->pos];

		switch (c)
		{
			case '"':
				scan_string(ps);
				continue;
			case '{':
			case '[':
				if (ps->depth >= (int) lengthof(ps->frames) - 1)
					goto done; /* json-c refuses the depth */
				if (ps->depth == 0)
				{
					/* only an array that is the whole document is lazy */
					ps->want_seps &= (c == '[' && ps->nseps == 0);
					add_sep(ps);
				}
				ps->frames[++ps->depth] = c == '{' ? ps->nkeys : -1;
				ps->expect_key = (c == '{');
				break;
			case '}':
			case ']':
				if (ps->depth > 0 && ps->frames[ps->depth] >= 0)
				{
					check_duplicate_keys(ps, ps->frames[ps->depth]);
					ps->nkeys = ps->frames[ps->depth];
				}
				if (ps->depth == 1)
				{
					add_sep(ps);
					ps->top_closed = true;
				}
				if (ps->depth > 0)
					ps->depth--;
				ps->expect_key = false;
				break;
			case ',':
				ps->expect_key = ps->depth > 0 && ps->frames[ps->depth] >= 0;
				if (ps->depth == 1)
					add_sep(ps);
				break;
			case 'N':
			case 'I':
				/* NaN, Infinity, -Infinity: no JSON value starts so */
				ps->error = psprintf("NaN and Infinity are not JSON values "
									 "(byte %zu)",
									 ps->pos);
				continue;
			default:
				if (c == '-' || (c >= '0' && c <= '9'))
				{
					scan_number(ps);
					continue;
				}
				break;
		}
		ps->pos++;
	}
done:
	*error = ps->error;
	if (ps->keys)
		pfree(ps->keys);
	ps->keys = NULL;
	if (!ps->rewritten || ps->error)
		return NULL;
	appendBinaryStringInfo(&ps->out, buf + ps->copied, len - ps->copied);
	*newlen = ps->out.len;
	return ps->out.data;
}

char *
qs_prescan(const char *buf, size_t len, QsJsonSeps *seps, size_t *newlen,
		   char **error)
{
	QsPrescan ps = {0};
	char *wide;

	ps.want_seps = (seps != NULL);
	wide = scan(&ps, buf, len, newlen, error);
	if (seps != NULL)
	{
		/* offsets only of an array that is the whole document, closed */
		seps->at = ps.seps;
		seps->n = ps.want_seps && ps.top_closed ? ps.nseps : 0;
	}
	return wide;
}
