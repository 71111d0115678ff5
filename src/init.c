/*-------------------------------------------------------------------------
 *
 * init.c
 *		Module entry point: _PG_init() defines the qstash.* settings, sets
 *		up the shared state when the library is preloaded, and libcurl.
 *
 * Kept apart from the settings (qstash.c), which every module reads: the
 * entry point calls into the modules, and no module calls it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "http.h"
#include "qstash.h"
#include "shared.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
	qs_guc_define();

	qs_shared_init();

	MarkGUCPrefixReserved("qstash");

	qs_http_init();
}
