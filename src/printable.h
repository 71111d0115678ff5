/*-------------------------------------------------------------------------
 *
 * printable.h
 *		Text from outside (a response, a header, an option value) made safe
 *		to show in a message.  Depends on nothing of pg_qstash, so every
 *		layer can use it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_PRINTABLE_H
#define QSTASH_PRINTABLE_H

/* Most characters of outside text a message shows. */
#define QS_PRINTABLE_MAX 200

/* Printable ASCII, cut to QS_PRINTABLE_MAX characters (palloc'd). */
extern char *qs_printable(const char *s, size_t len);

#endif /* QSTASH_PRINTABLE_H */
