/*
 * metrics.h - billingd's Prometheus metrics (tandem_billing_*)
 *
 * bd_metrics_alloc() starts the /metrics server of common/metrics.h on
 * metrics_listen (none when empty) and, while it runs, renders and
 * publishes billingd's figures at start and every BD_METRICS_TICK_MS.  The
 * figures come from the modules that own them (resv.c, cdr.c, db.c) at
 * render time; auth.request and auth.extend have no module state of their
 * own, so their counters live here (bd_metrics_auth).
 *
 * Rendering is split in two so that it can be tested without a database:
 * each tick reads a struct bd_metrics_snap off the running process
 * (bd_metrics_snapshot), and bd_metrics_render() turns it into the text.
 *
 * Ownership: struct bd owns its struct bd_metrics, which owns the server.
 * Threading: re_main thread only (the server thread is common/metrics.c's
 * and reads only the published text).
 * Bus:       none.
 */
#ifndef BD_METRICS_H
#define BD_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "billingd/cdr.h"
#include "billingd/db.h"
#include "common/metrics.h"

#define BD_METRICS_TICK_MS 1000

struct bd;
struct bd_metrics;

/* how an auth.request / auth.extend was answered */
enum bd_auth_outcome {
	BD_AUTH_ALLOWED, /* allow:true */
	BD_AUTH_REFUSED, /* allow:false: account, money, rate, card */
	BD_AUTH_ERROR,	 /* an error reply: bad request, database, drain */
	BD_AUTH_OUTCOMES
};

struct bd_auth_stats {
	uint64_t request[BD_AUTH_OUTCOMES];
	uint64_t extend[BD_AUTH_OUTCOMES];
	struct sw_mhist request_us; /* auth.request: received -> answered */
};

/* everything one rendering shows */
struct bd_metrics_snap {
	struct bd_auth_stats auth;
	uint64_t resv_active; /* reservations held */
	int64_t resv_held;    /* micro-units they hold, every level */
	struct bd_cdr_stats cdr;
	struct bd_db_stats db;
};

int bd_metrics_alloc(struct bd_metrics **mp, struct bd *bd,
		     const char *hostport);
void bd_metrics_auth(struct bd_metrics *m, bool extend,
		     enum bd_auth_outcome outcome, int64_t us);
void bd_metrics_snapshot(struct bd_metrics_snap *s, const struct bd_metrics *m);
void bd_metrics_render(struct sw_mtext *t, const struct bd_metrics_snap *s);

#endif /* BD_METRICS_H */
