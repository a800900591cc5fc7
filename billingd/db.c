/*
 * db.c - libpq connection pool and query queue on the re_main loop
 *
 * Each connection is a small state machine:
 *
 *   DOWN --retry timer--> CONNECTING --PQconnectPoll OK--> IDLE <--> BUSY
 *     ^                        |                              |        |
 *     +------- failure --------+------------------------------+--------+
 *
 * The socket is registered with fd_listen for whatever libpq waits for
 * (read while connecting/reading, write while a send is not flushed).  An
 * idle connection keeps listening for reads so a server that goes away is
 * noticed at once, not at the next query.
 */
#define SW_LOG_MODULE "db"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/db.h"
#include "common/log.h"
#include "common/swtime.h"

#define RETRY_MIN_MS	   250
#define RETRY_MAX_MS	   5000
#define SWEEP_MS	   500
#define CONNECT_TIMEOUT_MS 10000
#define MAX_STMTS	   32 /* bits of db_conn.prepared */

/*
 * Run first on every connection: nothing may hold a connection forever (a
 * lock left by an operator's open transaction, a runaway plan); such a
 * statement fails as "transient" and its caller answers "unavailable".
 */
/* generic plans: the prepared statements are planned once per connection,
 * not on every call (the lookup's plan costs more than its execution) */
#define SESSION_SQL                                                            \
	"SET statement_timeout = '10s'; SET lock_timeout = '5s';"              \
	" SET plan_cache_mode = force_generic_plan;"                           \
	" SET application_name = 'billingd'"

enum conn_state {
	CONN_DOWN = 0,
	CONN_CONNECTING,
	CONN_PREPARING, /* up, preparing the registered statements */
	CONN_IDLE,
	CONN_BUSY,
};

struct bd_db_query {
	struct le le;
	const char *sql; /* borrowed: static SQL text */
	int nparams;
	char **params; /* owned: one block, NULL entries allowed */
	int *lengths;  /* in params' block: binary, or NULL: text */
	int *formats;  /* in params' block: all 1, or NULL */
	/* bd_db_copy: sql (in the block) runs as one simple query whose COPY
	 * FROM STDIN reads these bytes (in the block) */
	const char *copy;
	size_t copy_len;
	bd_db_res_h *h;
	void *arg;
	int64_t queued_ms;
};

struct db_conn {
	struct bd_db *db; /* borrowed back-pointer */
	unsigned idx;
	enum conn_state state;
	PGconn *pg;	/* owned */
	int fd;		/* registered with fd_listen, -1 = none */
	int flags;	/* what fd_listen currently waits for */
	struct tmr tmr; /* reconnect */
	unsigned backoff_ms;
	bool was_up;	       /* for one log line per outage */
	struct bd_db_query *q; /* owned: the statement in flight */
	PGresult *res;	       /* owned: its result so far */
	uint32_t prepared;     /* bit i: stmts[i] is prepared here */
	unsigned prep_idx;     /* next statement to prepare */
	bool session_set;      /* SESSION_SQL done on this connection */
	int64_t connect_ms;    /* when the current attempt started */
};

/* a statement prepared on every connection (bd_db_prepare) */
struct db_stmt {
	const char *sql; /* borrowed: static text, matched by pointer */
	char name[16];
};

struct bd_db {
	char *conninfo;	       /* owned */
	struct db_conn *conns; /* owned array */
	unsigned nconn;
	struct list queue; /* struct bd_db_query, FIFO */
	size_t queued;
	unsigned up; /* connections IDLE or BUSY */
	bool was_up;
	struct tmr sweep;
	struct tmr kick; /* dispatch on the next loop turn */
	bd_db_state_h *stateh;
	void *arg;
	unsigned long long queries, failures;
	unsigned long long conn_failures; /* connects failed, links lost */
	struct db_stmt stmts[MAX_STMTS];
	unsigned nstmts;
	char listen_sql[80]; /* LISTEN <channel> (connection 0 only) */
	bd_db_notify_h *notifyh;
	void *notify_arg;
};

