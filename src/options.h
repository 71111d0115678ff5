/*-------------------------------------------------------------------------
 *
 * options.h
 *		Option validation: the qstash_fdw validator's checks of one value,
 *		which conn.c repeats on the values it reads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_OPTIONS_H
#define QSTASH_OPTIONS_H

/* The hosts of the APIs when a server does not name others. */
#define QS_DEFAULT_API_URL "https://api.upstash.com"
#define QS_DEFAULT_QSTASH_URL "https://qstash.upstash.io"

extern void qs_option_check_chars(const char *name, const char *value);
extern int qs_option_ms(const char *name, const char *value);
extern bool qs_option_bool(const char *name, const char *value);

#endif /* QSTASH_OPTIONS_H */
