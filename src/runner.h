/*-------------------------------------------------------------------------
 *
 * runner.h
 *		The shared endpoint runner: sends the requests of a QsRequest one
 *		response at a time, and maps each response into a tuplestore.  The
 *		SQL functions drain it; the FDW pulls a response only when it needs
 *		a row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef QSTASH_RUNNER_H
#define QSTASH_RUNNER_H

#include "utils/tuplestore.h"

#include "fetch.h"
#include "conn.h"
#include "request.h"
#include "mapper.h"

typedef struct QsRunner QsRunner;

/* Sends nothing: requests go out in qs_runner_fetch(). */
extern QsRunner *qs_runner_start(const QsConn *conn, const QsRequest *req,
								 QsMapper *mapper, QsFetchStats *stats);

/*
 * Fetch the next response and append its rows to store (*rows of them,
 * maybe none).  Returns false, fetching nothing, when every response of
 * the request has been fetched.
 */
extern bool qs_runner_fetch(QsRunner *r, Tuplestorestate *store, int64 *rows);

/*
 * Every response, all rows into store (the SQL functions).  Returns the
 * cursor of the next page when a listing stopped at its page budget, NULL
 * when it was read to the end.
 */
extern char *qs_runner_run(const QsConn *conn, const QsRequest *req,
						   QsMapper *mapper, Tuplestorestate *store);

#endif /* QSTASH_RUNNER_H */