static void conn_start(void *arg);
static void dispatch(struct bd_db *db);
static void conn_fail(struct db_conn *c, const char *why);
static const char *pq_why(const struct db_conn *c);
static int conn_listen(struct db_conn *c, int flags);

static void query_destructor(void *arg)
{
	struct bd_db_query *q = arg;

	list_unlink(&q->le);
	mem_deref(q->params);
}

static void conn_unlisten(struct db_conn *c)
{
	if (c->fd >= 0)
		fd_close(c->fd);
	c->fd = -1;
	c->flags = 0;
}

static void conn_close(struct db_conn *c)
{
	conn_unlisten(c);
	if (c->res)
		PQclear(c->res);
	c->res = NULL;
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
}

static void db_destructor(void *arg)
{
	struct bd_db *db = arg;

	tmr_cancel(&db->sweep);
	tmr_cancel(&db->kick);
	for (unsigned i = 0; db->conns && i < db->nconn; i++) {
		struct db_conn *c = &db->conns[i];

		tmr_cancel(&c->tmr);
		conn_close(c);
		c->q = mem_deref(c->q);
	}
	list_flush(&db->queue);
	mem_deref(db->conns);
	mem_deref(db->conninfo);
}

static void count_up(struct bd_db *db)
{
	bool up;

	db->up = 0;
	for (unsigned i = 0; i < db->nconn; i++) {
		if (db->conns[i].state >= CONN_IDLE)
			db->up++;
	}

	up = db->up > 0;
	if (up != db->was_up) {
		db->was_up = up;
		if (up)
			sw_info("database available (%u of %u connections)",
				db->up, db->nconn);
		else
			sw_warn("database unavailable: no connection up");
		if (db->stateh)
			db->stateh(up, db->arg);
	}
}

/* true when some connection is up or on its way up */
static bool db_alive(const struct bd_db *db)
{
	for (unsigned i = 0; i < db->nconn; i++) {
		if (db->conns[i].state != CONN_DOWN)
			return true;
	}
	return false;
}

static void query_finish(struct bd_db_query *q, int err, const PGresult *res)
{
	if (q->h)
		q->h(err, res, q->arg);
	mem_deref(q);
}

/* fail every queued query with err */
static void fail_queue(struct bd_db *db, int err)
{
	struct le *le;

	while ((le = list_head(&db->queue))) {
		struct bd_db_query *q = le->data;

		list_unlink(&q->le);
		db->queued--;
		db->failures++;
		query_finish(q, err, NULL);
	}
}

static void conn_fail(struct db_conn *c, const char *why)
{
	struct bd_db *db = c->db;
	struct bd_db_query *q = c->q;

	if (c->was_up)
		sw_warn("connection %u lost: %s", c->idx, why);
	else
		sw_debug("connection %u failed: %s", c->idx, why);
	c->was_up = false;
	db->conn_failures++;

	conn_close(c);
	c->q = NULL;
	c->state = CONN_DOWN;
	tmr_start(&c->tmr, c->backoff_ms, conn_start, c);
	c->backoff_ms =
	    c->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->backoff_ms * 2;
	count_up(db);

	if (q) {
		db->failures++;
		query_finish(q, EIO, NULL);
	}
	if (!db_alive(db))
		fail_queue(db, ENOTCONN);
	else
		dispatch(db);
}

/* libpq's last error, first line only (its messages span several) */
static const char *pq_why(const struct db_conn *c)
{
	static char why[256];
	const char *m = c->pg ? PQerrorMessage(c->pg) : NULL;
	size_t n;

	if (!m || !*m)
		return "connection closed";
	n = strcspn(m, "\n");
	if (n >= sizeof(why))
		n = sizeof(why) - 1;
	memcpy(why, m, n);
	why[n] = '\0';

	return why;
}

static void conn_fd_h(int flags, void *arg);

