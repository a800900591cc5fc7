/*
 * db.h - asynchronous PostgreSQL access inside re_main
 *
 * A small pool of libpq connections (BD_DB_CONNS) driven entirely by the
 * event loop: PQconnectStart/PQconnectPoll to connect, PQsendQueryParams to
 * send, PQsocket registered with fd_listen, PQconsumeInput/PQisBusy/
 * PQgetResult to read.  A connection runs one statement at a time; queries
 * wait in one FIFO queue for the next idle connection.  Every statement is a
 * single SQL statement, hence its own transaction (cdr.c builds the CDR
 * store as one statement of data-modifying CTEs for that reason).
 *
 * Statements registered with bd_db_prepare() are prepared on each connection
 * as it opens (before it takes queries) and then sent with
 * PQsendQueryPrepared, saving the parse and plan on every call.
 *
 * Each connection first runs SET statement_timeout = 10s, lock_timeout = 5s,
 * plan_cache_mode = force_generic_plan (prepared statements are planned
 * once) and application_name = billingd (the change-notify trigger tells
 * billingd's own CDR debits from operators' changes by it).  Connection 0
 * also LISTENs on the channel given to bd_db_listen().
 *
 * A broken connection is closed and reopened with a backoff (250 ms doubling
 * to 5 s).  While no connection is up or connecting, bd_db_query() fails at
 * once with ENOTCONN, so callers answer "unavailable" instead of waiting.
 *
 * Result handler errors:
 *   0          res is PGRES_TUPLES_OK or PGRES_COMMAND_OK
 *   EBADMSG    the server rejected the statement (res carries the message)
 *   EAGAIN     it failed for a transient reason (timeout, lock, deadlock,
 *              resources; res carries the message): retry later
 *   EIO        the connection broke while the statement ran: outcome unknown
 *   ETIMEDOUT  the query waited BD_DB_QUEUE_TIMEOUT_MS in the queue
 *   ENOTCONN   every connection went down while the query was queued
 *
 * Ownership: the bd_db owns its connections and queued queries; the PGresult
 * given to a handler is freed after the handler returns.
 * Threading: re_main thread only.
 * Bus:       none.
 */
#ifndef BD_DB_H
#define BD_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#define BD_DB_CONNS	       4
#define BD_DB_QUEUE_MAX	       20000
#define BD_DB_QUEUE_TIMEOUT_MS 5000

struct bd_db;

typedef void(bd_db_res_h)(int err, const PGresult *res, void *arg);
typedef void(bd_db_state_h)(bool up, void *arg);
/* payload of a NOTIFY, or NULL: the listening connection (re)opened */
typedef void(bd_db_notify_h)(const char *payload, void *arg);

struct bd_db_stats {
	unsigned conns_up;
	unsigned conns_total;
	size_t queued;
	size_t busy;
	unsigned long long queries;
	unsigned long long failures;	  /* statements that failed */
	unsigned long long conn_failures; /* connects failed, links lost */
};

int bd_db_alloc(struct bd_db **dbp, const char *conninfo, unsigned nconn,
		bd_db_state_h *stateh, void *arg);
int bd_db_prepare(struct bd_db *db, const char *sql);
int bd_db_listen(struct bd_db *db, const char *channel, bd_db_notify_h *h,
		 void *arg);
int bd_db_query(struct bd_db *db, const char *sql, int nparams,
		const char *const *params, bd_db_res_h *h, void *arg);
int bd_db_query_bin(struct bd_db *db, const char *sql, int nparams,
		    const char *const *params, const int *lengths,
		    bd_db_res_h *h, void *arg);
int bd_db_copy(struct bd_db *db, const char *sql, const char *data, size_t len,
	       bd_db_res_h *h, void *arg);
bool bd_db_up(const struct bd_db *db);
void bd_db_stats(const struct bd_db *db, struct bd_db_stats *st);
const char *bd_db_errmsg(const PGresult *res);

#endif /* BD_DB_H */
