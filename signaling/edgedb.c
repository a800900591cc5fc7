/*
 * edgedb.c - the dynamic blacklist and the phones' registrations written
 * to PostgreSQL by a worker thread (edgedb.h)
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define SW_LOG_MODULE "edgedb"
#include "common/log.h"
#include "signaling/edgedb.h"

#define RETRY_MS     2000
#define EDGEDB_BATCH 64 /* rows per transaction */

/* one row to write: a ban, or a registration set (contact) or removed */
enum job_kind { JOB_BAN, JOB_REG_SET, JOB_REG_DEL };

struct row {
	enum job_kind kind;
	char ip[64];	  /* ban; registration: its source */
	char reason[160]; /* ban */
	int64_t seconds;  /* ban, registration set */
	char number[64];  /* registration */
	char contact[256];
};

struct sg_edgedb {
	char *conninfo; /* owned */
	char *node;	/* owned: node_id, the registrations' owner */
	/* the registrations read back at start (restored_n < 0: not yet) */
	struct sg_edgedb_reg *restored; /* owned until taken, under lock */
	long restored_n;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct row q[SG_EDGEDB_QUEUE]; /* ring, under lock */
	size_t head, n;
	bool stop;
	uint64_t dropped; /* under lock */
};

/*
 * An address already listed keeps the longer of the two expiries; an
 * entry without expiry (an operator's) stays as it is.
 */
static const char ban_sql[] =
    "INSERT INTO blacklist (ip, reason, expires_at, origin) VALUES ($1::inet, "
    "$2, now() + make_interval(secs => $3::bigint), 'auto') ON CONFLICT (ip) "
    "DO UPDATE SET reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at,"
    " origin = 'auto' WHERE blacklist.expires_at IS NOT NULL AND "
    "blacklist.expires_at < EXCLUDED.expires_at";

/* expired automatic entries are forgotten a day later; registrations at
 * once (the phone registers again, or is gone) */
static const char sweep_sql[] =
    "DELETE FROM blacklist WHERE origin = 'auto' AND expires_at < now() - "
    "interval '1 day'; DELETE FROM registrations WHERE expires_at < now()";

/* a phone's (or password gateway's) binding, by its user */
static const char reg_set_sql[] =
    "INSERT INTO registrations (number, contact, source, node, expires_at,"
    " updated_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs =>"
    " $5::bigint), now()) ON CONFLICT (number) DO UPDATE SET contact ="
    " EXCLUDED.contact, source = EXCLUDED.source, node = EXCLUDED.node,"
    " expires_at = EXCLUDED.expires_at, updated_at = now()";
static const char reg_del_sql[] =
    "DELETE FROM registrations WHERE number = $1 AND node = $2";
/* what this node held at its stop, still valid */
static const char reg_load_sql[] =
    "SELECT number, contact, source, (extract(epoch FROM expires_at - now())"
    " * 1000)::bigint AS remaining_ms FROM registrations WHERE node = $1"
    " AND expires_at > now() ORDER BY number";

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* one row; false when the connection failed (the batch is retried) */
static bool write_ban(PGconn *conn, const char *node, const struct row *b)
{
	char secs[24];
	const char *ban[3] = {b->ip, b->reason, secs};
	const char *set[5] = {b->number, b->contact, b->ip, node, secs};
	const char *del[2] = {b->number, node};
	PGresult *r;
	bool ok;

	snprintf(secs, sizeof(secs), "%lld", (long long)b->seconds);
	if (b->kind == JOB_BAN)
		r = PQexecParams(conn, ban_sql, 3, NULL, ban, NULL, NULL, 0);
	else if (b->kind == JOB_REG_SET)
		r = PQexecParams(conn, reg_set_sql, 5, NULL, set, NULL, NULL,
				 0);
	else
		r = PQexecParams(conn, reg_del_sql, 2, NULL, del, NULL, NULL,
				 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		sw_warn("%s %s not written: %s",
			b->kind == JOB_BAN ? "blacklist entry for"
					   : "registration of",
			b->kind == JOB_BAN ? b->ip : b->number,
			PQresultErrorMessage(r));
	PQclear(r);
	return ok || PQstatus(conn) == CONNECTION_OK; /* a bad row: skip it */
}

static bool command(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	return ok;
}

/*
 * The bans queued, in one transaction (one commit, one notification for
 * every signalingd however many sources a flood brought); true when
 * written, or to be dropped.
 */
static bool write_batch(PGconn *conn, const char *node, const struct row *b,
			size_t n)
{
	if (!command(conn, "BEGIN"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!write_ban(conn, node, &b[i])) {
			command(conn, "ROLLBACK");
			return false;
		}
	if (!command(conn, sweep_sql) || !command(conn, "COMMIT")) {
		command(conn, "ROLLBACK");
		return PQstatus(conn) == CONNECTION_OK;
	}
	return true;
}

/* the connection, (re)made when needed; false when it is down */
static bool connected(struct sg_edgedb *d, PGconn **connp)
{
	if (*connp && PQstatus(*connp) == CONNECTION_OK)
		return true;
	if (*connp)
		PQfinish(*connp);
	*connp = PQconnectdb(d->conninfo);
	if (PQstatus(*connp) != CONNECTION_OK)
		return false;
	command(*connp, "SET application_name = 'signalingd'");
	return true;
}

/* the registrations this node held, read once at start (none when the
 * database is down then: the phones register again) */
static void restore(struct sg_edgedb *d, PGconn **connp)
{
	const char *p[1] = {d->node};
	struct sg_edgedb_reg *regs = NULL;
	long n = 0;
	PGresult *r = NULL;

	if (connected(d, connp))
		r = PQexecParams(*connp, reg_load_sql, 1, NULL, p, NULL, NULL,
				 0);
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
		int cn = PQfnumber(r, "number"), cc = PQfnumber(r, "contact");
		int cs = PQfnumber(r, "source");
		int cr = PQfnumber(r, "remaining_ms");

		regs = calloc((size_t)PQntuples(r), sizeof(*regs));
		for (int i = 0; regs && i < PQntuples(r); i++) {
			struct sg_edgedb_reg *g = &regs[n++];

			snprintf(g->number, sizeof(g->number), "%s",
				 PQgetvalue(r, i, cn));
			snprintf(g->contact, sizeof(g->contact), "%s",
				 PQgetvalue(r, i, cc));
			snprintf(g->source, sizeof(g->source), "%s",
				 PQgetvalue(r, i, cs));
			g->remaining_ms =
			    strtoll(PQgetvalue(r, i, cr), NULL, 10);
		}
	} else if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		sw_warn("registrations not read back: %s",
			r ? PQresultErrorMessage(r) : PQerrorMessage(*connp));
	}
	PQclear(r);
	pthread_mutex_lock(&d->lock);
	d->restored = regs;
	d->restored_n = n;
	pthread_mutex_unlock(&d->lock);
}

