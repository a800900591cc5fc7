/*
 * edgedb.c - the dynamic blacklist written to PostgreSQL by a worker
 * thread (edgedb.h)
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
#define EDGEDB_BATCH 64 /* bans per transaction */

struct ban {
	char ip[64];
	char reason[160];
	int64_t seconds;
};

struct sg_edgedb {
	char *conninfo; /* owned */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ban q[SG_EDGEDB_QUEUE]; /* ring, under lock */
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

/* expired automatic entries are forgotten a day later */
static const char sweep_sql[] =
    "DELETE FROM blacklist WHERE origin = 'auto' AND expires_at < now() - "
    "interval '1 day'";

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* one ban; false when the connection failed (the batch is retried) */
static bool write_ban(PGconn *conn, const struct ban *b)
{
	char secs[24];
	const char *p[3] = {b->ip, b->reason, secs};
	PGresult *r;
	bool ok;

	snprintf(secs, sizeof(secs), "%lld", (long long)b->seconds);
	r = PQexecParams(conn, ban_sql, 3, NULL, p, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		sw_warn("blacklist entry for %s not written: %s", b->ip,
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
static bool write_batch(PGconn *conn, const struct ban *b, size_t n)
{
	if (!command(conn, "BEGIN"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!write_ban(conn, &b[i])) {
			command(conn, "ROLLBACK");
			return false;
		}
	if (!command(conn, sweep_sql) || !command(conn, "COMMIT")) {
		command(conn, "ROLLBACK");
		return PQstatus(conn) == CONNECTION_OK;
	}
	return true;
}

static void *worker(void *arg)
{
	struct sg_edgedb *d = arg;
	PGconn *conn = NULL;
	struct ban *batch = calloc(EDGEDB_BATCH, sizeof(*batch));
	size_t n;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->n && !d->stop)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop || !batch)
			break;
		for (n = 0; n < d->n && n < EDGEDB_BATCH; n++)
			batch[n] = d->q[(d->head + n) % SG_EDGEDB_QUEUE];
		pthread_mutex_unlock(&d->lock);
		if (!conn || PQstatus(conn) != CONNECTION_OK) {
			if (conn)
				PQfinish(conn);
			conn = PQconnectdb(d->conninfo);
			if (PQstatus(conn) == CONNECTION_OK)
				command(conn,
					"SET application_name = 'signalingd'");
		}
		if (PQstatus(conn) == CONNECTION_OK &&
		    write_batch(conn, batch, n)) {
			pthread_mutex_lock(&d->lock);
			d->head = (d->head + n) % SG_EDGEDB_QUEUE;
			d->n -= n;
			continue;
		}
		sw_warn("blacklist not written (%s); retrying",
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

/* Start the worker (it connects when the first ban comes). */
int sg_edgedb_start(struct sg_edgedb **dp, const char *conninfo)
{
	struct sg_edgedb *d;
	int err;

	if (!dp || !conninfo)
		return EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->conninfo = strdup(conninfo))) {
		free(d);
		return ENOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	err = pthread_create(&d->thread, NULL, worker, d);
	if (err) {
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d->conninfo);
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
		sw_warn("%zu blacklist entries not written at stop", d->n);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d->conninfo);
	free(d);
}

/* Queue ip's ban for seconds (never blocks: a full queue drops it). */
void sg_edgedb_ban(struct sg_edgedb *d, const char *ip, int64_t seconds,
		   const char *reason)
{
	struct ban *b;

	if (!d || !ip || !*ip)
		return;
	pthread_mutex_lock(&d->lock);
	if (d->n == SG_EDGEDB_QUEUE) {
		if (d->dropped++ % 1000 == 0)
			sw_warn("blacklist write queue full: %s not written",
				ip);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	b = &d->q[(d->head + d->n) % SG_EDGEDB_QUEUE];
	snprintf(b->ip, sizeof(b->ip), "%s", ip);
	snprintf(b->reason, sizeof(b->reason), "%s", reason ? reason : "");
	b->seconds = seconds;
	d->n++;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}