/* (re)register the libpq socket for flags; it may change while connecting */
static int conn_listen(struct db_conn *c, int flags)
{
	int fd = PQsocket(c->pg);
	int err;

	if (fd < 0)
		return EBADF;
	if (fd == c->fd && flags == c->flags)
		return 0;
	if (c->fd >= 0 && c->fd != fd)
		fd_close(c->fd);

	err = fd_listen(fd, flags, conn_fd_h, c);
	if (err) {
		c->fd = -1;
		return err;
	}
	c->fd = fd;
	c->flags = flags;

	return 0;
}

/*
 * Prepare the next registered statement on a fresh connection, or, when
 * all are done, put the connection in service.
 */
static void prepare_next(struct db_conn *c)
{
	struct bd_db *db = c->db;
	const struct db_stmt *st;
	int r;

	if (!c->session_set) {
		char sql[sizeof(SESSION_SQL) + 96];

		snprintf(sql, sizeof(sql), "%s%s%s", SESSION_SQL,
			 c->idx == 0 && *db->listen_sql ? "; " : "",
			 c->idx == 0 ? db->listen_sql : "");
		if (!PQsendQuery(c->pg, sql)) {
			conn_fail(c, pq_why(c));
			return;
		}
		r = PQflush(c->pg);
		if (r < 0 || conn_listen(c, r ? (FD_READ | FD_WRITE) : FD_READ))
			conn_fail(c, pq_why(c));
		return;
	}

	if (c->prep_idx >= db->nstmts) {
		c->state = CONN_IDLE;
		count_up(db);
		/* listening (again): what happened meanwhile was not heard */
		if (c->idx == 0 && db->notifyh)
			db->notifyh(NULL, db->notify_arg);
		dispatch(db);
		return;
	}

	st = &db->stmts[c->prep_idx];
	if (!PQsendPrepare(c->pg, st->name, st->sql, 0, NULL)) {
		conn_fail(c, pq_why(c));
		return;
	}
	r = PQflush(c->pg);
	if (r < 0 || conn_listen(c, r ? (FD_READ | FD_WRITE) : FD_READ))
		conn_fail(c, pq_why(c));
}

/* the PREPARE in flight is complete */
static void prepare_done(struct db_conn *c)
{
	const struct db_stmt *st = &c->db->stmts[c->prep_idx];
	PGresult *res = c->res;

	c->res = NULL;
	if (!c->session_set) {
		c->session_set = true;
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
			sw_warn("connection %u: session settings: %s", c->idx,
				bd_db_errmsg(res));
		if (res)
			PQclear(res);
		prepare_next(c);
		return;
	}
	if (res && PQresultStatus(res) == PGRES_COMMAND_OK)
		c->prepared |= 1u << c->prep_idx;
	else /* the statement still runs, unprepared */
		sw_warn("connection %u: cannot prepare %s: %s", c->idx,
			st->name, bd_db_errmsg(res));
	if (res)
		PQclear(res);

	c->prep_idx++;
	prepare_next(c);
}

static void conn_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {

	case PGRES_POLLING_READING:
		if (conn_listen(c, FD_READ))
			conn_fail(c, "cannot watch socket");
		return;

	case PGRES_POLLING_WRITING:
		if (conn_listen(c, FD_WRITE))
			conn_fail(c, "cannot watch socket");
		return;

	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) || conn_listen(c, FD_READ)) {
			conn_fail(c, pq_why(c));
			return;
		}
		c->was_up = true;
		c->backoff_ms = RETRY_MIN_MS;
		c->prepared = 0;
		c->prep_idx = 0;
		c->session_set = false;
		c->state = CONN_PREPARING;
		sw_debug("connection %u up", c->idx);
		prepare_next(c);
		return;

	default:
		conn_fail(c, pq_why(c));
		return;
	}
}

/* server NOTICEs (e.g. "relation already exists, skipping") */
static void notice_h(void *arg, const char *message)
{
	struct db_conn *c = arg;

	sw_debug("connection %u: %.*s", c->idx, (int)strcspn(message, "\n"),
		 message);
}