static void *worker(void *arg)
{
	struct sg_edgedb *d = arg;
	PGconn *conn = NULL;
	struct row *batch = calloc(EDGEDB_BATCH, sizeof(*batch));
	size_t n;

	restore(d, &conn);
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->n && !d->stop)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop || !batch)
			break;
		for (n = 0; n < d->n && n < EDGEDB_BATCH; n++)
			batch[n] = d->q[(d->head + n) % SG_EDGEDB_QUEUE];
		pthread_mutex_unlock(&d->lock);
		if (connected(d, &conn) &&
		    write_batch(conn, d->node, batch, n)) {
			pthread_mutex_lock(&d->lock);
			d->head = (d->head + n) % SG_EDGEDB_QUEUE;
			d->n -= n;
			continue;
		}
		sw_warn("blacklist and registrations not written (%s); "
			"retrying",
			PQerrorMessage(conn));
		nap(RETRY_MS);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	if (conn)
		PQfinish(conn);
	free(batch);
	return NULL;
}

/* Start the worker: it reads node's registrations back, then writes. */
int sg_edgedb_start(struct sg_edgedb **dp, const char *conninfo,
		    const char *node)
{
	struct sg_edgedb *d;
	int err;

	if (!dp || !conninfo || !node)
		return EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->conninfo = strdup(conninfo)) ||
	    !(d->node = strdup(node))) {
		if (d)
			free(d->conninfo);
		free(d);
		return ENOMEM;
	}
	d->restored_n = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	err = pthread_create(&d->thread, NULL, worker, d);
	if (err) {
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d->conninfo);
		free(d->node);
		free(d);
		return err;
	}
	*dp = d;
	return 0;
}

/* Stop the worker; bans not written yet are lost (they are in force in
 * memory until the process ends, and the sources fail again after). */
void sg_edgedb_stop(struct sg_edgedb *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	if (d->n)
		sw_warn("%zu blacklist and registration rows not written at "
			"stop",
			d->n);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d->restored);
	free(d->conninfo);
	free(d->node);
	free(d);
}

/* a row into the queue (never blocks: a full queue drops it) */
static void queue(struct sg_edgedb *d, const struct row *row)
{
	pthread_mutex_lock(&d->lock);
	if (d->n == SG_EDGEDB_QUEUE) {
		if (d->dropped++ % 1000 == 0)
			sw_warn("blacklist/registration write queue full: "
				"%s not written",
				row->kind == JOB_BAN ? row->ip : row->number);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->q[(d->head + d->n) % SG_EDGEDB_QUEUE] = *row;
	d->n++;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void sg_edgedb_register(struct sg_edgedb *d, const char *number,
			const char *contact, const char *source,
			int64_t seconds)
{
	struct row row = {.kind = contact ? JOB_REG_SET : JOB_REG_DEL,
			  .seconds = seconds};

	if (!d || !number || !*number)
		return;
	snprintf(row.number, sizeof(row.number), "%s", number);
	snprintf(row.contact, sizeof(row.contact), "%s",
		 contact ? contact : "");
	snprintf(row.ip, sizeof(row.ip), "%s", source ? source : "");
	queue(d, &row);
}

long sg_edgedb_restored(struct sg_edgedb *d, struct sg_edgedb_reg **regsp)
{
	long n;

	*regsp = NULL;
	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	n = d->restored_n;
	if (n >= 0) {
		*regsp = d->restored;
		d->restored = NULL;
		d->restored_n = 0; /* taken: 0 from now on */
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* Queue ip's ban for seconds (never blocks: a full queue drops it). */
void sg_edgedb_ban(struct sg_edgedb *d, const char *ip, int64_t seconds,
		   const char *reason)
{
	struct row row = {.kind = JOB_BAN, .seconds = seconds};

	if (!d || !ip || !*ip)
		return;
	snprintf(row.ip, sizeof(row.ip), "%s", ip);
	snprintf(row.reason, sizeof(row.reason), "%s", reason ? reason : "");
	queue(d, &row);
}
