/*
 * watch.c - LISTEN tandem_changes and ask for a reload (watch.h)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define SW_LOG_MODULE "watch"
#include "common/log.h"
#include "signaling/sg.h"
#include "signaling/watch.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 10000

enum watch_state { W_DOWN, W_CONNECTING, W_LISTENING, W_UP };

struct sg_watch {
	struct sg *sg;	/* borrowed */
	char *conninfo; /* owned */
	PGconn *conn;	/* owned */
	su_wait_t wait[1];
	int registered, fd, events;
	enum watch_state state;
	su_timer_t *retry, *coalesce;
	int backoff_ms;
	bool was_up;
	void (*changed)(void *arg, bool full);
	void *arg;
	bool full; /* something else than the blacklist changed */
};

static int readable(void *magic, su_wait_t *w, void *arg);
static void step(struct sg_watch *w);

static void unwatch(struct sg_watch *w)
{
	if (w->registered) {
		su_root_unregister(w->sg->root, w->wait, readable, w);
		su_wait_destroy(w->wait);
		w->registered = 0;
	}
}

static int watch_fd(struct sg_watch *w, int events)
{
	int fd = PQsocket(w->conn);

	if (w->registered && fd == w->fd && events == w->events)
		return 0;
	unwatch(w);
	if (fd < 0)
		return EBADF;
	if (su_wait_create(w->wait, fd, events) < 0)
		return EIO;
	if (su_root_register(w->sg->root, w->wait, readable, w, 0) < 0) {
		su_wait_destroy(w->wait);
		return EIO;
	}
	w->registered = 1;
	w->fd = fd;
	w->events = events;
	return 0;
}

static void retry_fire(void *magic, su_timer_t *t, void *arg);

static void fail(struct sg_watch *w)
{
	char why[256];

	snprintf(why, sizeof(why), "%s",
		 w->conn ? PQerrorMessage(w->conn) : "out of memory");
	why[strcspn(why, "\n")] = '\0';
	if (w->was_up)
		sw_warn("lost the change notifications (%s); retrying", why);
	else
		sw_debug("change notifications: %s", why);
	w->was_up = false;
	unwatch(w);
	if (w->conn)
		PQfinish(w->conn);
	w->conn = NULL;
	w->state = W_DOWN;
	sg_timer_stop(&w->retry);
	w->retry = sg_timer_start(w->sg, w->backoff_ms, retry_fire, w);
	w->backoff_ms =
	    w->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : w->backoff_ms * 2;
}

static void coalesce_fire(void *magic, su_timer_t *t, void *arg)
{
	struct sg_watch *w = arg;
	bool full;

	(void)magic;
	(void)t;
	sg_timer_stop(&w->coalesce);
	full = w->full;
	w->full = false;
	w->changed(w->arg, full);
}

/* a change (or a reconnection): reload once the burst is over; all of
 * it unless only the blacklist changed */
static void changed_soon(struct sg_watch *w, bool full)
{
	w->full = w->full || full;
	if (!w->coalesce)
		w->coalesce = sg_timer_start(w->sg, SG_WATCH_COALESCE_MS,
					     coalesce_fire, w);
}

static void connect_start(struct sg_watch *w)
{
	w->conn = PQconnectStart(w->conninfo);
	if (!w->conn || PQstatus(w->conn) == CONNECTION_BAD) {
		fail(w);
		return;
	}
	w->state = W_CONNECTING;
	step(w);
}

static void retry_fire(void *magic, su_timer_t *t, void *arg)
{
	struct sg_watch *w = arg;

	(void)magic;
	(void)t;
	sg_timer_stop(&w->retry);
	connect_start(w);
}

static void step(struct sg_watch *w)
{
	PGnotify *n;
	PGresult *r;

	switch (w->state) {
	case W_CONNECTING:
		switch (PQconnectPoll(w->conn)) {
		case PGRES_POLLING_READING:
			if (watch_fd(w, SU_WAIT_IN))
				fail(w);
			return;
		case PGRES_POLLING_WRITING:
			if (watch_fd(w, SU_WAIT_OUT))
				fail(w);
			return;
		case PGRES_POLLING_OK:
			break;
		default:
			fail(w);
			return;
		}
		if (PQsetnonblocking(w->conn, 1) ||
		    !PQsendQuery(w->conn,
				 "SET application_name = "
				 "'signalingd'; LISTEN " SG_WATCH_CHANNEL) ||
		    PQflush(w->conn) < 0 || watch_fd(w, SU_WAIT_IN)) {
			fail(w);
			return;
		}
		w->state = W_LISTENING;
		return;
	case W_LISTENING:
	case W_UP:
		if (!PQconsumeInput(w->conn)) {
			fail(w);
			return;
		}
		while (w->state == W_LISTENING && !PQisBusy(w->conn)) {
			r = PQgetResult(w->conn);
			if (!r) {
				w->state = W_UP;
				w->was_up = true;
				w->backoff_ms = RETRY_MIN_MS;
				sw_info("listening for configuration changes");
				changed_soon(
				    w, true); /* what happened meanwhile */
				break;
			}
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				PQclear(r);
				fail(w);
				return;
			}
			PQclear(r);
		}
		while ((n = PQnotifies(w->conn))) {
			sw_debug("changed: %s", n->extra);
			changed_soon(w, strcmp(n->extra, "blacklist") != 0);
			PQfreemem(n);
		}
		if (PQstatus(w->conn) == CONNECTION_BAD)
			fail(w);
		return;
	case W_DOWN:
		return;
	}
}

static int readable(void *magic, su_wait_t *wt, void *arg)
{
	(void)magic;
	(void)wt;
	step(arg);
	return 0;
}

/* Start listening (connects on the loop); changed runs on the loop. */
int sg_watch_start(struct sg_watch **wp, struct sg *sg, const char *conninfo,
		   void (*changed)(void *arg, bool full), void *arg)
{
	struct sg_watch *w;

	if (!wp || !sg || !conninfo || !changed)
		return EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->conninfo = strdup(conninfo))) {
		free(w);
		return ENOMEM;
	}
	w->sg = sg;
	w->changed = changed;
	w->arg = arg;
	w->fd = -1;
	w->backoff_ms = RETRY_MIN_MS;
	connect_start(w);
	*wp = w;
	return 0;
}

void sg_watch_stop(struct sg_watch *w)
{
	if (!w)
		return;
	unwatch(w);
	sg_timer_stop(&w->retry);
	sg_timer_stop(&w->coalesce);
	if (w->conn)
		PQfinish(w->conn);
	free(w->conninfo);
	free(w);
}