/* timer: open the connection (PQconnectStart does not block on an IP) */
static void conn_start(void *arg)
{
	struct db_conn *c = arg;

	c->connect_ms = sw_time_mono_ms();
	c->pg = PQconnectStart(c->db->conninfo);
	if (!c->pg) {
		conn_fail(c, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, pq_why(c));
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_h, c);
	c->state = CONN_CONNECTING;
	/* libpq's first wait after PQconnectStart is for writability */
	if (conn_listen(c, FD_WRITE))
		conn_fail(c, "cannot watch socket");
}

/*
 * Errors worth retrying later rather than reporting as a bug: timeouts and
 * cancels (57), serialization/deadlock (40), lock not available (55P03),
 * out of resources (53), connection trouble (08).
 */
static bool transient(const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (!st || strlen(st) != 5)
		return false;

	return !strncmp(st, "57", 2) || !strncmp(st, "40", 2) ||
	       !strncmp(st, "53", 2) || !strncmp(st, "08", 2) ||
	       !strcmp(st, "55P03");
}

/* the statement in flight is complete: hand its result over */
static void conn_done(struct db_conn *c)
{
	struct bd_db *db = c->db;
	struct bd_db_query *q = c->q;
	PGresult *res = c->res;
	int err;

	c->q = NULL;
	c->res = NULL;
	c->state = CONN_IDLE;

	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {

	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		err = 0;
		break;

	default:
		if (!res || PQstatus(c->pg) != CONNECTION_OK)
			err = EIO;
		else if (transient(res))
			err = EAGAIN;
		else
			err = EBADMSG;
		db->failures++;
		break;
	}

	if (q)
		query_finish(q, err, res);
	if (res)
		PQclear(res);

	dispatch(db);
}

/*
 * The server waits for the COPY data of the statement in flight: all of it
 * into libpq's buffer (it grows), then the end; what the socket does not
 * take now goes when it is writable.  Non-zero when the connection failed.
 */
static int copy_send(struct db_conn *c)
{
	const struct bd_db_query *q = c->q;
	const char *p;
	size_t left;
	int r;

	if (!q || !q->copy) { /* a COPY the caller did not ask for */
		conn_fail(c, "unexpected COPY");
		return EIO;
	}
	p = q->copy;
	left = q->copy_len;
	while (left) {
		int n = left > (1u << 20) ? 1 << 20 : (int)left;

		if (PQputCopyData(c->pg, p, n) != 1) {
			conn_fail(c, pq_why(c));
			return EIO;
		}
		p += n;
		left -= (size_t)n;
	}
	if (PQputCopyEnd(c->pg, NULL) != 1) {
		conn_fail(c, pq_why(c));
		return EIO;
	}
	r = PQflush(c->pg);
	if (r < 0 || conn_listen(c, r ? (FD_READ | FD_WRITE) : FD_READ)) {
		conn_fail(c, pq_why(c));
		return EIO;
	}
	return 0;
}

static void conn_read(struct db_conn *c)
{
	PGnotify *n;

	if (!PQconsumeInput(c->pg)) {
		conn_fail(c, pq_why(c));
		return;
	}
	while ((n = PQnotifies(c->pg))) {
		if (c->db->notifyh && c->state != CONN_DOWN)
			c->db->notifyh(n->extra, c->db->notify_arg);
		PQfreemem(n);
	}

	while ((c->state == CONN_BUSY || c->state == CONN_PREPARING) &&
	       !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);

		if (!res) {
			if (c->state == CONN_PREPARING)
				prepare_done(c);
			else
				conn_done(c);
			return;
		}
		if (PQresultStatus(res) == PGRES_COPY_IN) {
			PQclear(res);
			if (copy_send(c))
				return;
			continue;
		}
		/* keep the first result, or the first error after it */
		if (!c->res) {
			c->res = res;
		} else if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
			   PQresultStatus(c->res) != PGRES_FATAL_ERROR) {
			PQclear(c->res);
			c->res = res;
		} else {
			PQclear(res);
		}
	}

	if (c->state == CONN_IDLE && PQstatus(c->pg) == CONNECTION_BAD)
		conn_fail(c, pq_why(c));
}

