/*-------------------------------------------------------------------------
 *
 * printable.c
 *		Outside text as a message may show it: printable ASCII, bounded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "printable.h"

/* printable ASCII only, cut to QS_PRINTABLE_MAX characters */
char *
qs_printable(const char *s, size_t len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (size_t i = 0; i < len && buf.len < QS_PRINTABLE_MAX; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		appendStringInfoChar(&buf, (c >= 0x20 && c < 0x7f) ? (char) c : '?');
	}
	if (len > (size_t) buf.len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}
