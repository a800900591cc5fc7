/*
 * apiq.h - the HTTP API's database workers: blocking libpq off the loop
 *
 * The configuration model (model/) reads and writes with blocking libpq, and
 * password hashing takes tens of milliseconds: neither may run on billingd's
 * loop, which carries every authorization and CDR.  BD_APIQ_WORKERS threads,
 * each with its own connection (application_name billingd-api, so its
 * writes notify the daemons like anyone else's), run queued jobs in order
 * of arrival; each job's done handler then runs on the loop.
 *
 * A worker whose connection is down tries to reconnect before each job and
 * hands the job conn = NULL when it cannot (the job answers 503).
 *
 * Threading: bd_apiq_* on the loop; work handlers on a worker thread (they
 * must touch nothing of the loop's); done handlers on the loop.
 */
#ifndef BD_APIQ_H
#define BD_APIQ_H

#include <libpq-fe.h>

#define BD_APIQ_WORKERS 2   /* the API's; the alarm checker has one */
#define BD_APIQ_MAX	256 /* queued jobs; beyond: 503 */

struct bd_apiq;

/* on a worker; conn NULL when the database is unreachable or on shutdown */
typedef void(bd_apiq_work_h)(PGconn *conn, void *arg);
/* on the loop, after work */
typedef void(bd_apiq_done_h)(void *arg);

int bd_apiq_alloc(struct bd_apiq **qp, const char *conninfo, size_t nworkers);
int bd_apiq_run(struct bd_apiq *q, bd_apiq_work_h *work, bd_apiq_done_h *done,
		void *arg);

#endif /* BD_APIQ_H */