static void conn_fd_h(int flags, void *arg)
{
	struct db_conn *c = arg;

	if (c->state == CONN_CONNECTING) {
		conn_poll(c);
		return;
	}
	if (c->state == CONN_DOWN || !c->pg)
		return;

	if (flags & FD_WRITE) {
		int r = PQflush(c->pg);

		if (r < 0) {
			conn_fail(c, pq_why(c));
			return;
		}
		if (r == 0 && conn_listen(c, FD_READ)) {
			conn_fail(c, "cannot watch socket");
			return;
		}
	}
	if (flags & (FD_READ | FD_EXCEPT))
		conn_read(c);
}

/* send q on the idle connection c; 0 or an errno (c is then failed) */
static int conn_send(struct db_conn *c, struct bd_db_query *q)
{
	unsigned i;
	int r, ok;

	for (i = 0; i < c->db->nstmts; i++) {
		if (c->db->stmts[i].sql == q->sql)
			break;
	}
	if (q->copy)
		ok = PQsendQuery(c->pg, q->sql);
	else if (i < c->db->nstmts && (c->prepared & (1u << i)))
		ok = PQsendQueryPrepared(
		    c->pg, c->db->stmts[i].name, q->nparams,
		    (const char *const *)q->params, q->lengths, q->formats, 0);
	else
		ok = PQsendQueryParams(c->pg, q->sql, q->nparams, NULL,
				       (const char *const *)q->params,
				       q->lengths, q->formats, 0);
	if (!ok)
		return EIO;

	r = PQflush(c->pg);
	if (r < 0)
		return EIO;
	if (conn_listen(c, r ? (FD_READ | FD_WRITE) : FD_READ))
		return EBADF;

	c->q = q;
	c->state = CONN_BUSY;
	c->db->queries++;

	return 0;
}

static struct db_conn *idle_conn(struct bd_db *db)
{
	for (unsigned i = 0; i < db->nconn; i++) {
		if (db->conns[i].state == CONN_IDLE)
			return &db->conns[i];
	}
	return NULL;
}

/* move queued queries onto idle connections */
static void dispatch(struct bd_db *db)
{
	struct db_conn *c;
	struct le *le;

	while ((le = list_head(&db->queue)) && (c = idle_conn(db))) {
		struct bd_db_query *q = le->data;

		list_unlink(&q->le);
		db->queued--;

		if (conn_send(c, q)) {
			/* back to the head; the connection is the problem */
			list_prepend(&db->queue, &q->le, q);
			db->queued++;
			conn_fail(c, pq_why(c));
			return; /* conn_fail dispatched what it could */
		}
	}
}

static void kick(void *arg)
{
	dispatch(arg);
}

/* timer: fail queries that waited too long for a connection */
static void sweep(void *arg)
{
	struct bd_db *db = arg;
	int64_t now = sw_time_mono_ms();
	struct le *le;

	tmr_start(&db->sweep, SWEEP_MS, sweep, db);

	/* a server that never answers the connect (blackholed address) */
	for (unsigned i = 0; i < db->nconn; i++) {
		struct db_conn *c = &db->conns[i];

		if ((c->state == CONN_CONNECTING ||
		     c->state == CONN_PREPARING) &&
		    c->pg && now - c->connect_ms > CONNECT_TIMEOUT_MS)
			conn_fail(c, "connect timed out");
	}

	while ((le = list_head(&db->queue))) {
		struct bd_db_query *q = le->data;

		if (now - q->queued_ms < BD_DB_QUEUE_TIMEOUT_MS)
			break;
		list_unlink(&q->le);
		db->queued--;
		db->failures++;
		query_finish(q, ETIMEDOUT, NULL);
	}
}

/*
 * Create a pool of nconn connections to conninfo and start connecting them;
 * stateh (optional) hears when the database becomes available or not.
 * Free with mem_deref().
 */
