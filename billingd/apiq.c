/*
 * apiq.c - the HTTP API's database workers
 */
#define SW_LOG_MODULE "apiq"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/libre.h"
#include <re_mqueue.h>

#include "billingd/apiq.h"
#include "common/log.h"

struct job {
	struct job *next;
	bd_apiq_work_h *work;
	bd_apiq_done_h *done;
	void *arg;
};

struct worker {
	struct bd_apiq *q; /* borrowed */
	pthread_t thread;
	bool started;
	PGconn *conn; /* owned by the thread */
};

struct bd_apiq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;	 /* waiting */
	struct job *fin_head, *fin_tail; /* worked, waiting for the loop */
	unsigned queued;
	bool stop;
	struct mqueue *mq; /* finished jobs -> loop */
	char *conninfo;	   /* owned */
	struct worker workers[BD_APIQ_WORKERS];
	size_t nworkers;
};

static PGconn *connect_db(struct worker *w)
{
	PGconn *c;

	if (w->conn && PQstatus(w->conn) == CONNECTION_OK)
		return w->conn;
	if (w->conn) {
		PQfinish(w->conn);
		w->conn = NULL;
	}
	c = PQconnectdb(w->q->conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		sw_warn("API database connection: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQclear(PQexec(c, "SET application_name = 'billingd-api'; "
			  "SET client_min_messages = warning; "
			  "SET statement_timeout = '60s'; "
			  "SET DateStyle = 'ISO, YMD'"));
	w->conn = c;
	return c;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bd_apiq *q = w->q;

	for (;;) {
		struct job *j;

		pthread_mutex_lock(&q->lock);
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (!q->head) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);

		j->work(q->stop ? NULL : connect_db(w), j->arg);
		pthread_mutex_lock(&q->lock);
		j->next = NULL;
		if (q->fin_tail)
			q->fin_tail->next = j;
		else
			q->fin_head = j;
		q->fin_tail = j;
		pthread_mutex_unlock(&q->lock);
		/* a wake-up; the loop takes every finished job at once, so a
		 * lost one (ENOMEM) only delays them to the next */
		if (mqueue_push(q->mq, 0, NULL))
			sw_warn("API worker: wake-up not sent");
	}
	if (w->conn)
		PQfinish(w->conn);
	w->conn = NULL;
	return NULL;
}

/* on the loop: run the done handlers of every finished job */
static void finish_all(struct bd_apiq *q)
{
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&q->lock);
		j = q->fin_head;
		if (j) {
			q->fin_head = j->next;
			if (!q->fin_head)
				q->fin_tail = NULL;
			q->queued--;
		}
		pthread_mutex_unlock(&q->lock);
		if (!j)
			return;
		j->done(j->arg);
		free(j);
	}
}

static void mq_h(int id, void *data, void *arg)
{
	(void)id;
	(void)data;
	finish_all(arg);
}

static void destructor(void *arg)
{
	struct bd_apiq *q = arg;

	pthread_mutex_lock(&q->lock);
	q->stop = true; /* queued jobs run with conn = NULL */
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < q->nworkers; i++) {
		if (q->workers[i].started)
			pthread_join(q->workers[i].thread, NULL);
	}
	/* every job has run (queued ones with conn = NULL): their done
	 * handlers run now, so nothing they own is lost */
	finish_all(q);
	mem_deref(q->mq);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->conninfo);
}

/*
 * Start nworkers (1..BD_APIQ_WORKERS) workers; they connect to conninfo
 * on their first job.
 */
int bd_apiq_alloc(struct bd_apiq **qp, const char *conninfo, size_t nworkers)
{
	struct bd_apiq *q;
	int err;

	if (!qp || !conninfo || !nworkers || nworkers > BD_APIQ_WORKERS)
		return EINVAL;
	q = mem_zalloc(sizeof(*q), destructor);
	if (!q)
		return ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->conninfo = strdup(conninfo);
	err = q->conninfo ? mqueue_alloc(&q->mq, mq_h, q) : ENOMEM;
	if (err) {
		mem_deref(q);
		return err;
	}
	for (size_t i = 0; i < nworkers; i++) {
		struct worker *w = &q->workers[i];

		w->q = q;
		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			mem_deref(q);
			return err;
		}
		w->started = true;
		q->nworkers = i + 1;
	}
	*qp = q;
	return 0;
}

/*
 * Queue a job: work(conn, arg) on a worker, then done(arg) on the loop.
 * EBUSY when BD_APIQ_MAX jobs wait already (the caller answers 503).
 */
int bd_apiq_run(struct bd_apiq *q, bd_apiq_work_h *work, bd_apiq_done_h *done,
		void *arg)
{
	struct job *j;

	if (!q || !work || !done)
		return EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;

	pthread_mutex_lock(&q->lock);
	if (q->queued >= BD_APIQ_MAX || q->stop) {
		pthread_mutex_unlock(&q->lock);
		free(j);
		return EBUSY;
	}
	q->queued++;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}