int bd_db_alloc(struct bd_db **dbp, const char *conninfo, unsigned nconn,
		bd_db_state_h *stateh, void *arg)
{
	struct bd_db *db;
	int err;

	if (!dbp || !conninfo || !nconn)
		return EINVAL;

	db = mem_zalloc(sizeof(*db), db_destructor);
	if (!db)
		return ENOMEM;

	err = str_dup(&db->conninfo, conninfo);
	if (err)
		goto out;

	db->conns = mem_zalloc(nconn * sizeof(*db->conns), NULL);
	if (!db->conns) {
		err = ENOMEM;
		goto out;
	}
	db->nconn = nconn;
	db->stateh = stateh;
	db->arg = arg;
	list_init(&db->queue);
	tmr_init(&db->sweep);
	tmr_init(&db->kick);

	for (unsigned i = 0; i < nconn; i++) {
		struct db_conn *c = &db->conns[i];

		c->db = db;
		c->idx = i;
		c->fd = -1;
		c->backoff_ms = RETRY_MIN_MS;
		tmr_init(&c->tmr);
		/* start on the next loop turn: the caller finishes set-up */
		c->state = CONN_CONNECTING;
		tmr_start(&c->tmr, 0, conn_start, c);
	}
	tmr_start(&db->sweep, SWEEP_MS, sweep, db);

out:
	if (err)
		mem_deref(db);
	else
		*dbp = db;

	return err;
}

/*
 * Queue a statement; params copied into one block (pointers, then for
 * binary ones their lengths and formats, then the bytes).  lengths NULL:
 * text parameters (a NULL entry is SQL NULL); else all binary, lengths[i]
 * bytes each.
 */
static int query_queue(struct bd_db *db, const char *sql, int nparams,
		       const char *const *params, const int *lengths,
		       const char *copy, size_t copy_len, bd_db_res_h *h,
		       void *arg)
{
	struct bd_db_query *q;
	size_t total = 0, head, sql_len = 0;
	char *p;

	if (!db || !sql || nparams < 0 || (nparams && !params))
		return EINVAL;
	if (!db_alive(db))
		return ENOTCONN;
	if (db->queued >= BD_DB_QUEUE_MAX)
		return EBUSY;

	for (int i = 0; i < nparams; i++) {
		if (lengths && lengths[i] < 0)
			return EINVAL;
		if (params[i])
			total += lengths ? (size_t)lengths[i]
					 : strlen(params[i]) + 1;
	}
	if (copy) {
		sql_len = strlen(sql) + 1;
		total += sql_len + copy_len;
	}

	q = mem_zalloc(sizeof(*q), query_destructor);
	if (!q)
		return ENOMEM;

	head = (size_t)nparams * sizeof(char *);
	if (lengths)
		head += 2 * (size_t)nparams * sizeof(int);
	q->params = mem_zalloc(head + total + 1, NULL);
	if (!q->params) {
		mem_deref(q);
		return ENOMEM;
	}
	if (lengths) {
		q->lengths = (int *)(q->params + nparams);
		q->formats = q->lengths + nparams;
	}
	p = (char *)q->params + head;
	for (int i = 0; i < nparams; i++) {
		size_t n;

		if (!params[i])
			continue;
		n = lengths ? (size_t)lengths[i] : strlen(params[i]) + 1;
		memcpy(p, params[i], n);
		q->params[i] = p;
		if (lengths) {
			q->lengths[i] = lengths[i];
			q->formats[i] = 1;
		}
		p += n;
	}

	q->sql = sql;
	if (copy) {
		memcpy(p, sql, sql_len);
		q->sql = p;
		p += sql_len;
		memcpy(p, copy, copy_len);
		q->copy = p;
		q->copy_len = copy_len;
	}
	q->nparams = nparams;
	q->h = h;
	q->arg = arg;
	q->queued_ms = sw_time_mono_ms();

	list_append(&db->queue, &q->le, q);
	db->queued++;

	/*
	 * Send from the next loop turn, not from here: a send failure may
	 * take the whole pool down and fail the queue, and h must never run
	 * inside this call (the caller is still setting up its state).
	 */
	if (idle_conn(db) && !tmr_isrunning(&db->kick))
		tmr_start(&db->kick, 0, kick, db);

	return 0;
}

/*
 * Queue one SQL statement with text parameters (copied; a NULL entry is SQL
 * NULL).  sql must stay valid until the handler runs (use literals).  h is
 * called exactly once, never from inside this call.  ENOTCONN when no
 * connection is up or connecting, EBUSY when the queue is full.
 */
int bd_db_query(struct bd_db *db, const char *sql, int nparams,
		const char *const *params, bd_db_res_h *h, void *arg)
{
	return query_queue(db, sql, nparams, params, NULL, NULL, 0, h, arg);
}

/*
 * The same with every parameter in PostgreSQL's binary format (lengths[i]
 * bytes at params[i], copied; see pgarr.h for arrays).  The result is
 * text as always.
 */
int bd_db_query_bin(struct bd_db *db, const char *sql, int nparams,
		    const char *const *params, const int *lengths,
		    bd_db_res_h *h, void *arg)
{
	if (!lengths && nparams)
		return EINVAL;
	return query_queue(db, sql, nparams, params, lengths, NULL, 0, h, arg);
}

/*
 * Queue sql, one or more statements in PostgreSQL's simple protocol (one
 * implicit transaction: all of them or none), whose COPY ... FROM STDIN
 * reads the len bytes at data.  Both are copied.  The handler gets the
 * first error, else the COPY's result.
 */
int bd_db_copy(struct bd_db *db, const char *sql, const char *data, size_t len,
	       bd_db_res_h *h, void *arg)
{
	if (!data)
		return EINVAL;
	return query_queue(db, sql, 0, NULL, NULL, data, len, h, arg);
}

/*
 * Prepare sql (a static string; later bd_db_query() calls with the same
 * pointer use the prepared statement) on every connection that opens from
 * now on.  Call before the loop runs so that no connection misses it; a
 * connection where PREPARE fails runs the statement unprepared.
 */
int bd_db_prepare(struct bd_db *db, const char *sql)
{
	struct db_stmt *st;

	if (!db || !sql)
		return EINVAL;
	for (unsigned i = 0; i < db->nstmts; i++) {
		if (db->stmts[i].sql == sql)
			return 0;
	}
	if (db->nstmts >= MAX_STMTS)
		return ENOSPC;

	st = &db->stmts[db->nstmts];
	st->sql = sql;
	snprintf(st->name, sizeof(st->name), "bd_%u", db->nstmts);
	db->nstmts++;

	return 0;
}

/*
 * LISTEN on channel (an SQL identifier) on connection 0; h hears each
 * notification's payload, and NULL whenever that connection (re)opens, as
 * notifications sent while it was down are lost.  Call before the loop
 * runs, like bd_db_prepare().
 */
int bd_db_listen(struct bd_db *db, const char *channel, bd_db_notify_h *h,
		 void *arg)
{
	if (!db || !channel || !h ||
	    strspn(channel, "abcdefghijklmnopqrstuvwxyz_") != strlen(channel))
		return EINVAL;
	snprintf(db->listen_sql, sizeof(db->listen_sql), "LISTEN %s", channel);
	db->notifyh = h;
	db->notify_arg = arg;
	return 0;
}

/* true when at least one connection is up */
bool bd_db_up(const struct bd_db *db)
{
	return db && db->up > 0;
}

void bd_db_stats(const struct bd_db *db, struct bd_db_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!db)
		return;

	st->conns_up = db->up;
	st->conns_total = db->nconn;
	st->queued = db->queued;
	for (unsigned i = 0; i < db->nconn; i++)
		st->busy += db->conns[i].state == CONN_BUSY;
	st->queries = db->queries;
	st->failures = db->failures;
	st->conn_failures = db->conn_failures;
}

/* the server's message for a failed statement, one line */
const char *bd_db_errmsg(const PGresult *res)
{
	const char *m =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	return m ? m : "no result";
}
